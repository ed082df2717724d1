"""Pipeline throughput on the embedded default: messages/s through accept -> process.

The baseline, measured in the same run on the same kind of database, is a plain insert of the
same rows with SQLAlchemy: the ratio says what triage, routing, assignment and SLA cost on top.
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from relaydesk.channels.base import InboundEvent
from relaydesk.cli.demo_stream import DEMO_MESSAGES
from relaydesk.config.loader import load_demo_config
from relaydesk.config.service import apply_config
from relaydesk.container import build_container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import make_engine, transaction
from relaydesk.migrate import upgrade
from relaydesk.models import ChannelAccount, Contact, Conversation, Message
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.service import load_triager


def _events(n: int) -> list[tuple[str, InboundEvent]]:
    now = utcnow()
    out = []
    for i in range(n):
        account, _author, name, _minutes, text = DEMO_MESSAGES[i % len(DEMO_MESSAGES)]
        event = InboundEvent(
            network="bench",
            external_id=f"bench-{i}",
            author_id=f"author-{i % 400}",  # returning customers thread into their conversations
            author_name=name,
            text=f"{text} #{i}",
            sent_at=now - timedelta(seconds=n - i),
        )
        out.append((account, event))
    return out


def run_bench(n: int = 600, backend: str = "lexicon") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(database_url=url, data_dir=Path(tmp), secret_key="bench", background_tasks=False)
        container = build_container(
            settings, engine=engine, triager=load_triager(backend), bus=InProcessBus()
        )
        config = load_demo_config().config
        assert config is not None
        with transaction(container.sessions) as session:
            apply_config(session, config, container.box)
        with container.sessions() as session:
            accounts = {a.key: a for a in session.scalars(select(ChannelAccount))}
        events = _events(n)

        # Baseline: the same rows inserted directly, one transaction per message like the pipeline.
        any_account = next(iter(accounts.values()))
        with transaction(container.sessions) as session:
            contact = Contact(org_id=any_account.org_id, display_name="bench", attributes={})
            session.add(contact)
            session.flush()
            conv = Conversation(
                org_id=any_account.org_id,
                account_id=any_account.id,
                location_id=any_account.location_id,
                contact_id=contact.id,
                network=any_account.network,
                tags=[],
            )
            session.add(conv)
            session.flush()
            conv_id, contact_id = conv.id, contact.id
        started = time.perf_counter()
        for _key, event in events:
            with transaction(container.sessions) as session:
                session.execute(
                    insert(Message).values(
                        org_id=any_account.org_id,
                        conversation_id=conv_id,
                        account_id=any_account.id,
                        direction="inbound",
                        external_id="base-" + event.external_id,
                        contact_id=contact_id,
                        text=event.text,
                        attachments=[],
                        raw={},
                        sent_at=event.sent_at,
                        created_at=utcnow(),
                    )
                )
        baseline_s = time.perf_counter() - started

        started = time.perf_counter()
        for key, event in events:
            container.pipeline.accept(accounts[key].id, event)
        pipeline_s = time.perf_counter() - started
        container.close()
    return {
        "messages": n,
        "backend": backend,
        "pipeline_msgs_per_s": round(n / pipeline_s, 1),
        "pipeline_msgs_per_min": round(60 * n / pipeline_s),
        "baseline_insert_msgs_per_s": round(n / baseline_s, 1),
        "ratio_to_baseline": round(baseline_s / pipeline_s, 3),
    }


if __name__ == "__main__":  # pragma: no cover
    print(run_bench())
