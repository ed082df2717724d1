"""Benchmarks of the durable work queue with real processes: ingest, burst, e2e, memory, scale.

Every scenario starts the real `relaydesk serve` / `relaydesk worker` processes, drives them from a
separate load process (bench/loadgen.py: asyncio + httpx, signed generic webhooks with distinct
ids from 2,000 authors) and measures its own baseline in the same run. Each returns a dict whose
"line" is the final `SCENARIO ratio=R value=V unit=U` line.
"""

from __future__ import annotations

import json
import os
import platform
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

from relaydesk.config.loader import load_demo_config
from relaydesk.config.service import apply_config
from relaydesk.container import build_container
from relaydesk.core.timeutil import as_utc
from relaydesk.db import make_engine, make_session_factory, transaction
from relaydesk.migrate import upgrade
from relaydesk.models import ChannelAccount, Message, StagedEvent, WorkItem
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager

HERE = Path(__file__).resolve().parent
SECRET_KEY = "relaydesk-bench-key"
WEBHOOK_SECRET = "demo-generic-secret"  # the demo organisation's generic account (config/demo.yaml)
ACCOUNT_KEY = "saffron-reviews"
AUTHORS = 2000
PG_URL = os.environ.get("RELAYDESK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("RELAYDESK_BENCH_NATS_URL", "nats://127.0.0.1:4222")


def machine() -> str:
    return (
        f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (the peak resident set) of a live process, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (Linux: /proc/PID/task/*/children)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


class Process:
    """A child process with its output in a log file; `ready` polls its /healthz when it serves."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path) -> None:
        self.log = log
        full_env = dict(os.environ)
        full_env.update(env)
        with log.open("ab") as out:
            self.proc = subprocess.Popen(args, env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_http(self, port: int, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"did not answer on port {port} within {seconds:.0f} s: {self.tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def relaydesk(command: str) -> list[str]:
    return [sys.executable, "-m", "relaydesk.cli.main", command]


def load(url: str, prefix: str, n: int, connections: int, seconds: float, **extra: Any) -> dict[str, Any]:
    """Run bench/loadgen.py as a separate process and return its results."""
    spec = {
        "url": url,
        "prefix": prefix,
        "start": 0,
        "n": n,
        "authors": AUTHORS,
        "connections": connections,
        "seconds": seconds,
        "secret": WEBHOOK_SECRET,
        **extra,
    }
    done = subprocess.run(
        [sys.executable, str(HERE / "loadgen.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    result.setdefault("accepted_ids", [])
    return result


class Database:
    """The demo organisation in a fresh database: a SQLite file, or a private PostgreSQL schema."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema
        upgrade(url)
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        settings = Settings(database_url=url, secret_key=SECRET_KEY, background_tasks=False)
        container = build_container(
            settings, engine=self.engine, triager=LexiconTriager(), bus=InProcessBus()
        )
        self.container = container
        config = load_demo_config().config
        assert config is not None
        with transaction(self.sessions) as session:
            apply_config(session, config, container.box)
            self.account = int(
                session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == ACCOUNT_KEY)).one()
            )

    def stored(self, prefix: str) -> int:
        with self.sessions() as session:
            return int(
                session.scalar(select(func.count(Message.id)).where(Message.external_id.like(f"{prefix}%")))
                or 0
            )

    def stored_ids(self, prefix: str) -> set[str]:
        """Durably stored: in the intake queue (accepted, not yet a message) or a message."""
        with self.sessions() as session:
            messages = set(
                session.scalars(select(Message.external_id).where(Message.external_id.like(f"{prefix}%")))
            )
            staged = set(
                session.scalars(
                    select(StagedEvent.external_id).where(StagedEvent.external_id.like(f"{prefix}%"))
                )
            )
            return {str(i) for i in messages | staged}

    def check_stored(self, run: dict[str, Any], prefix: str) -> None:
        """Every message answered with 2xx must be in the database (a timed-out one may be too)."""
        accepted = set(run.pop("accepted_ids"))
        stored = self.stored_ids(prefix)
        run["stored"] = len(stored)
        run["lost"] = len(accepted - stored)
        run["all_stored"] = run["lost"] == 0

    def pending(self) -> int:
        """Accepted events not yet messages, and messages not yet processed."""
        with self.sessions() as session:
            items = session.scalar(select(func.count(WorkItem.id)).where(WorkItem.state == "pending"))
            staged = session.scalar(select(func.count(StagedEvent.id)).where(StagedEvent.state == "pending"))
            return int(items or 0) + int(staged or 0)

    def processed_at(self, prefix: str) -> dict[str, datetime]:
        with self.sessions() as session:
            rows = session.execute(
                select(Message.external_id, Message.processed_at).where(
                    Message.external_id.like(f"{prefix}%"), Message.processed_at.is_not(None)
                )
            ).all()
        out: dict[str, datetime] = {}
        for external_id, processed in rows:
            stamp = as_utc(processed)
            if stamp is not None:
                out[str(external_id)] = stamp
        return out

    def wait_drained(self, seconds: float) -> float | None:
        """Seconds until no work is pending (None: still pending after `seconds`)."""
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            if self.pending() == 0:
                return time.monotonic() - began
            time.sleep(0.25)
        return None

    def close(self) -> None:
        self.container.close()
        self.engine.dispose()


@contextmanager
def sqlite_database() -> Iterator[tuple[Database, Path]]:
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            yield database, Path(tmp)
        finally:
            database.close()


@contextmanager
def postgres_database(base_url: str = PG_URL) -> Iterator[tuple[Database, Path]]:
    """A private schema in `base_url` (dropped at the end) and a temporary data directory."""
    schema = f"rd_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base_url, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
            database = Database(url, schema)
            try:
                yield database, Path(tmp)
            finally:
                database.close()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def serve_env(database: Database, tmp: Path, backend: str = "lexicon", **extra: str) -> dict[str, str]:
    env = {
        "RELAYDESK_DATABASE_URL": database.url,
        "RELAYDESK_DATA_DIR": str(tmp / "data"),
        "RELAYDESK_SECRET_KEY": SECRET_KEY,
        "RELAYDESK_TRIAGE_BACKEND": backend,
    }
    env.update(extra)
    return env


@contextmanager
def relaydesk_server(
    database: Database, tmp: Path, backend: str = "lexicon", **extra: str
) -> Iterator[Process]:
    port = free_port()
    server = Process(
        [*relaydesk("serve"), "--port", str(port)],
        serve_env(database, tmp, backend, **extra),
        tmp / f"serve-{port}.log",
        tmp,
    )
    server.port = port  # type: ignore[attr-defined]
    try:
        server.wait_http(port)
        yield server
    finally:
        server.stop()


def webhook_url(port: int, account: int) -> str:
    return f"http://127.0.0.1:{port}/webhooks/generic/{account}"


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _line(scenario: str, ratio: float | None, value: float | None, unit: str) -> str:
    ratio_text = "n/a" if ratio is None else f"{ratio:.3f}"
    value_text = "n/a" if value is None else f"{value:g}"
    return f"{scenario} ratio={ratio_text} value={value_text} unit={unit}"


# -- ingest -------------------------------------------------------------------------------------


def run_ingest(
    seconds: float = 10.0, n: int = 30_000, connections: tuple[int, ...] = (16, 64), backend: str = "lexicon"
) -> dict[str, Any]:
    """Accepted messages/s of `relaydesk serve` (embedded SQLite) vs plain FastAPI + uvicorn."""
    result: dict[str, Any] = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    with sqlite_database() as (database, tmp):
        port = free_port()
        baseline = Process(
            [sys.executable, str(HERE / "baseline_app.py"), str(port)], {}, tmp / "baseline.log", tmp
        )
        try:
            baseline.wait_http(port)
            url = webhook_url(port, database.account)
            load(url, "warm-", 300, 16, 10)
            for c in connections:
                base = load(url, f"base{c}-", n, c, seconds)
                base.pop("accepted_ids")
                result[f"baseline_c{c}"] = base
        finally:
            baseline.stop()
        with relaydesk_server(database, tmp, backend) as server:
            url = webhook_url(server.port, database.account)  # type: ignore[attr-defined]
            load(url, "warm-", 300, 16, 10)
            for c in connections:
                prefix = f"rd{c}-"
                run = load(url, prefix, n, c, seconds)
                database.check_stored(run, prefix)
                result[f"relaydesk_c{c}"] = run
            drained = database.wait_drained(600)
            result["processing_drained_after_s"] = _round(drained)
    headline = max(connections)
    ours = result[f"relaydesk_c{headline}"]
    base = result[f"baseline_c{headline}"]
    ratio = ours["accepted_per_s"] / base["accepted_per_s"] if base["accepted_per_s"] else None
    if not all(result[f"relaydesk_c{c}"]["all_stored"] for c in connections):
        result["warning"] = "not every accepted message was found in the database"
    result["line"] = _line("ingest", ratio, ours["accepted_per_s"], "msg/s")
    return result


# -- processing capacity, burst, e2e ----------------------------------------------------------


def measure_capacity(database: Database, port: int, n: int = 400) -> dict[str, Any]:
    """Messages/s the server processes (accept fast, then time until the queue is empty)."""
    began = time.monotonic()
    posted = load(webhook_url(port, database.account), "cap-", n, 16, 60)
    drained = database.wait_drained(600)
    elapsed = time.monotonic() - began
    return {
        "messages": posted["accepted"],
        "seconds": round(elapsed, 2),
        "msg_per_s": round(posted["accepted"] / elapsed, 1) if drained is not None else None,
    }


def run_burst(seconds: float = 10.0, factor: float = 20.0, backend: str = "lexicon") -> dict[str, Any]:
    """Offer `factor` times the processing capacity for `seconds`, then quiet: timeouts, loss, drain."""
    result: dict[str, Any] = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    with sqlite_database() as (database, tmp), relaydesk_server(database, tmp, backend) as server:
        port = server.port  # type: ignore[attr-defined]
        capacity = measure_capacity(database, port)
        result["capacity"] = capacity
        rate = factor * (capacity["msg_per_s"] or 50.0)
        n = int(rate * seconds)
        burst = load(webhook_url(port, database.account), "burst-", n, 64, seconds, rate=rate, timeout=10.0)
        burst_end = time.monotonic()
        burst["offered_per_s"] = round(rate, 1)
        database.check_stored(burst, "burst-")
        burst["pending_at_end"] = database.pending()
        result["burst"] = burst
        drained = database.wait_drained(1800)
        result["drain_s_after_burst"] = _round(None if drained is None else time.monotonic() - burst_end)
    ratio = burst["accepted_per_s"] / capacity["msg_per_s"] if capacity["msg_per_s"] else None
    result["line"] = _line("burst", ratio, result["drain_s_after_burst"], "s_to_drain")
    return result


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    ordered = sorted(values)
    pick: Callable[[float], float] = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return pick(0.5), pick(0.99)


def run_e2e(seconds: float = 60.0, backend: str = "lexicon") -> dict[str, Any]:
    """Webhook sent -> conversation routed and assigned (or queued in its department when no
    agent is free) -> pushed to an open page (the /live stream), at half the processing capacity.

    Two numbers per run: every message from its send to its processing committed (`e2e_*`), and
    every conversation the run opened from the send of its first message to the signal of its
    processing on an owner's Server-Sent Events stream, as a browser holds it open (`pushed_*`;
    the scenario's value).
    """
    result: dict[str, Any] = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    import bench_push as push  # type: ignore[import-not-found]  # bench/ is on sys.path (below)

    with sqlite_database() as (database, tmp), relaydesk_server(database, tmp, backend) as server:
        port = server.port  # type: ignore[attr-defined]
        capacity = measure_capacity(database, port)
        result["capacity"] = capacity
        rate = 0.5 * (capacity["msg_per_s"] or 20.0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as agent:
            push._login(agent)
            stream = httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies=agent.cookies, timeout=None)
            signals: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
            ready = threading.Event()
            # Wall-clock times, as the load process stamps its sends.
            listener = threading.Thread(
                target=push._listen, args=(stream, signals, ready, time.time), daemon=True
            )
            listener.start()
            if not ready.wait(30):
                raise RuntimeError("the /live stream did not open")
            run = load(
                webhook_url(port, database.account),
                "e2e-",
                int(rate * seconds) + 1,
                16,
                seconds,
                rate=rate,
                record_times=True,
            )
            sent_at = run.pop("sent_at")
            database.check_stored(run, "e2e-")
            database.wait_drained(600)
            time.sleep(1.0)  # the last signals on their way
            stream.close()
        heard = list(signals.queue)
        processed = database.processed_at("e2e-")
        latencies = [processed[key].timestamp() - sent for key, sent in sent_at.items() if key in processed]
        p50, p99 = _percentiles(latencies)
        run["offered_per_s"] = round(rate, 1)
        run["processed"] = len(latencies)
        run["e2e_p50_ms"] = _round(None if p50 is None else p50 * 1000)
        run["e2e_p99_ms"] = _round(None if p99 is None else p99 * 1000)
        pushed, missing = _pushed_latencies(database, sent_at, heard)
        q50, q99 = _percentiles(pushed)
        run["conversations"] = len(pushed) + missing
        run["pushed_missing"] = missing
        run["pushed_p50_ms"] = _round(None if q50 is None else q50 * 1000)
        run["pushed_p99_ms"] = _round(None if q99 is None else q99 * 1000)
        result["e2e"] = run
    # Baseline of the same run: the webhook's own answer (accept only) at that load.
    accept_p99 = run["p99_ms"]
    value = run["pushed_p99_ms"]
    ratio = value / accept_p99 if value and accept_p99 else None
    result["line"] = _line("e2e", ratio, value, "ms_p99")
    return result


def _pushed_latencies(
    database: Database, sent_at: dict[str, float], heard: list[tuple[float, dict[str, Any]]]
) -> tuple[list[float], int]:
    """Per conversation the run's messages opened: its first message's send -> the first signal
    of its processing (routed, assigned); and how many conversations no such signal reached."""
    with database.sessions() as session:
        rows = session.execute(
            select(Message.external_id, Message.conversation_id).where(Message.external_id.like("e2e-%"))
        ).all()
    first_sent: dict[int, float] = {}
    for external_id, conversation_id in rows:
        sent = sent_at.get(str(external_id))
        if sent is not None:
            first_sent[conversation_id] = min(sent, first_sent.get(conversation_id, sent))
    processed_at: dict[int, float] = {}
    for at, data in heard:
        conversation_id = data.get("conversation_id")
        if data.get("kind") in PROCESSED_SIGNALS and conversation_id in first_sent:
            processed_at.setdefault(conversation_id, at)
    latencies = [processed_at[c] - sent for c, sent in first_sent.items() if c in processed_at]
    return latencies, len(first_sent) - len(latencies)


# What an open page hears once a message is processed (MessageAccepted comes before, at intake).
PROCESSED_SIGNALS = ("ConversationUpdated", "ConversationAssigned")


# -- memory ---------------------------------------------------------------------------------------


def _bare_fastapi_rss() -> float | None:
    code = (
        "import fastapi, uvicorn\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'): print(int(line.split()[1]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    try:
        return round(int(done.stdout.strip()) / 1024, 1)
    except ValueError:
        return None


def run_memory(backend: str = "model", requests: int = 20, database_url: str = PG_URL) -> dict[str, Any]:
    """Peak RSS of `serve` with the triage model loaded, and of one scale-out `worker`."""
    result: dict[str, Any] = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "backend": backend,
        "baseline_python_fastapi_mb": _bare_fastapi_rss(),
    }
    with sqlite_database() as (database, tmp), relaydesk_server(database, tmp, backend) as server:
        load(webhook_url(server.port, database.account), "mem-", requests, 4, 60)  # type: ignore[attr-defined]
        database.wait_drained(300)
        result["serve_mb"] = peak_rss_mb(server.pid)
        # The embedded server's worker process (it holds the triage model; the server loads it
        # only for a rule's dry run): the installation's total is the two together.
        children = [peak_rss_mb(pid) for pid in child_pids(server.pid)]
        result["serve_worker_process_mb"] = sum(mb for mb in children if mb) or None
        serve_mb = result["serve_mb"]
        result["embedded_total_mb"] = (
            round(serve_mb + (result["serve_worker_process_mb"] or 0), 1) if serve_mb else None
        )
    try:
        result["worker_mb"] = _worker_rss(backend, requests, database_url)
    except Exception as exc:
        result["worker_mb"] = None
        result["worker_error"] = f"{type(exc).__name__}: {exc}"[:500]
    base = result["baseline_python_fastapi_mb"]
    # The embedded installation as a user runs it: `serve` and its worker process together.
    total = result.get("embedded_total_mb")
    ratio = total / base if total and base else None
    result["line"] = _line("memory", ratio, total, "MB_peak_rss_serve_and_its_worker")
    return result


def _worker_rss(backend: str, requests: int, database_url: str) -> float | None:
    stream = f"RDBENCH{uuid.uuid4().hex[:8].upper()}"
    with postgres_database(database_url) as (database, tmp):
        env = serve_env(database, tmp, backend, RELAYDESK_BUS_URL=NATS_URL, RELAYDESK_BUS_STREAM=stream)
        worker = Process(relaydesk("worker"), env, tmp / "worker.log", tmp)
        try:
            with relaydesk_server(
                database, tmp, "lexicon", RELAYDESK_BUS_URL=NATS_URL, RELAYDESK_BUS_STREAM=stream
            ) as server:
                load(webhook_url(server.port, database.account), "memw-", requests, 4, 60)  # type: ignore[attr-defined]
                if database.wait_drained(300) is None:
                    raise RuntimeError(f"the worker did not drain the queue: {worker.tail()}")
                return peak_rss_mb(worker.pid)
        finally:
            worker.stop()


# -- scale --------------------------------------------------------------------------------------


def run_scale(
    n: int = 2000, workers: tuple[int, ...] = (1, 2, 4), threads: int = 2, database_url: str = PG_URL
) -> dict[str, Any]:
    """Processing messages/s with 1, 2, 4 `relaydesk worker` processes (PostgreSQL + NATS, lexicon)."""
    result: dict[str, Any] = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "messages_per_run": n,
        "threads_per_worker": threads,
    }
    from loadgen import TEXTS  # type: ignore[import-not-found]  # bench/ is on sys.path (below)

    from relaydesk.channels.base import InboundEvent

    for count in workers:
        stream = f"RDSCALE{uuid.uuid4().hex[:8].upper()}"
        with postgres_database(database_url) as (database, tmp):
            # The backlog is accepted first (directly, no HTTP): the run times processing alone.
            pipeline = database.container.pipeline
            for i in range(n):
                pipeline.accept(
                    database.account,
                    InboundEvent(
                        network="generic",
                        external_id=f"scale-{i}",
                        author_id=f"scale-author-{i % AUTHORS}",
                        text=f"{TEXTS[i % len(TEXTS)]} (#{i})",
                    ),
                    publish=False,
                )
            env = serve_env(
                database,
                tmp,
                "lexicon",
                RELAYDESK_BUS_URL=NATS_URL,
                RELAYDESK_BUS_STREAM=stream,
                RELAYDESK_WORKER_THREADS=str(threads),
            )
            procs = [Process(relaydesk("worker"), env, tmp / f"worker-{k}.log", tmp) for k in range(count)]
            try:
                drained = database.wait_drained(1800)
            finally:
                for proc in procs:
                    proc.stop()
            # From the first message processed to the last: the processes' start-up is not counted.
            stamps = sorted(database.processed_at("scale-").values())
            elapsed = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else 0.0
            result[f"workers_{count}"] = {
                "processed": len(stamps),
                "seconds": round(elapsed, 2),
                "msg_per_s": round(len(stamps) / elapsed, 1) if drained is not None and elapsed else None,
            }
    one = result[f"workers_{workers[0]}"]["msg_per_s"]
    top = result[f"workers_{workers[-1]}"]["msg_per_s"]
    ratio = top / one if one and top else None
    result["line"] = _line("scale", ratio, top, f"msg/s_{workers[-1]}_workers")
    return result


if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
