"""Prometheus metrics of a RelayDesk process, served as text at /metrics (the `prometheus-client` library).

Every metric lives in one module-level registry, created once per process when this module is
first imported: the tests build many apps in one process, and registering a metric twice in a
registry is an error, so nothing here is created per app. Labels take values from small closed
sets (network names, outcomes); never an organisation, a conversation or customer text, so the
series count stays bounded and one tenant's numbers carry nothing of another's content.

The queue gauges are not kept up to date as work moves: `refresh_queue_gauges` reads them from
the database when /metrics is scraped (one cheap query), so every API process reports the same
queue whichever worker processes drain it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from relaydesk.core.timeutil import as_utc

__all__ = [
    "ACCEPT_SECONDS",
    "BATCH_SECONDS",
    "CONTENT_TYPE_LATEST",
    "MATERIALISED",
    "OUTBOUND_SENDS",
    "PROCESSED",
    "PROCESSING_SECONDS",
    "QUEUE_DEAD",
    "QUEUE_OLDEST_AGE",
    "QUEUE_PENDING",
    "REGISTRY",
    "SLA_BREACHES",
    "SLA_WARNINGS",
    "TRIAGE_BATCH_SECONDS",
    "TRIAGE_SECONDS",
    "WORKER_THREADS",
    "AcceptTimer",
    "backend_name",
    "exposition",
    "refresh_queue_gauges",
    "set_other_process",
]

# No `*_created` series beside every counter and histogram: twice the lines, and no dashboard
# here reads them (Prometheus notices a restart from a counter going down).
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
REGISTRY = CollectorRegistry(auto_describe=True)

# Webhooks must answer in milliseconds (networks retry slow ones), so the buckets are fine there.
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Accept -> processed spans a calm day (milliseconds) and a drained burst (many minutes).
_SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

ACCEPT_SECONDS = Histogram(
    "relaydesk_accept_seconds",
    "Time to answer an inbound webhook (verify, parse, store, commit), per network",
    ["network"],
    buckets=_FAST,
    registry=REGISTRY,
)
PROCESSING_SECONDS = Histogram(
    "relaydesk_processing_seconds",
    "Time from accepting a message to committing its processing (triage, routing, assignment, SLA)",
    buckets=_SLOW,
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "relaydesk_batch_seconds",
    "Time a worker spends on one batch of the work queue (lease, triage, process, commit)",
    buckets=_FAST,
    registry=REGISTRY,
)
MATERIALISED = Counter(
    "relaydesk_materialised",
    "Accepted webhook events stored as messages by the pipeline's workers (or set aside)",
    registry=REGISTRY,
)
PROCESSED = Counter(
    "relaydesk_processed",
    "Work items handled by the pipeline's workers, by outcome (done, retry, dead, lost_lease)",
    ["outcome"],
    registry=REGISTRY,
)
TRIAGE_SECONDS = Histogram(
    "relaydesk_triage_seconds",
    "Time of one triage call, per backend and stage (builtin: built-in intents; "
    "org_intents: the organisation's own intents)",
    ["backend", "stage"],
    buckets=_FAST,
    registry=REGISTRY,
)
TRIAGE_BATCH_SECONDS = Histogram(
    "relaydesk_triage_batch_seconds",
    "Time to triage one batch of the work queue (reading its inputs included), per backend",
    ["backend"],
    buckets=_FAST,
    registry=REGISTRY,
)
OUTBOUND_SENDS = Counter(
    "relaydesk_outbound_sends",
    "Replies handed to a network, by result (sent, retried, failed), per network",
    ["network", "result"],
    registry=REGISTRY,
)
SLA_WARNINGS = Counter(
    "relaydesk_sla_warnings", "SLA warnings raised (a response is due soon)", registry=REGISTRY
)
SLA_BREACHES = Counter(
    "relaydesk_sla_breaches", "SLA breaches raised (a response is overdue)", registry=REGISTRY
)
QUEUE_PENDING = Gauge(
    "relaydesk_queue_pending",
    "Accepted messages waiting for processing (read from the database at scrape time)",
    registry=REGISTRY,
)
QUEUE_OLDEST_AGE = Gauge(
    "relaydesk_queue_oldest_pending_age_seconds",
    "Age of the oldest message waiting for processing; 0 when none waits",
    registry=REGISTRY,
)
QUEUE_DEAD = Gauge(
    "relaydesk_queue_dead",
    "Messages set aside after failing 5 times, waiting for an admin to retry them",
    registry=REGISTRY,
)
WORKER_THREADS = Gauge(
    "relaydesk_worker_threads_alive",
    "Threads of this process draining the work queue",
    registry=REGISTRY,
)

# The networks a webhook path names; anything else is counted as "other" (bounded labels).
_NETWORKS = frozenset({"meta", "x", "generic", "telegram", "line", "webchat"})


def backend_name(triager: object) -> str:
    """A short, stable label for a triage backend: `LexiconTriager` -> `lexicon`."""
    name = type(triager).__name__
    return (name.removesuffix("Triager") or name).lower()


def age_seconds(oldest: datetime | None, now: datetime) -> float:
    moment = as_utc(oldest)
    return 0.0 if moment is None else max(0.0, (now - moment).total_seconds())


def refresh_queue_gauges(
    pending: int, dead: int, oldest: datetime | None, now: datetime, threads: int
) -> None:
    QUEUE_PENDING.set(pending)
    QUEUE_DEAD.set(dead)
    QUEUE_OLDEST_AGE.set(age_seconds(oldest, now))
    WORKER_THREADS.set(threads)


# The latest numbers of this server's other processes (the embedded worker process), by name.
_OTHERS: dict[str, bytes] = {}


def set_other_process(name: str, text: bytes) -> None:
    """Numbers of a process working for this one, added to this one's at /metrics (empty: that
    process has stopped, and its numbers with it)."""
    if text:
        _OTHERS[name] = text
    else:
        _OTHERS.pop(name, None)


def exposition() -> bytes:
    own = generate_latest(REGISTRY)
    others = list(_OTHERS.values())
    return _summed([own, *others]) if others else own


def _summed(texts: list[bytes]) -> bytes:
    """One exposition whose every series is the sum of the same series in each text.

    The embedded server and its worker process count the same metrics, each its own part (the
    server accepts, the worker processes): counters and histogram buckets add up, and a gauge is
    only ever set by one of them (the other's stays 0), as prometheus-client's own multiprocess
    collector sums them.
    """
    families: dict[str, Metric] = {}
    sums: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text.decode()):
            if family.name not in families:
                families[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
            series = sums.setdefault(family.name, {})
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                series[key] = series.get(key, 0.0) + sample.value
    for name, family in families.items():
        for (sample_name, labels), value in sums[name].items():
            family.add_sample(sample_name, dict(labels), value)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(list(families.values())))
    return generate_latest(registry)


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def _network_of(method: str, path: str) -> str | None:
    """The network of an inbound-message request (`POST /webhooks/<network>...`), else None."""
    if method != "POST":
        return None
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "webhooks":
        return parts[2] if parts[2] in _NETWORKS else "other"
    if len(parts) == 4 and parts[1] == "webchat" and parts[3] == "messages":
        return "webchat"
    return None


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AcceptTimer:
    """Times inbound-message requests from arrival to the last byte of the answer, per network.

    A plain ASGI middleware (no per-request task or body copy): it sits on the hot path of
    every webhook, which must stay fast under a burst.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        network = (
            _network_of(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        )
        if network is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            ACCEPT_SECONDS.labels(network=network).observe(time.perf_counter() - started)
