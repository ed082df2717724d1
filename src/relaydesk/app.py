"""FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from relaydesk import __version__
from relaydesk.auth.crypto import SecretKeyMissing
from relaydesk.channels.door import PlainDoor
from relaydesk.channels.mentions import MentionDetails
from relaydesk.container import Container, build_container
from relaydesk.core import metrics
from relaydesk.core.errors import Forbidden, UserError
from relaydesk.core.metrics import AcceptTimer
from relaydesk.core.openapi import document_errors
from relaydesk.core.redact import install_access_log_redaction
from relaydesk.core.timeutil import utcnow
from relaydesk.db import ping, refresh_planner_statistics
from relaydesk.deps import get_scope
from relaydesk.pipeline.bus.base import BusUnavailable
from relaydesk.pipeline.queue_service import QueueStats, queue_service
from relaydesk.pipeline.staging import StagingTimeout
from relaydesk.settings import Settings, get_settings
from relaydesk.web import unavailable
from relaydesk.web.headers import SecurityHeaders
from relaydesk.web.limits import BodyLimitMiddleware

log = logging.getLogger(__name__)
STATISTICS_EVERY_S = 3600.0  # planner statistics drift slowly; hourly is plenty
READY_CHECK_S = 5.0  # a database that has not answered SELECT 1 by then counts as down


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route answers on this path (included routers nest, so ask each route)."""
    return [
        method
        for method in _HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in app.router.routes
        )
    ]


async def _housekeeping(container: Container, stop: asyncio.Event, every: float = 15.0) -> None:
    """Wake snoozed conversations and raise SLA warnings/breaches while the server runs."""
    from fastapi.concurrency import run_in_threadpool

    last_statistics = -math.inf
    # A worker process of this server runs the timers itself, beside the queue it drains.
    timers_here = not container.workers.runs_timers
    while not stop.is_set():
        if timers_here:
            try:
                await run_in_threadpool(container.conversations.tick)
            except Exception:
                log.exception("housekeeping failed; retrying")
        if time.monotonic() - last_statistics > STATISTICS_EVERY_S:
            last_statistics = time.monotonic()
            try:
                await run_in_threadpool(refresh_planner_statistics, container.engine)
            except Exception:
                log.exception("refreshing planner statistics failed; retrying later")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass


async def _repeating(stop: asyncio.Event, every: float, what: str, job: Callable[[], object]) -> None:
    """Run `job` in a thread every `every` seconds until `stop`; a failure is logged and retried."""
    from fastapi.concurrency import run_in_threadpool

    while not stop.is_set():
        try:
            await run_in_threadpool(job)
        except Exception:
            log.exception("%s failed; retrying", what)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass


async def _report_rollups(container: Container, stop: asyncio.Event, every: float = 15.0) -> None:
    """Fold what changed into the reports' rollups (analytics/rollups.py); apart from the SLA
    timers, because the first pass after an upgrade folds every past day and may take minutes."""
    await _repeating(
        stop, every, "refreshing the report rollups", lambda: container.rollups.run_once(stopping=stop.is_set)
    )


