"""`relaydesk bench push`: webhook accepted -> change on an agent's open inbox, through /live.

A real `relaydesk serve` (embedded, demo organisation) and an agent signed in with a session
cookie holding the Server-Sent Events stream open, as the browser does. Each webhook is sent
one at a time; the latency runs from the POST to (1) the stream's signal for that conversation
and (2) the inbox page, fetched again as the browser's refresh does, showing the new row. The
baseline of the same run is the webhook's own answer (accept only).
"""

from __future__ import annotations

import importlib.util
import json
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from relaydesk.channels.generic import sign

HERE = Path(__file__).resolve().parent
OWNER = "owner@saffron.example"
PASSWORD = "relaydesk"  # the demo organisation's password (config/demo.yaml)


def _queue_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("relaydesk_bench_queue_for_push", HERE / "bench_queue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _login(client: httpx.Client) -> None:
    form = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token is not None, "no login form"
    answer = client.post(
        "/login", data={"email": OWNER, "password": PASSWORD, "login_token": token.group(1), "next": "/"}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login failed: {answer.status_code}")


def _listen(
    client: httpx.Client,
    signals: queue.Queue[tuple[float, dict[str, Any]]],
    ready: threading.Event,
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    """Every signal of the /live stream with the `clock`'s time it came."""
    try:
        with client.stream("GET", "/live", timeout=None) as stream:
            for line in stream.iter_lines():
                if line.startswith("retry:"):
                    ready.set()
                elif line.startswith("data: "):
                    signals.put((clock(), json.loads(line[6:])))
    except (httpx.HTTPError, RuntimeError):
        return  # the run is over and its client closed the stream


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_push(n: int = 100, backend: str = "lexicon") -> dict[str, Any]:
    bench = _queue_bench()
    result: dict[str, Any] = {
        "machine": bench.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    accept_ms: list[float] = []
    signal_ms: list[float] = []
    screen_ms: list[float] = []
    missing = 0
    with bench.sqlite_database() as (database, tmp), bench.relaydesk_server(database, tmp, backend) as server:
        base = f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as agent:
            _login(agent)
            stream_client = httpx.Client(base_url=base, cookies=agent.cookies, timeout=None)
            signals: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
            ready = threading.Event()
            listener = threading.Thread(target=_listen, args=(stream_client, signals, ready), daemon=True)
            listener.start()
            if not ready.wait(30):
                raise RuntimeError("the /live stream did not open")
            seen: set[Any] = set()
            with httpx.Client(timeout=30) as network:
                for i in range(n):
                    body = json.dumps(
                        {
                            "id": f"push-{i}",
                            "author": {"id": f"push-author-{i}", "name": f"Ann {i}"},
                            "text": "Is the shop on Main Street open on Sunday?",
                        }
                    ).encode()
                    headers = {
                        "Content-Type": "application/json",
                        "X-RelayDesk-Signature": sign(body, bench.WEBHOOK_SECRET),
                    }
                    start = time.perf_counter()
                    answer = network.post(
                        bench.webhook_url(server.port, database.account), content=body, headers=headers
                    )
                    accepted = time.perf_counter()
                    if answer.status_code >= 300:
                        raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text[:200]}")
                    # The answer follows the intake commit, before the event is a message: its
                    # conversation is the next new one a signal names (one new author per send).
                    conversation = None
                    heard = None
                    deadline = start + 10
                    while heard is None and time.perf_counter() < deadline:
                        try:
                            at, data = signals.get(timeout=max(0.01, deadline - time.perf_counter()))
                        except queue.Empty:
                            break
                        if data.get("kind") == "MessageAccepted" and data.get("conversation_id") not in seen:
                            conversation = data.get("conversation_id")
                            seen.add(conversation)
                            heard = at
                    if heard is None:
                        missing += 1
                        continue
                    page = agent.get("/").text  # what the browser's refresh fetches
                    shown = time.perf_counter()
                    if f'/conversations/{conversation}"' not in page:
                        missing += 1
                        continue
                    accept_ms.append((accepted - start) * 1000)
                    signal_ms.append((heard - start) * 1000)
                    screen_ms.append((shown - start) * 1000)
                    time.sleep(0.02)
            stream_client.close()
    p99 = _pct(screen_ms, 0.99)
    accept_p99 = _pct(accept_ms, 0.99)
    result.update(
        messages=n,
        missing=missing,
        accept_p50_ms=_round(_pct(accept_ms, 0.5)),
        accept_p99_ms=_round(accept_p99),
        signal_p50_ms=_round(_pct(signal_ms, 0.5)),
        signal_p99_ms=_round(_pct(signal_ms, 0.99)),
        on_screen_p50_ms=_round(_pct(screen_ms, 0.5)),
        on_screen_p99_ms=_round(p99),
    )
    ratio = p99 / accept_p99 if p99 and accept_p99 else None
    result["line"] = bench._line("push", ratio, _round(p99), "ms_p99")
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
