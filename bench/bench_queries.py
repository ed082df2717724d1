"""Reports at franchise scale: the 30-day dashboard from the rollups vs a plain indexed count.

A chain of 1,000 locations (bench_scope's organisation) gets `--conversations` conversations spread
over `--days` days (default 60, so the 30-day dashboard also has a previous period to compare
with), each with one customer message, about two thirds answered, a language, intent, sentiment,
stage, department and agent. The refresher folds them into the rollups (its speed is reported),
then the reports page's own call (`ReportService.report`, 25 lines per table) is timed for:

- the owner (organisation-wide rows), a regional manager (her region's locations) and a one-shop
  agent, 30 days with the comparison period;
- the baseline of the same run: a plain indexed count of the organisation's conversations of
  the last 30 days (`count(*)` over the (org_id, last_message_at) index), the cheapest query that
  still touches the month's data;
- for reference, the old page's scan (`AnalyticsService.kpi_summary`, every conversation read),
  a few times only.

The last line: `queries ratio=R value=V unit=ms` with V the owner's dashboard p95 and R = V over
the baseline's p95 (how many plain counts the whole dashboard costs).

With `--messages-per-conversation N` each conversation holds N messages (the customer's first, then
replies and answers alternating), so `--conversations 2000000 --messages-per-conversation 5` is the
issue's 10-million-message organisation; the dashboard reads none of them, which is the point.

`relaydesk bench queries [--conversations 300000] [--days 60] [--messages-per-conversation 1]
[--database-url URL]`
"""

from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from relaydesk.analytics.report import parse_period
from relaydesk.auth.service import scope_for
from relaydesk.config.loader import load_config_text
from relaydesk.config.service import apply_config
from relaydesk.container import build_container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import make_engine, refresh_planner_statistics, transaction
from relaydesk.migrate import upgrade
from relaydesk.models import ChannelAccount, Contact, Conversation, Department, Message, User
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager


