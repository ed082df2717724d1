"""A load generator run as its own process: signed generic webhooks over loopback (asyncio).

Usage: python bench/loadgen.py '<json spec>'; prints one JSON object with the results.
Bodies and signatures are prepared before the clock starts, so the timed part is only HTTP.
Bounded by count (`n`) and by time (`seconds`). With `rate` > 0 the arrivals follow a schedule
(open loop, at most `connections` requests in flight); otherwise each connection sends its next
request as soon as the previous one is answered (closed loop).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx

TEXTS = [
    "Where is my order? It was supposed to arrive on Monday and nothing came.",
    "I want my money back, the blender broke after two days.",
    "Do you have the blue jacket in size M? I would like to buy two.",
    "Your delivery driver was rude and left the parcel in the rain!!",
    "Thanks a lot, the support team was super helpful yesterday :)",
    "How do I change the address on my account?",
    "Is the shop on Main Street open on Sunday?",
    "This is the third time I write and nobody answers. Unacceptable.",
]


def _bodies(spec: dict[str, Any]) -> list[tuple[str, bytes, dict[str, str]]]:
    from relaydesk.channels.generic import sign

    out = []
    for i in range(spec["start"], spec["start"] + spec["n"]):
        external_id = f"{spec['prefix']}{i}"
        body = json.dumps(
            {
                "id": external_id,
                "author": {"id": f"{spec['prefix']}author-{i % spec['authors']}", "name": f"Customer {i}"},
                "text": f"{TEXTS[i % len(TEXTS)]} (#{i})",
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if spec.get("secret"):
            headers["X-RelayDesk-Signature"] = sign(body, spec["secret"])
        out.append((external_id, body, headers))
    return out


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Connection:
    """One keep-alive HTTP/1.1 connection (raw asyncio streams: httpx's async pool, not the server,
    was the bottleneck at 16+ connections on this machine)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{key}: {value}\r\n" for key, value in headers.items())
        self.writer.write(head.encode() + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding":
                raise ValueError("chunked answers are not supported by this load generator")
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _run(spec: dict[str, Any]) -> dict[str, Any]:
    bodies = _bodies(spec)
    url = httpx.URL(spec["url"])
    host, port, path = url.host, url.port or 80, url.raw_path.decode()
    rate = float(spec.get("rate") or 0)
    timeout = float(spec.get("timeout", 10.0))
    latencies: list[float] = []
    sent_at: dict[str, float] = {}
    statuses: dict[str, int] = {}
    accepted: list[str] = []
    counters = {"timeouts": 0, "errors": 0, "sent": 0}
    next_index = 0
    record = bool(spec.get("record_times"))
    start = time.perf_counter()
    deadline = start + spec["seconds"]

    async def worker() -> None:
        nonlocal next_index
        connection = _Connection(host, port)
        while True:
            index = next_index
            if index >= len(bodies) or time.perf_counter() >= deadline:
                connection.close()
                return
            next_index += 1
            if rate > 0:
                delay = start + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.perf_counter() >= deadline:
                    connection.close()
                    return
            external_id, body, headers = bodies[index]
            began = time.perf_counter()
            if record:
                sent_at[external_id] = time.time()
            counters["sent"] += 1
            try:
                status = await asyncio.wait_for(connection.post(path, body, headers), timeout)
            except TimeoutError:
                counters["timeouts"] += 1
                connection.close()
                continue
            except (OSError, ValueError, asyncio.IncompleteReadError):
                counters["errors"] += 1
                connection.close()
                continue
            latencies.append(time.perf_counter() - began)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if 200 <= status < 300:
                accepted.append(external_id)

    await asyncio.gather(*(worker() for _ in range(spec["connections"])))
    elapsed = time.perf_counter() - start
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    result: dict[str, Any] = {
        "sent": counters["sent"],
        "accepted": len(accepted),
        "statuses": statuses,
        "timeouts": counters["timeouts"],
        "errors": counters["errors"],
        "elapsed_s": round(elapsed, 3),
        "accepted_per_s": round(len(accepted) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(p50 * 1000, 2) if p50 is not None else None,
        "p99_ms": round(p99 * 1000, 2) if p99 is not None else None,
        "accepted_ids": accepted,
    }
    if record:
        result["sent_at"] = {key: sent_at[key] for key in accepted}
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(_run(spec))))


if __name__ == "__main__":
    main()
