"""The development data (`shared/data/dev.jsonl.gz`): locating it, licence gates, seeded subsets.

Every selection here is deterministic for a given seed, and training selections read only rows
whose licence lets a shipped model be trained on them. Evaluation selections may read any row.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENV_DATA = "RELAYDESK_DEV_DATA"
ENV_CACHE = "RELAYDESK_EMBED_CACHE"
DEFAULT_CACHE_DIR = Path("/tmp/relaydesk-cache")  # noqa: S108 - a developer cache, never read for trust

# Licences a shipped model may learn from. GPL (ASTD) and share-alike (ArBanking77) rows carry
# redistribution permission but would arguably bind the weights to their terms, so they are
# kept for measuring only; NC and unclear rows are measuring-only by the data README.
TRAINABLE_LICENCE_PREFIXES = ("CC0", "MIT", "Apache-2.0", "CC-BY-4.0", "CC-BY-3.0", "AFL")

Row = dict[str, Any]

# The airline negative reasons that name a service failure: complaint positives.
SERVICE_FAILURE_REASONS = frozenset(
    {
        "Customer Service Issue",
        "Late Flight",
        "Cancelled Flight",
        "Lost Luggage",
        "Bad Flight",
        "Flight Booking Problems",
        "Flight Attendant Complaints",
        "longlines",
        "Damaged Luggage",
    }
)


def default_data_path() -> Path | None:
    """`$RELAYDESK_DEV_DATA`, else `shared/data/dev.jsonl.gz` beside the repository."""
    env = os.environ.get(ENV_DATA)
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[3]
    candidates += [repo.parent / "shared" / "data" / "dev.jsonl.gz", Path("../shared/data/dev.jsonl.gz")]
    for cand in candidates:
        if cand.is_dir():
            cand = cand / "dev.jsonl.gz"
        if cand.is_file():
            return cand
    return None


def load_rows(path: str | Path) -> list[Row]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def trainable(row: Row) -> bool:
    if row.get("license_permits_redistribution") is not True:
        return False
    return str(row.get("license", "")).startswith(TRAINABLE_LICENCE_PREFIXES)


def dedup_key(text: str) -> str:
    """Loose identity for overlap checks across datasets (quotes, case, spacing, URLs ignored)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"https?://\S+|@\w+|rt\b", " ", text)
    return re.sub(r"[\W_]+", "", text)


def sample(items: Sequence[Any], n: int | None, seed: int) -> list[Any]:
    items = list(items)
    if n is None or len(items) <= n:
        return items
    rng = random.Random(seed)
    return rng.sample(items, n)


def sample_per_label(
    items: Sequence[Any], label_of: Callable[[Any], str], per_label: int, seed: int
) -> tuple[list[Any], list[Any]]:
    """(chosen, rest): `per_label` items of every label, chosen with a seeded RNG."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for it in items:
        groups[label_of(it)].append(it)
    rng = random.Random(seed)
    chosen: list[Any] = []
    rest: list[Any] = []
    for label in sorted(groups):
        group = groups[label][:]
        rng.shuffle(group)
        chosen += group[:per_label]
        rest += group[per_label:]
    return chosen, rest


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str
    lang: str
    dataset: str


def _rows(rows: Iterable[Row], dataset: str, splits: Iterable[str | None] | None = None) -> list[Row]:
    return [r for r in rows if r["dataset"] == dataset and (splits is None or r.get("split") in splits)]


def _sentiment(rows: Iterable[Row]) -> list[LabelledText]:
    return [
        LabelledText(r["text"], r["sentiment"], r["lang"], r["dataset"])
        for r in rows
        if r.get("sentiment") in ("positive", "neutral", "negative") and r.get("text", "").strip()
    ]


# ---- evaluation sets (measuring only; any licence) -----------------------------------------


def sentiment_eval_sets(rows: list[Row], per_set: int | None, seed: int) -> dict[str, list[LabelledText]]:
    """Per-language held-out sentiment sets: test split where the data has one, else dev.

    Arabic is measured on ASTD test, whose tweets are removed from the Arabic training rows
    (ArSarcasm-v2 shares ~2.5k tweets with ASTD). English and Persian have no trainable rows,
    so all their labelled rows measure cross-lingual transfer.
    """
    sets = {
        "th": _sentiment(_rows(rows, "th_wisesight_sentiment", {"test"}))
        or _sentiment(_rows(rows, "th_wisesight_sentiment", {"dev"})),
        "he": _sentiment(_rows(rows, "he_hebrew_sentiment", {"test"}))
        or _sentiment(_rows(rows, "he_hebrew_sentiment", {"dev"})),
        "ar": _sentiment(_rows(rows, "ar_astd", {"test"})),
        "en": _sentiment(_rows(rows, "en_tweeteval_sentiment", {"test"}))
        or _sentiment(_rows(rows, "en_tweeteval_sentiment", {"dev"})),
        "en_airline": _sentiment(_rows(rows, "en_twitter_us_airline_sentiment")),
        "fa": _sentiment(_rows(rows, "fa_sentipers")),
        "fa_armanemo": _sentiment(_rows(rows, "fa_armanemo")),
    }
    return {k: sample(v, per_set, seed) for k, v in sets.items() if v}


def complaint_eval_set(rows: list[Row], n: int, seed: int) -> list[LabelledText]:
    """Airline tweets: complaint = negative with a service-failure reason; not = neutral/positive.

    Negative tweets whose reason is "Can't Tell" are left out: they are neither.
    """
    out: list[LabelledText] = []
    for r in _rows(rows, "en_twitter_us_airline_sentiment"):
        if r.get("sentiment") == "negative" and r.get("negativereason") in SERVICE_FAILURE_REASONS:
            out.append(LabelledText(r["text"], "complaint", "en", r["dataset"]))
        elif r.get("sentiment") in ("neutral", "positive"):
            out.append(LabelledText(r["text"], "not_complaint", "en", r["dataset"]))
    return sample(out, n, seed)


def native_label(label: object) -> str:
    """Banking77 writes "card_arrival", ArBanking77's lookup "card arrival": one spelling."""
    return re.sub(r"[\s_]+", "_", str(label).strip().lower())