def _scope_bench() -> Any:
    # bench_scope.py beside this file holds the chain's organisation (brand -> regions -> shops).
    path = Path(__file__).with_name("bench_scope.py")
    spec = importlib.util.spec_from_file_location("relaydesk_bench_scope_for_queries", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


LANGUAGES = ("en", "fa", "ar", "he", "th")
INTENTS = (
    "order_issue",
    "refund_request",
    "complaint",
    "question",
    "purchase_interest",
    "praise",
    "job_inquiry",
)
SENTIMENTS = ("positive", "neutral", "negative", "negative")
STAGES = ("pre_purchase", "purchase", "post_purchase", "unknown")
# Above this the old page's scan (minutes per read at millions of conversations) is left out.
OLD_SCAN_LIMIT = 300_000
NETWORKS = ("generic", "facebook", "instagram", "whatsapp", "x", "telegram")


def _fill(container: Any, conversations: int, days: int, seed: int, per_conversation: int = 1) -> None:
    rng = random.Random(seed)
    with container.sessions() as session:
        accounts = [(a.id, a.org_id, a.location_id) for a in session.scalars(select(ChannelAccount))]
        departments = [d.id for d in session.scalars(select(Department))]
        agents = [u.id for u in session.scalars(select(User))]
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
            # ids grow with time, as a live installation's do: batch k holds the k-th slice of the days
            span = days * 86400
            low, high = span * start / conversations, span * (start + size) / conversations
            created = [
                now - timedelta(seconds=span - offset)
                for offset in sorted(rng.uniform(low, high) for _ in range(size))
            ]
            for i, (account_id, _org, location_id) in enumerate(picks):
                answered = rng.random() < 0.66
                first = created[i] + timedelta(seconds=rng.expovariate(1 / 1800)) if answered else None
                rows.append(
                    {
                        "org_id": org_id,
                        "account_id": account_id,
                        "location_id": location_id,
                        "contact_id": contact_ids[i],
                        "network": rng.choice(NETWORKS),
                        "subject": "",
                        "status": "resolved" if answered and rng.random() < 0.7 else "open",
                        "priority": "normal",
                        "department_id": rng.choice(departments),
                        "assignee_id": rng.choice(agents) if answered else None,
                        "language": rng.choice(LANGUAGES),
                        "intent": rng.choice(INTENTS),
                        "sentiment": rng.choice(SENTIMENTS),
                        "stage": rng.choice(STAGES),
                        "tags": [],
                        "transfer_count": 0,
                        "first_response_at": first,
                        "resolved_at": first + timedelta(hours=rng.expovariate(1 / 6)) if first else None,
                        "last_message_at": first or created[i],
                        "created_at": created[i],
                        "updated_at": now,
                    }
                )
            conv_ids = list(session.scalars(insert(Conversation).returning(Conversation.id), rows))
            messages = []
            for i, conv_id in enumerate(conv_ids):
                # the customer opens; then replies and answers alternate, a minute or two apart
                for k in range(per_conversation):
                    at = created[i] + timedelta(seconds=90 * k)
                    messages.append(
                        {
                            "org_id": org_id,
                            "conversation_id": conv_id,
                            "account_id": picks[i][0],
                            "direction": "outbound" if k % 2 else "inbound",
                            "kind": "message",
                            "external_id": f"m{start + i}-{k}",
                            "contact_id": contact_ids[i],
                            "text": "thanks, we are on it" if k % 2 else "hello, my order is late",
                            "attachments": [],
                            "raw": {},
                            "sent_at": at,
                            "created_at": at,
                        }
                    )
            for cut in range(0, len(messages), 20_000):
                session.execute(insert(Message), messages[cut : cut + 20_000])


def run_bench(
    locations: int = 1000,
    conversations: int = 300_000,
    days: int = 60,
    repeats: int = 20,
    database_url: str | None = None,
    seed: int = 11,
    messages_per_conversation: int = 1,
    reuse: bool = False,
) -> dict[str, Any]:
    chain = _scope_bench()
    regions = max(2, min(20, locations // 50))
    per_region = -(-locations // regions)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(database_url=url, data_dir=Path(tmp), secret_key="bench", background_tasks=False)
        container = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
        try:
            if reuse:
                # a database this bench filled before (--database-url): read it again, fill nothing
                with container.sessions() as session:
                    found = int(session.scalar(select(func.count()).select_from(Conversation)) or 0)
                if found == 0:
                    raise RuntimeError("--reuse needs a database this bench filled before (--database-url)")
                return {"database": engine.dialect.name, "conversations": found, "reused": True,
                        **_measure(container, chain, repeats, old_scan=found <= OLD_SCAN_LIMIT)}  # fmt: skip
            loaded = load_config_text(
                chain.chain_yaml(regions, per_region), "chain.yaml", allow_plain_passwords=True
            )
            if loaded.config is None:
                raise RuntimeError("; ".join(str(p) for p in loaded.problems[:5]))
            with transaction(container.sessions) as session:
                apply_config(session, loaded.config, container.box)
            t = time.perf_counter()
            _fill(container, conversations, days, seed, messages_per_conversation)
            fill_s = time.perf_counter() - t
            t = time.perf_counter()
            folded = container.rollups.rebuild()
            fold_s = time.perf_counter() - t
            refresh_planner_statistics(container.engine)
            if container.engine.dialect.name == "postgresql":
                with container.engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
            result = _measure(container, chain, repeats, old_scan=conversations <= OLD_SCAN_LIMIT)
            return {
                "database": engine.dialect.name,
                "locations": regions * per_region,
                "conversations": conversations,
                "messages": conversations * messages_per_conversation,
                "days_of_data": days,
                "fill_s": round(fill_s, 1),
                "rollup_build_s": round(fold_s, 1),
                "rollup_conversations_folded": folded.conversations,
                "rollup_rows": folded.rows,
                "fold_conversations_per_s": round(conversations / fold_s) if fold_s else None,
                **result,
            }
        finally:
            container.close()


def _measure(container: Any, chain: Any, repeats: int, *, old_scan: bool = True) -> dict[str, Any]:
    with container.sessions() as session:
        scopes = {
            handle: scope_for(session, session.scalars(select(User).where(User.handle == handle)).one())
            for handle in ("owner", "rm", "shop")
        }
    owner = scopes["owner"]
    zone = container.reports.zone(owner)
    from relaydesk.analytics.rollups import zone_of

    today = utcnow().astimezone(zone_of(zone)).date()
    period = parse_period("", "", today, default_days=30)
    since = utcnow() - timedelta(days=30)

    def count() -> int:
        with container.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Conversation)
                    .where(Conversation.org_id == owner.org_id, Conversation.last_message_at >= since)
                )
                or 0
            )

    count()
    base_times, counted = chain._timed(count, repeats)
    out: dict[str, Any] = {"baseline_count": {**chain._ms(base_times), "rows": counted}}
    for handle, scope in scopes.items():
        container.reports.report(scope, period, limit=25)  # warm the statement cache, as a running server has
        times, report = chain._timed(lambda s=scope: container.reports.report(s, period, limit=25), repeats)
        out[f"dashboard_{handle}"] = {**chain._ms(times), "conversations": report.totals.conversations}
    if old_scan:
        scan_times, summary = chain._timed(lambda: container.analytics.kpi_summary(owner, since=since), 2)
        out["old_scan_owner"] = {**chain._ms(scan_times), "conversations": summary.conversations}
    value = out["dashboard_owner"]["p95_ms"]
    baseline = out["baseline_count"]["p95_ms"] or 0.01
    out["line"] = f"queries ratio={value / baseline:.2f} value={value:.1f} unit=ms"
    return out


if __name__ == "__main__":  # pragma: no cover
    print(run_bench(conversations=20_000))
