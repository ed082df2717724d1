"""Scale-out: API and worker processes share the PostgreSQL work queue, woken through NATS JetStream."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from relaydesk.channels.base import InboundEvent
from relaydesk.config.service import apply_config
from relaydesk.container import Container, build_container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import make_engine, transaction
from relaydesk.models import ChannelAccount, Message, TimelineEvent, WorkItem
from relaydesk.pipeline import repository as queue
from relaydesk.pipeline.bus.nats import NatsBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager
from tests.conftest import org_config, passwords_hashed_once
from tests.scale.conftest import PrivateNats

LEASE_S = 3.0


def make(url: str, tmp: Path, nats: PrivateNats, *, consume: bool) -> Container:
    settings = Settings(
        database_url=url,
        data_dir=tmp,
        secret_key="k",
        bus_url=nats.url,
        bus_stream="RDWORKERS",
        background_tasks=False,
        work_lease_seconds=LEASE_S,
    )
    return build_container(
        settings,
        engine=make_engine(url),
        triager=LexiconTriager(),
        bus=NatsBus(nats.url, stream="RDWORKERS", ack_wait=2),
        consume=consume,
    )


def wait_until(check: Any, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_workers_process_every_message_once_even_when_one_dies_holding_work(
    pg_schema_url: str, tmp_path: Path, private_nats: PrivateNats
) -> None:
    api = make(pg_schema_url, tmp_path, private_nats, consume=False)
    with transaction(api.sessions) as session, passwords_hashed_once():
        apply_config(session, org_config(), api.box)
        account = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    n = 12
    ours = Message.external_id.like("s%")  # the schema is shared with the other scale tests
    for i in range(n):
        api.pipeline.accept(
            account,
            InboundEvent(
                network="generic", external_id=f"s{i}", author_id=f"a{i}", text=f"Where is order {i}?"
            ),
        )
    # A redelivered webhook adds no work.
    api.pipeline.accept(
        account, InboundEvent(network="generic", external_id="s0", author_id="a0", text="Where is order 0?")
    )
    # Worker A leases the first half and dies before finishing: its leases must run out, not block.
    with transaction(api.sessions) as session:
        held = queue.claim(session, "worker-a", 6, api.pipeline.lease, utcnow())
    assert len(held) == 6

    worker_b = make(pg_schema_url, tmp_path, private_nats, consume=True)
    worker_b.workers.threads = 2
    worker_b.workers.start()

    def all_processed() -> bool:
        with api.sessions() as session:
            done = session.scalar(
                select(func.count(Message.id)).where(Message.processed_at.is_not(None), ours)
            )
        return done == n

    wait_until(all_processed)
    with api.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(ours)) == n
        triaged = session.scalar(
            select(func.count(TimelineEvent.id))
            .join(Message, Message.id == TimelineEvent.message_id)
            .where(TimelineEvent.kind == "triage", ours)
        )
        assert triaged == n  # processed exactly once each, despite the dead worker and the redelivery
        assert session.scalar(select(func.count(WorkItem.id))) == 0
    with transaction(api.sessions) as session:
        assert not queue.complete(session, held[0].id, "worker-a")  # the dead worker's lease is gone
    for container in (worker_b, api):
        container.close()
