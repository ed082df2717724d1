"""`notification_destinations:`: the named webhooks (Slack/Teams-compatible) that rules and alerts
post to (`notify: ["webhook:<name>"]`).

The URL is a secret. The file gives it as `${VARIABLE}` (resolved at apply, so the file itself
holds none), or as a literal address; the export writes "***", which applied back keeps the stored
URL. The same name and URL rules as the settings page (notifications/destination_values.py). A
file without the section leaves the destinations made in the browser alone; a file with it is the
whole list, and what it no longer names is deleted (nothing else keeps a row of this table).
"""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker
from relaydesk.config.problems import ConfigApplyError, Path_
from relaydesk.config.schemas import REDACTED, NotificationDestinationConfig, env_references
from relaydesk.config.sections import compact
from relaydesk.config.sections.accounts import resolve_credentials
from relaydesk.config.upsert import Upserter
from relaydesk.models import NotificationDestination
from relaydesk.notifications.destination_values import clean_name, name_problem, url_problem

SECTION = "notification_destinations"


def _said(message: str) -> str:
    # destination_values says "url: ..." / "name: ..."; the problem's path already names the field
    return message.partition(": ")[2] or message


def check(c: Checker, destinations: list[tuple[int, NotificationDestinationConfig]]) -> None:
    c.duplicates(SECTION, [(i, d.name) for i, d in destinations], "destination name", "name")
    for index, destination in destinations:
        base: Path_ = (SECTION, index)
        problem = name_problem(destination.name)
        if problem is None and clean_name(destination.name) != destination.name:
            problem = "name: lower case, as rules refer to it (webhook:pr-desk)"
        if problem is not None:
            c.problem((*base, "name"), _said(problem))
        url = destination.url
        variables = env_references(url)
        if url == REDACTED:
            continue  # keeps what is stored; apply says so if nothing is
        if variables:
            for variable in variables:
                if variable not in c.env:
                    c.problem((*base, "url"), f"environment variable {variable} is not set")
            continue
        problem = url_problem(url.strip())
        if problem is not None:
            c.problem((*base, "url"), _said(problem))


def apply(u: Upserter) -> None:
    existing: dict[str, NotificationDestination] = u.rows(NotificationDestination, "name")
    if not u.mentions(SECTION):
        return
    for destination in u.config.notification_destinations:
        where = f"{SECTION}.{destination.name}.url"
        row = existing.pop(destination.name, None)
        sealed: str | None = None
        if destination.url == REDACTED:
            if row is None:
                raise ConfigApplyError(f'{where}: "***" keeps a stored address, and none is stored yet')
        else:
            url = resolve_credentials({"url": destination.url}, u.env, where.rpartition(".")[0])[
                "url"
            ].strip()
            problem = url_problem(url)
            if problem is not None:
                raise ConfigApplyError(f"{where}: {_said(problem)}")
            if row is None or u.box.open(row.url_secret).get("url") != url:
                sealed = u.box.seal({"url": url})
        values: dict[str, Any] = {"name": destination.name, "active": destination.active}
        if sealed is not None:
            values["url_secret"] = sealed
        u.upsert(SECTION, row, NotificationDestination, values)
    for row in existing.values():
        u.remove(SECTION, row)


def export(destinations: list[NotificationDestination]) -> list[dict[str, Any]]:
    return [
        compact({"name": d.name, "url": REDACTED, "active": d.active}, {"active": True}) for d in destinations
    ]
