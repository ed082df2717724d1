"""The mean e5 query vector of each language, so vectors can be compared across languages.

A multilingual embedding puts a sentence near the same sentence in another language, but also near
any sentence in its own language: every vector carries a "which language" component. Subtracting
each language's mean removes most of it, and "when do you close" in English lands nearer
"ساعت کاری شما" than the English "when do you open the account" does (`relaydesk eval faq`).

The means ship in `weights/language_means.npz`, computed by `build` from the product's own
hand-written customer-care sentences (seeds.py, the built-in intents' examples: 84-174 a language).
Adding up to `PER_LANGUAGE` training rows of the permitted datasets (`--data`) was tried and made
it worse where those rows are far from customer care (Hebrew: comments on a president's page;
`relaydesk eval faq` top-3 for Hebrew 0.65 with them, 0.82 without), so they are off by default.
`python -m relaydesk.triage.language_means` writes them again.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from functools import lru_cache
from pathlib import Path

import numpy as np

from relaydesk.triage.embed import Embedder

LANGUAGES = ("en", "fa", "ar", "he", "th")
PER_LANGUAGE = 300
PATH = Path(__file__).with_name("weights") / "language_means.npz"


def texts_for_means(data: Path | None, seed: int = 13) -> dict[str, list[str]]:
    from relaydesk.triage.builtin_intents import EXAMPLES_BY_LANG
    from relaydesk.triage.seeds import seed_sentiment_rows

    texts: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for text, _label, lang in seed_sentiment_rows():
        texts[lang].append(text)
    for by_lang in EXAMPLES_BY_LANG.values():
        for lang, phrases in by_lang.items():
            if lang in texts:
                texts[lang] += list(phrases)
    if data is not None:
        pool: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
        with gzip.open(data, "rt", encoding="utf-8") as rows:
            for line in rows:
                row = json.loads(line)
                if (
                    row.get("license_permits_redistribution")
                    and row.get("split") == "train"
                    and row.get("lang") in pool
                ):
                    pool[row["lang"]].append(row["text"])
        rng = random.Random(seed)
        for lang, found in pool.items():
            rng.shuffle(found)
            texts[lang] += found[:PER_LANGUAGE]
    return texts


def build(embedder: Embedder, data: Path | None, out: Path = PATH) -> dict[str, int]:
    """Write the means; returns how many texts each is the mean of."""
    texts = texts_for_means(data)
    means = {
        lang: embedder.embed_queries(found).mean(axis=0).astype(np.float32) for lang, found in texts.items()
    }
    np.savez(out, **means)
    return {lang: len(found) for lang, found in texts.items()}


@lru_cache(maxsize=1)
def load() -> dict[str, np.ndarray]:
    """The shipped means by language ({} when the file is missing: nothing is centred)."""
    if not PATH.is_file():
        return {}
    with np.load(PATH) as stored:
        return {lang: np.asarray(stored[lang], dtype=np.float32) for lang in stored.files}


def centred(vectors: np.ndarray, languages: list[str | None]) -> np.ndarray:
    """Each row minus its language's mean, normalised again (rows of unknown languages as they are)."""
    means = load()
    out = np.array(vectors, dtype=np.float32, copy=True)
    for i, lang in enumerate(languages):
        if lang in means:
            out[i] -= means[lang]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(out / norms, dtype=np.float32)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a maintainer's tool
    from relaydesk.triage.embed import make_embedder

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args(argv)
    print(build(make_embedder(), args.data))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