def _native(rows: Iterable[Row]) -> list[LabelledText]:
    return [
        LabelledText(r["text"], native_label(r["intent_native"]), r["lang"], r["dataset"])
        for r in rows
        if r.get("intent_native") and r.get("text", "").strip()
    ]


@dataclass
class FewShotTask:
    name: str
    shots: list[LabelledText]  # the "organisation's" examples
    queries: list[LabelledText]  # held-out messages (label "oos" = out of scope)


def banking_tasks(rows: list[Row], shots: int, n_queries: int, seed: int) -> list[FewShotTask]:
    """Banking77 k-shot (queries: other train rows, the test split is not in the dev data) and
    ArBanking77 queries matched against the same English shots (cross-lingual)."""
    en = _native(_rows(rows, "en_banking77", {"train"}))
    en_test = _native(_rows(rows, "en_banking77", {"test"}))
    chosen, rest = sample_per_label(en, lambda t: t.label, shots, seed)
    tasks = [FewShotTask("banking77", chosen, sample(en_test or rest, n_queries, seed))]
    ar = _native(_rows(rows, "ar_arbanking77", {"test"})) or _native(_rows(rows, "ar_arbanking77", {"dev"}))
    if ar:
        tasks.append(FewShotTask("arbanking77_from_en", chosen, sample(ar, n_queries, seed)))
    return tasks


def clinc_task(rows: list[Row], shots: int, n_in_scope: int, seed: int) -> FewShotTask | None:
    """CLINC150: k shots per intent from train; queries = the held split (test if present, else
    dev): in-scope subsample + all its oos rows. Train oos rows are left for calibration."""
    pairs = [
        (t, r.get("split"))
        for t, r in zip(_native(_rows(rows, "en_clinc150")), _rows(rows, "en_clinc150"), strict=True)
    ]
    if not pairs:
        return None
    train_in = [t for t, sp in pairs if sp == "train" and t.label != "oos"]
    chosen, _ = sample_per_label(train_in, lambda t: t.label, shots, seed)
    held = "test" if any(sp == "test" for _, sp in pairs) else "dev"
    in_scope = [t for t, sp in pairs if sp == held and t.label != "oos"]
    oos = [t for t, sp in pairs if sp == held and t.label == "oos"]
    return FewShotTask("clinc150", chosen, sample(in_scope, n_in_scope, seed) + oos)


def clinc_calibration(rows: list[Row], shots: int, n_in_scope: int, seed: int) -> FewShotTask | None:
    """Train-split only: the same shots, other in-scope train rows and the train oos rows."""
    pairs = [
        (t, r.get("split"))
        for t, r in zip(_native(_rows(rows, "en_clinc150")), _rows(rows, "en_clinc150"), strict=True)
    ]
    train_in = [t for t, sp in pairs if sp == "train" and t.label != "oos"]
    if not train_in:
        return None
    chosen, rest = sample_per_label(train_in, lambda t: t.label, shots, seed)
    oos = [t for t, sp in pairs if sp == "train" and t.label == "oos"]
    return FewShotTask("clinc150_calibration", chosen, sample(rest, n_in_scope, seed) + oos)


def builtin_intent_eval_sets(rows: list[Row], n: int, seed: int) -> dict[str, list[LabelledText]]:
    """Rows whose labels name a built-in intent: YouTube spam vs ham (en) and TrueVoice
    enquire/buy call-centre utterances (th). Measuring only."""
    spam = [
        LabelledText(r["text"], r["intent"], "en", r["dataset"])
        for r in _rows(rows, "en_youtube_spam")
        if r.get("intent") in ("spam", "not_spam")
    ]
    truevoice = [
        LabelledText(
            r["text"], "purchase_interest" if r["intent"] == "purchase" else "question", "th", r["dataset"]
        )
        for r in _rows(rows, "th_truevoice_intent", {"test"}) or _rows(rows, "th_truevoice_intent", {"train"})
        if r.get("intent") in ("question", "purchase")
    ]
    return {
        k: sample(v, n, seed) for k, v in {"spam_en": spam, "question_purchase_th": truevoice}.items() if v
    }


