"""A load generator run as its own process: signed generic webhooks over loopback (asyncio + httpx).

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


async def _run(spec: dict[str, Any]) -> dict[str, Any]:
    bodies = _bodies(spec)
    url = spec["url"]
    rate = float(spec.get("rate") or 0)
    limits = httpx.Limits(max_connections=spec["connections"], max_keepalive_connections=spec["connections"])
    latencies: list[float] = []
    sent_at: dict[str, float] = {}
    statuses: dict[str, int] = {}
    accepted: list[str] = []
    counters = {"timeouts": 0, "errors": 0, "sent": 0}
    next_index = 0
    record = bool(spec.get("record_times"))
    async with httpx.AsyncClient(limits=limits, timeout=spec.get("timeout", 10.0)) as client:
        start = time.perf_counter()
        deadline = start + spec["seconds"]

        async def worker() -> None:
            nonlocal next_index
            while True:
                index = next_index
                if index >= len(bodies) or time.perf_counter() >= deadline:
                    return
                next_index += 1
                if rate > 0:
                    due = start + index / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if time.perf_counter() >= deadline:
                        return
                external_id, body, headers = bodies[index]
                began = time.perf_counter()
                if record:
                    sent_at[external_id] = time.time()
                counters["sent"] += 1
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.TimeoutException:
                    counters["timeouts"] += 1
                    continue
                except httpx.HTTPError:
                    counters["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - began)
                key = str(response.status_code)
                statuses[key] = statuses.get(key, 0) + 1
                if 200 <= response.status_code < 300:
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
    }
    if record:
        result["sent_at"] = {key: sent_at[key] for key in accepted}
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(_run(spec))))


if __name__ == "__main__":
    main()
