"""`relaydesk route --explain`: what a message would do, with the reason for every step."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from relaydesk.cli.common import console, fail, opened
from relaydesk.core.errors import NotFound
from relaydesk.orgs.service import org_service
from relaydesk.routing.rule_service import rule_service
from relaydesk.routing.schemas import DryRunIn


def route(
    text: Annotated[str, typer.Argument(help="the message text")],
    account: Annotated[str, typer.Option(help="account key the message would arrive on")],
    org: Annotated[str | None, typer.Option(help="organisation key (default: the only one)")] = None,
    lang: Annotated[str | None, typer.Option(help="language hint")] = None,
    vip: Annotated[bool, typer.Option(help="treat the author as a VIP")] = False,
    followers: Annotated[int, typer.Option(help="the author's follower count")] = 0,
    explain: Annotated[bool, typer.Option("--explain", help="print the full rule trace")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Dry-run routing: triage + rules, nothing stored."""
    with opened() as container:
        with container.sessions() as session:
            orgs = org_service.orgs_keyed(session, org, 2)
        if not orgs:
            fail(f"no organisation {org!r}" if org else "no organisation yet: run `relaydesk config apply`")
        if len(orgs) > 1 and not org:
            fail("several organisations: name one with --org")
        body = DryRunIn(text=text, account=account, lang=lang, contact={"vip": vip, "followers": followers})
        try:
            with container.sessions() as session:
                outcome = rule_service.dry_run(session, container, orgs[0].id, body)
        except NotFound as exc:  # the account
            fail(str(exc))
    if json_out:
        console.print_json(json.dumps(outcome, ensure_ascii=False, default=str))
        return
    tri = outcome["triage"]
    console.print(
        f"language={tri['lang']} sentiment={tri['sentiment']} intent={tri['intent']} "
        f"stage={tri['stage']} urgency={tri['urgency']}"
        + "".join(f" {name}" for name in ("spam", "crisis", "complaint") if tri.get(name)),
        highlight=False,
    )
    if explain:
        console.print(outcome["explanation"], highlight=False, markup=False)
    else:
        decision = outcome["decision"]
        console.print(f"department={decision['department']} priority={decision['priority']}", highlight=False)
        for reason in decision.get("reasons", []):
            console.print(f"  - {reason}", highlight=False, markup=False)
