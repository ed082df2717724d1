"""Wiring: one object holding the engine, bus, models and services of a running RelayDesk."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.analytics.report_service import ReportService
from relaydesk.analytics.rollups import RollupRefresher
from relaydesk.analytics.service import AnalyticsService
from relaydesk.auth.crypto import SecretBox, resolve_secret_key
from relaydesk.channels.outbox import OutboxWorker, default_senders
from relaydesk.contacts.service import ContactService
from relaydesk.conversations.service import ConversationService
from relaydesk.core import live, metrics
from relaydesk.core.events import WorkAvailable
from relaydesk.core.live import LiveSignal
from relaydesk.crisis.watch import CrisisWatch
from relaydesk.db import make_engine, make_session_factory, normalize_url
from relaydesk.guidelines.faq_service import use_embedder as use_faq_embedder
from relaydesk.notifications import listeners as notification_listeners
from relaydesk.notifications import webhooks
from relaydesk.notifications.destination_service import StoredDestinations
from relaydesk.notifications.service import NotificationCentre
from relaydesk.orgs.service import OrgService, org_service
from relaydesk.orgs.snapshot import OrgSnapshots
from relaydesk.pipeline.bus import make_bus
from relaydesk.pipeline.bus.base import Bus
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.pipeline.service import Pipeline
from relaydesk.pipeline.worker import PipelineWorkers, Workers, owner_prefix
from relaydesk.pipeline.worker_process import WorkerProcess
from relaydesk.routing.service import RoutingService
from relaydesk.settings import Settings
from relaydesk.sla.service import SlaService
from relaydesk.triage.base import Triager
from relaydesk.triage.service import LazyTriager, TriageService, load_triager

log = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: Bus
    box: SecretBox
    triage: TriageService
    pipeline: Pipeline
    workers: Workers
    conversations: ConversationService
    outbox: OutboxWorker
    analytics: AnalyticsService
    reports: ReportService
    rollups: RollupRefresher
    crisis_watch: CrisisWatch
    contacts: ContactService
    notifications: NotificationCentre
    orgs: OrgService = field(default_factory=lambda: org_service)
    # How customers' files are fetched from the networks (tests put a fake network here).
    media_transport: Any = None

    def close(self) -> None:
        self.workers.stop()
        self.bus.close()
        self.engine.dispose()


def _beside(settings: Settings) -> bool:
    """Whether a worker process can share this server's database (an in-memory one cannot)."""
    if not (settings.background_tasks and settings.worker_process and settings.resolved_worker_threads()):
        return False
    url = make_url(normalize_url(settings.database_url))
    return not url.get_backend_name().startswith("sqlite") or url.database not in (None, "", ":memory:")


def build_container(
    settings: Settings,
    *,
    engine: Engine | None = None,
    triager: Triager | None = None,
    bus: Bus | None = None,
    consume: bool | None = None,
    worker_process: bool = False,
) -> Container:
    """Wire a RelayDesk process; `consume` listens for the bus's work nudges (scale-out workers);
    `worker_process`: an embedded server drains its queue in a worker process of its own (see
    pipeline/worker_process.py) unless its settings say otherwise."""
    # Once per process: e-mail, webhooks and in-app notifications follow the events they listen to.
    notification_listeners.install()
    feed = live.install()
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    bus = bus or make_bus(settings.bus_url, settings.bus_stream)
    box = SecretBox(resolve_secret_key(settings))
    # Rules' webhook notices find the destinations admins stored, sealed with this box.
    webhooks.use_stored(StoredDestinations(sessions, box))
    beside = worker_process and isinstance(bus, InProcessBus) and _beside(settings)
    # A sentiment head learned from the team's corrections replaces the shipped one (learning_service).
    learned = Path(settings.data_dir) / "models"
    # With a worker process beside it, the server triages only for a rule's dry run.
    triage = TriageService(
        triager
        or (
            LazyTriager(settings.triage_backend, learned)
            if beside
            else load_triager(settings.triage_backend, learned)
        )
    )
    # FAQ suggestions by meaning use the triage model's embedder (loaded on the first suggestion in
    # a server whose worker process triages); with the keyword lexicon they match words.
    use_faq_embedder(triage.embedder)
    snapshots = OrgSnapshots()
    routing = RoutingService(snapshots)
    sla = SlaService(snapshots)
    pipeline = Pipeline(
        sessions,
        bus,
        triage,
        routing,
        sla,
        lease=timedelta(seconds=settings.work_lease_seconds),
        background=settings.background_tasks,
    )
    conversations = ConversationService(sessions, bus, routing, sla)

    workers: Workers = PipelineWorkers(pipeline, threads=settings.resolved_worker_threads())
    if beside:
        workers = WorkerProcess(
            settings,
            threads=settings.resolved_worker_threads(),
            on_signal=lambda fields: feed.relayed(LiveSignal.model_validate(fields)),
            on_metrics=lambda text: metrics.set_other_process("worker", text.encode()),
            surging=pipeline.stager.surging,
            # What it held is taken again by its successor at once (not after the lease).
            on_death=lambda pid: log.info(
                "gave back %d items the worker process held", pipeline.release_leases_of(owner_prefix(pid))
            ),
        )
        pipeline.add_waker(workers.wake)
    elif isinstance(bus, InProcessBus):
        # Embedded: the server's worker threads drain the queue; without them (tests, one-shot
        # commands) the accepting thread drains it right after its commit.
        def drain_now() -> None:
            pipeline.drain()

        pipeline.add_waker(workers.wake if settings.background_tasks else drain_now)
    else:
        # Scale-out: any worker process may take the work; the bus only rings their doorbell.
        pipeline.add_waker(lambda: bus.publish(WorkAvailable()))
        if consume:
            bus.subscribe(WorkAvailable, lambda _event: workers.wake())
        # Pages open on one API process hear what any process (or worker) committed.
        feed.add_relay(bus.broadcast)
        bus.listen(LiveSignal, feed.relayed)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bus=bus,
        box=box,
        triage=triage,
        pipeline=pipeline,
        workers=workers,
        conversations=conversations,
        outbox=OutboxWorker(sessions, box, default_senders()),
        analytics=AnalyticsService(sessions),
        reports=ReportService(sessions),
        rollups=RollupRefresher(sessions),
        crisis_watch=CrisisWatch(sessions, hand_over=routing.hand_over_for_crisis),
        contacts=ContactService(sessions),
        notifications=NotificationCentre(sessions),
    )
