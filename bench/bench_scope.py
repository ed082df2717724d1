"""A franchise chain at scale: config apply and scoped inbox reads with 1,000+ locations.

The brief's largest customer is a chain with 1,000+ locations, each with its own accounts, where
every person sees only what they should. This measures, on a fresh database:

- `config apply` of a generated organisation (brand -> regions -> locations, one account per
  location), first apply and an idempotent re-apply;
- the inbox's first page (`ConversationService.page`, the same call the API and UI make) for
  people with different scopes, the scope applied in SQL: an owner (sees everything: the
  baseline of the same run), a regional manager (one region's subtree), a location agent (one
  location, one department) and an agent scoped by department only; each with no filter and
  with a text search.

Conversations are bulk-inserted (the pipeline's own speed is `bench pipeline`); each has one
inbound message so the text search has something to search.

`relaydesk bench scope [--locations 1000] [--conversations 50000] [--database-url URL]`
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from relaydesk.auth.service import scope_for
from relaydesk.config.loader import load_config_text
from relaydesk.config.service import apply_config
from relaydesk.container import build_container
from relaydesk.conversations.repository import ConversationFilters
from relaydesk.core.timeutil import utcnow
from relaydesk.db import make_engine, refresh_planner_statistics, transaction
from relaydesk.migrate import upgrade
from relaydesk.models import ChannelAccount, Contact, Conversation, Department, Location, Message, User
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager

_WORDS = ["order", "late", "refund", "coffee", "cold", "price", "franchise", "job", "thanks", "broken"]


def chain_yaml(regions: int, per_region: int) -> str:
    """The organisation as its owners would write it: a tree of locations, one account each."""
    lines = [
        "organization: {key: chain, name: Bench Chain, timezone: UTC}",
        "business_hours:",
        "  - {key: always, name: Around the clock, weekly: {}}",
        "locations:",
        "  - key: chain",
        "    kind: brand",
        "    name: Bench Chain",
        "    business_hours: always",
        "    children:",
    ]
    accounts = []
    for r in range(regions):
        lines += [
            f"      - key: region-{r}",
            "        kind: region",
            f"        name: Region {r}",
            "        children:",
        ]
        for i in range(per_region):
            key = f"shop-{r}-{i}"
            lines.append(f"          - {{key: {key}, kind: location, name: Shop {r}-{i}}}")
            accounts.append(
                f"  - {{key: {key}-reviews, network: generic, handle: {key}, external_id: {key}, "
                f"location: {key}, credentials: {{webhook_secret: s-{key}}}}}"
            )
    lines += [
        "departments:",
        "  - {key: service, name: Customer service, default: true}",
        "  - {key: sales, name: Sales}",
        "agents:",
        "  - {email: owner@chain.example, name: Owner, handle: owner, role: owner, password: bench-pass}",
        "  - {email: rm@chain.example, name: Regional manager, handle: rm, role: manager,"
        " departments: [service, sales], location: region-1, password: bench-pass}",
        "  - {email: shop@chain.example, name: Shop agent, handle: shop, role: agent,"
        " departments: [service], location: shop-1-1, password: bench-pass}",
        "  - {email: dept@chain.example, name: Sales agent, handle: dept, role: agent,"
        " departments: [sales], password: bench-pass}",
        "accounts:",
        *accounts,
    ]
    return "\n".join(lines) + "\n"


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    out = None
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return times, out


def _ms(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
    }


def _fill(container: Any, conversations: int, seed: int) -> None:
    rng = random.Random(seed)
    with container.sessions() as session:
        accounts = [(a.id, a.org_id, a.location_id) for a in session.scalars(select(ChannelAccount))]
        departments = [d.id for d in session.scalars(select(Department))]
    now = utcnow()
    batch = 5_000
    for start in range(0, conversations, batch):
        size = min(batch, conversations - start)
        with transaction(container.sessions) as session:
            org_id = accounts[0][1]
            contact_ids = list(
                session.scalars(
                    insert(Contact).returning(Contact.id),
                    [
                        {"org_id": org_id, "display_name": f"c{start + i}", "attributes": {}}
                        for i in range(size)
                    ],
                )
            )
            rows = []
            picks = [rng.choice(accounts) for _ in range(size)]
            for i, (account_id, _org, location_id) in enumerate(picks):
                rows.append(
                    {
                        "org_id": org_id,
                        "account_id": account_id,
                        "location_id": location_id,
                        "contact_id": contact_ids[i],
                        "network": "generic",
                        "subject": "",
                        "status": rng.choice(["new", "open", "open", "resolved", "pending"]),
                        "priority": "normal",
                        "department_id": rng.choice(departments),
                        "tags": [],
                        "transfer_count": 0,
                        "last_message_at": now - timedelta(seconds=rng.randrange(30 * 86400)),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conv_ids = list(session.scalars(insert(Conversation).returning(Conversation.id), rows))
            session.execute(
                insert(Message),
                [
                    {
                        "org_id": org_id,
                        "conversation_id": conv_id,
                        "account_id": picks[i][0],
                        "direction": "inbound",
                        "kind": "message",
                        "external_id": f"m{start + i}",
                        "contact_id": contact_ids[i],
                        "text": " ".join(rng.choices(_WORDS, k=6)),
                        "attachments": [],
                        "raw": {},
                        "sent_at": now,
                        "created_at": now,
                    }
                    for i, conv_id in enumerate(conv_ids)
                ],
            )


def run_bench(
    locations: int = 1000,
    conversations: int = 50_000,
    repeats: int = 30,
    database_url: str | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    regions = max(2, min(20, locations // 50))  # the regional manager needs a second region
    per_region = -(-locations // regions)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(database_url=url, data_dir=Path(tmp), secret_key="bench", background_tasks=False)
        container = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
        try:
            result = _run(container, regions, per_region, conversations, repeats, seed)
            result["database"] = engine.dialect.name
            return result
        finally:
            container.close()


def _run(
    container: Any, regions: int, per_region: int, conversations: int, repeats: int, seed: int
) -> dict[str, Any]:
    loaded = load_config_text(chain_yaml(regions, per_region), "chain.yaml", allow_plain_passwords=True)
    if loaded.config is None:
        raise RuntimeError("; ".join(str(p) for p in loaded.problems[:5]))
    config = loaded.config
    applies = []
    for _ in range(2):
        t = time.perf_counter()
        with transaction(container.sessions) as session:
            apply_config(session, config, container.box)
        applies.append(time.perf_counter() - t)
    t = time.perf_counter()
    _fill(container, conversations, seed)
    fill_s = time.perf_counter() - t
    # A running server has statistics: its housekeeping refreshes SQLite's hourly, and
    # PostgreSQL's autovacuum analyses tables after bulk changes like this fill.
    refresh_planner_statistics(container.engine)
    if container.engine.dialect.name == "postgresql":
        with container.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    with container.sessions() as session:
        n_locations = session.scalar(select(Location.id).order_by(Location.id.desc()).limit(1))
        scopes = {
            handle: scope_for(session, session.scalars(select(User).where(User.handle == handle)).one())
            for handle in ("owner", "rm", "shop", "dept")
        }
    reads: dict[str, Any] = {}
    for handle, scope in scopes.items():
        for label, filters in (
            ("first page", ConversationFilters()),
            ("search", ConversationFilters(q="refund")),
        ):

            def page(s: Any = scope, f: ConversationFilters = filters) -> Any:
                return container.conversations.page(s, f, limit=50)

            page()  # warm the statement cache, as a running server has
            times, out = _timed(page, repeats)
            reads[f"{handle}: {label}"] = {**_ms(times), "rows": len(out.items)}
    owner = reads["owner: first page"]["p50_ms"]
    for row in reads.values():
        row["ratio_to_owner"] = round(row["p50_ms"] / owner, 2) if owner else None
    return {
        "locations": regions * per_region,
        "regions": regions,
        "location_rows": n_locations,
        "accounts": regions * per_region,
        "conversations": conversations,
        "config_apply_first_s": round(applies[0], 2),
        "config_apply_again_s": round(applies[1], 2),
        "bulk_fill_s": round(fill_s, 1),
        "reads": reads,
    }


if __name__ == "__main__":  # pragma: no cover
    print(run_bench())