async def _crisis_watch(container: Container, stop: asyncio.Event, every: float = 60.0) -> None:
    """Count, learn and raise crisis alerts once a minute (crisis/watch.py); old counts go hourly."""
    last_purge = -math.inf

    def once() -> None:
        nonlocal last_purge
        container.crisis_watch.run_once()
        if time.monotonic() - last_purge > 3600:
            last_purge = time.monotonic()
            container.crisis_watch.forget_old_counts()

    await _repeating(stop, every, "the crisis watch", once)


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or get_settings()
    container = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if settings.background_tasks:
            container.workers.start()
            # As the triage model used to load before the server listened: the first customers
            # after a start wait for nothing (a worker process loads it, ~1-5 s).
            if not await asyncio.to_thread(container.workers.wait_ready):
                log.warning("the worker process is not ready yet; messages wait in the queue for it")
            tasks.append(asyncio.create_task(_housekeeping(container, stop)))
            tasks.append(asyncio.create_task(_report_rollups(container, stop)))
            tasks.append(asyncio.create_task(_crisis_watch(container, stop)))
            # The outbox worker sends queued replies every second (channels/outbox.py).
            tasks.append(asyncio.create_task(container.outbox.run_forever(stop)))
            # Instagram mentions held for their text and author (channels/mentions.py).
            tasks.append(asyncio.create_task(MentionDetails.of(container).run_forever(stop)))
        yield
        stop.set()
        for task in tasks:
            await task
        container.close()

    app = FastAPI(
        title="RelayDesk",
        version=__version__,
        description="Self-hosted social customer-care hub: one inbox for every network and team.",
        lifespan=lifespan,
        # Our own /docs, /redoc and /openapi.json (web/docs.py): local assets, optionally private.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.container = container
    # Innermost: times each inbound-message request's own work, per network (core/metrics.py).
    app.add_middleware(AcceptTimer)
    # Counted while the body streams, on every route: a chunked upload cannot skip the limit.
    app.add_middleware(
        BodyLimitMiddleware, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes
    )
    # Added last, so outermost: every answer gets the headers, a 413 of the limit above included.
    app.add_middleware(SecurityHeaders, production=settings.production, hsts_max_age=settings.hsts_max_age)
    # Outside all of them: plain per-account deliveries under a surge skip the framework's stack
    # (channels/door.py answers them with the same status, headers and metric).
    app.add_middleware(
        PlainDoor, container=container, production=settings.production, hsts_max_age=settings.hsts_max_age
    )
    install_access_log_redaction()

    from relaydesk.web.pages import error_page, wants_page

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if wants_page(request):
            return error_page(request, 422, "")
        errors = [
            {"field": _field_path(err.get("loc", ())), "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
        return JSONResponse(status_code=422, content={"detail": summary, "errors": errors})

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code, content={**getattr(exc, "extra", {}), "detail": str(exc)}
        )

    @app.exception_handler(Forbidden)
    async def forbidden(_request: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_down(_request: Request, exc: Exception) -> JSONResponse:
        # Nothing half-written: every write is one transaction, rolled back on this error.
        log.error("database error: %s", type(exc).__name__)
        return unavailable.answer(unavailable.DATABASE)

    @app.exception_handler(StagingTimeout)
    async def intake_stuck(_request: Request, exc: StagingTimeout) -> JSONResponse:
        # The group commit did not answer in time: the events may be stored or not, and a
        # redelivery maps onto whatever was stored, so the sender must retry.
        log.error("intake queue: %s", exc)
        return unavailable.answer(unavailable.INTAKE)

    @app.exception_handler(BusUnavailable)
    async def bus_down(_request: Request, exc: BusUnavailable) -> JSONResponse:
        # Scale-out: NATS stayed away longer than a publish may wait. What was committed stays
        # stored; answering 503 makes the sender retry instead of trusting a success we can't vouch for.
        log.error("bus unavailable: %s", exc)
        return unavailable.answer(unavailable.BUS)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def value_out_of_range(_request: Request, exc: Exception) -> JSONResponse:
        # An id or number beyond what the database stores (SQLite refuses to bind it, PostgreSQL
        # answers "out of range"): the request can never succeed, so no 503 asking for a retry.
        log.info("value out of range: %s", type(exc).__name__)
        return JSONResponse(
            status_code=422,
            content={"detail": "a number in the request is out of range for the database"},
        )

    @app.exception_handler(SecretKeyMissing)
    async def secrets_unreadable(_request: Request, exc: SecretKeyMissing) -> JSONResponse:
        # A deployment fault, not the caller's: say what to fix; a network retries a 503 later,
        # so nothing it sends meanwhile is lost.
        log.error("credentials unreadable: %s", exc)
        return JSONResponse(status_code=503, content={"detail": str(exc)}, headers={"Retry-After": "60"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; a client needs them all.
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        if exc.status_code in (404, 405) and wants_page(request):
            page = error_page(request, exc.status_code, str(exc.detail))
            page.headers.update(headers)
            return page
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(status_code=500, content={"detail": "internal error; it has been logged"})

    from relaydesk.analytics.endpoints import router as reports_router
    from relaydesk.audit.endpoints import router as audit_router
    from relaydesk.auth.endpoints import router as auth_router
    from relaydesk.channels.account_endpoints import router as accounts_router
    from relaydesk.channels.endpoints import router as webhooks_router
    from relaydesk.channels.webchat import router as webchat_router
    from relaydesk.config.endpoints import router as config_router
    from relaydesk.contacts.endpoints import router as contacts_router
    from relaydesk.conversations.canned_endpoints import router as canned_router
    from relaydesk.conversations.endpoints import router as conversations_router
    from relaydesk.conversations.endpoints import views_router
    from relaydesk.crisis.alert_endpoints import router as alerts_router
    from relaydesk.crisis.endpoints import router as listening_router
    from relaydesk.guidelines.auto_answer_endpoints import router as auto_answers_router
    from relaydesk.guidelines.endpoints import router as faq_router
    from relaydesk.guidelines.guideline_endpoints import router as guidelines_router
    from relaydesk.notifications.destination_endpoints import router as destinations_router
    from relaydesk.notifications.endpoints import router as notifications_router
    from relaydesk.orgs.endpoints import router as orgs_router
    from relaydesk.orgs.people_endpoints import router as people_router
    from relaydesk.pipeline.endpoints import router as work_router
    from relaydesk.routing.endpoints import router as routing_router
    from relaydesk.routing.endpoints import rules_router

    # Routes are matched in order: the webhooks first, since a surge is made of them.
    app.include_router(webhooks_router)
    app.include_router(auth_router)
    app.include_router(conversations_router)
    app.include_router(views_router)
    app.include_router(config_router)
    app.include_router(orgs_router)
    app.include_router(people_router)
    app.include_router(rules_router)
    app.include_router(reports_router)
    app.include_router(routing_router)
    app.include_router(notifications_router)
    app.include_router(destinations_router)
    app.include_router(webchat_router)
    app.include_router(listening_router)
    app.include_router(contacts_router)
    app.include_router(work_router)
    app.include_router(audit_router)
    app.include_router(auto_answers_router)
    app.include_router(accounts_router)
    app.include_router(faq_router)
    app.include_router(guidelines_router)
    app.include_router(canned_router)
    app.include_router(alerts_router)

    from fastapi.staticfiles import StaticFiles

    from relaydesk.web.docs import docs_router
    from relaydesk.web.pages import router as pages_router

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "web" / "static")), name="static")
    app.include_router(docs_router(app))
    app.include_router(pages_router)

    base_openapi = app.openapi
    documented: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not documented:
            documented.update(document_errors(base_openapi()))
        return documented

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. It says nothing about the database or the bus (see /readyz)."""
        return {"status": "ok", "version": __version__}

    def queue_now() -> QueueStats:
        with container.sessions() as session:
            return queue_service.stats(session)

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """Readiness: the database answers SELECT 1 and the bus is connected; 503 names what is down.

        `queue` reports the work waiting (`pending`, `oldest_pending_age_seconds`, `dead`); a long
        queue does not make the process unready: it is accepting, and the workers catch up.
        """
        from fastapi.concurrency import run_in_threadpool

        checks: dict[str, Any] = {"database": "ok", "bus": "ok"}
        try:
            await asyncio.wait_for(run_in_threadpool(ping, container.engine), READY_CHECK_S)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the cause is logged
            log.warning("readiness: database unavailable (%s)", type(exc).__name__)
            checks["database"] = "unavailable"
        else:
            try:
                # Counted apart from the ping: a slow count under a huge backlog is no outage.
                stats = await asyncio.wait_for(run_in_threadpool(queue_now), READY_CHECK_S)
            except Exception as exc:  # noqa: BLE001 - informative only; readiness stands
                log.warning("readiness: queue not counted (%s)", type(exc).__name__)
                checks["queue"] = None
            else:
                checks["queue"] = {
                    "pending": stats.pending,
                    "oldest_pending_age_seconds": round(
                        metrics.age_seconds(stats.oldest_pending_at, utcnow()), 3
                    ),
                    "dead": stats.dead,
                }
        if not container.bus.connected():
            checks["bus"] = "unavailable"
        down = [part for part in ("database", "bus") if checks[part] != "ok"]
        if down:
            return JSONResponse(
                status_code=503,
                content={"detail": f"not ready: {' and '.join(down)} unavailable", **checks},
                headers={"Retry-After": "5"},
            )
        return JSONResponse({"status": "ready", **checks})

    @app.get(
        "/metrics",
        tags=["ops"],
        response_class=Response,
        responses={200: {"content": {metrics.CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    )
    async def prometheus_metrics(request: Request) -> Response:
        """Prometheus metrics of this process, and the work queue read from the database.

        Open to anyone unless RELAYDESK_METRICS_PUBLIC says otherwise (default: open in
        development, owners and admins only in production).
        """
        from fastapi.concurrency import run_in_threadpool

        if not container.settings.metrics_open:
            scope = await run_in_threadpool(get_scope, request, container)
            if not scope.can_configure:
                raise HTTPException(status_code=403, detail="only owners and admins can read /metrics")
        try:
            stats = await asyncio.wait_for(run_in_threadpool(queue_now), READY_CHECK_S)
        except Exception as exc:  # noqa: BLE001 - the process's own metrics are still worth serving
            log.warning("metrics: queue not read, the database is unavailable (%s)", type(exc).__name__)
        else:
            metrics.refresh_queue_gauges(
                stats.pending, stats.dead, stats.oldest_pending_at, utcnow(), container.workers.alive
            )
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE_LATEST)

    return app