def langid_eval_set(rows: list[Row], per_lang: int, seed: int) -> list[LabelledText]:
    by_lang: dict[str, list[LabelledText]] = defaultdict(list)
    for r in rows:
        if r.get("text", "").strip() and r.get("lang") in ("en", "fa", "ar", "he", "th"):
            by_lang[r["lang"]].append(LabelledText(r["text"], r["lang"], r["lang"], r["dataset"]))
    out: list[LabelledText] = []
    for lang in sorted(by_lang):
        out += sample(by_lang[lang], per_lang, seed)
    return out


# ---- training sets (trainable licences only) ------------------------------------------------


def sentiment_training_rows(
    rows: list[Row], seed: int, max_rows_per_lang: int | None, exclude_texts: Iterable[str] = ()
) -> list[LabelledText]:
    """Train-split sentiment rows with a trainable licence, minus any text that appears in an
    evaluation set (`exclude_texts`, compared loosely), capped per language (seeded)."""
    banned = {dedup_key(t) for t in exclude_texts}
    by_lang: dict[str, list[LabelledText]] = defaultdict(list)
    for item in _sentiment(r for r in rows if trainable(r) and r.get("split") == "train"):
        if dedup_key(item.text) not in banned:
            by_lang[item.lang].append(item)
    out: list[LabelledText] = []
    for lang in sorted(by_lang):
        out += sample(by_lang[lang], max_rows_per_lang, seed)
    return out


def all_eval_texts(rows: list[Row]) -> list[str]:
    """Every text any evaluation set may draw (whole pools, not samples): never trained on."""
    texts: list[str] = []
    pools: tuple[tuple[str, set[str | None] | None], ...] = (
        ("th_wisesight_sentiment", {"dev", "test"}),
        ("he_hebrew_sentiment", {"dev", "test"}),
        ("ar_astd", None),
        ("ar_umsab_semeval2017", None),
    )
    for ds, splits in pools:
        texts += [r["text"] for r in _rows(rows, ds, splits)]
    return texts


# ---- embeddings of the data, cached on disk for iteration (never in the repository) --------


class EmbeddingStore:
    """A file-backed map from cache key to vector, so repeated train/eval runs embed once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._vecs: dict[str, np.ndarray] = {}
        self._dirty = 0
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as data:
                for k, v in zip(data["keys"].tolist(), data["vecs"], strict=True):
                    self._vecs[str(k)] = v

    def __len__(self) -> int:
        return len(self._vecs)

    def get(self, key: str) -> np.ndarray | None:
        return self._vecs.get(key)

    def put(self, key: str, vec: np.ndarray) -> None:
        self._vecs[key] = np.asarray(vec, dtype=np.float32)
        self._dirty += 1

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vecs), dtype=str)
        vecs = np.vstack(list(self._vecs.values())) if self._vecs else np.zeros((0, 0), np.float32)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(tmp, keys=keys, vecs=vecs)
        os.replace(tmp, self.path)
        self._dirty = 0


def store_key(kind: str, text: str) -> str:
    return hashlib.blake2b(f"{kind}\x00{text}".encode("utf-8", "replace"), digest_size=16).hexdigest()


class StoreBackedEmbedder:
    """An `Embedder` that answers from an `EmbeddingStore` and embeds only what it lacks."""

    def __init__(self, inner: Any, store: EmbeddingStore, chunk: int = 256, progress: bool = False):
        self.inner = inner
        self.store = store
        self.chunk = chunk
        self.progress = progress

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def _run(self, texts: Sequence[str], kind: str) -> np.ndarray:
        keys = [store_key(kind, t) for t in texts]
        by_key = dict(zip(keys, texts, strict=True))
        missing = list(dict.fromkeys(k for k in keys if self.store.get(k) is None))
        fn = self.inner.embed_queries if kind == "q" else self.inner.embed_passages
        for i in range(0, len(missing), self.chunk):
            part = missing[i : i + self.chunk]
            mat = fn([by_key[k] for k in part])
            for k, v in zip(part, mat, strict=True):
                self.store.put(k, v)
            self.store.save()
            if self.progress:
                print(f"  embedded {min(i + self.chunk, len(missing))}/{len(missing)}", flush=True)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        found = [self.store.get(k) for k in keys]
        return np.vstack([v for v in found if v is not None]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, "q")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, "p")


def default_store_path(backend_name: str) -> Path:
    base = Path(os.environ.get(ENV_CACHE) or DEFAULT_CACHE_DIR)
    return base / f"embeddings-{re.sub(r'[^A-Za-z0-9_.-]', '_', backend_name)}.npz"
