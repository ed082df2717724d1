"""`relaydesk eval`: the triage models measured on the development data, per language.

Every set is a seeded, stated subsample of held-out rows (test split where the data has one,
else dev); no row measured here is ever trained on (see `datasets.all_eval_texts`). The data's
embeddings are cached under /tmp/relaydesk-cache, so a second run takes seconds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaydesk.triage import datasets as ds
from relaydesk.triage.base import IntentDefinition, TriageInput, Triager

TARGETS: dict[str, Any] = {
    "sentiment_macro_f1": {"th": 0.70, "he": 0.70, "ar": 0.70, "en": 0.70, "fa": 0.60},
    "banking77_acc": 0.86,
    "arbanking77_from_en_acc": 0.70,
    "clinc150_oos_recall": 0.60,
    "clinc150_in_scope_acc": 0.85,
    "langid_acc": 0.99,
}


@dataclass
class EvalOptions:
    seed: int = 13
    sentiment_per_set: int = 500
    shots: int = 10
    fewshot_queries: int = 800
    clinc_in_scope: int = 900
    complaint_n: int = 600
    langid_per_lang: int = 300
    builtin_n: int = 300
    cache: bool = True  # embeddings of the data kept under /tmp/relaydesk-cache
    mode: str | None = None  # "full" | "cascade"; None: $RELAYDESK_TRIAGE_MODE, default cascade
    weights: str | None = None  # a weights folder other than the shipped one
    sections: tuple[str, ...] = ("langid", "sentiment", "complaint", "builtin", "fewshot", "fewshot_cli")
    baselines: bool = True  # beside the char n-gram and e5 logistic regressions (baselines.py)


@dataclass
class EvalReport:
    triager: str
    options: dict[str, Any]
    sentiment: dict[str, dict[str, Any]] = field(default_factory=dict)
    fewshot: dict[str, dict[str, Any]] = field(default_factory=dict)
    fewshot_cli: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # through `relaydesk triage --config`
    langid: dict[str, Any] = field(default_factory=dict)
    complaint: dict[str, Any] = field(default_factory=dict)
    builtin: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    baselines: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> list[Any]:
        """rich Tables, one per section."""
        tables = [
            self._sentiment_table(),
            self._fewshot_table() if self.fewshot else None,
            self._fewshot_cli_table() if self.fewshot_cli else None,
            self._complaint_table() if self.complaint else None,
            self._builtin_table() if self.builtin else None,
            self._langid_table() if self.langid else None,
            _baselines_table(self) if self.baselines else None,
        ]
        return [t for t in tables if t is not None]

    def _sentiment_table(self) -> Any:
        from rich.table import Table

        t = Table(title=f"Sentiment macro-F1 ({self.triager})")
        for col in ("set", "dataset", "n", "macro-F1", "accuracy", "target", "e5 skipped"):
            t.add_column(col)
        for name, r in self.sentiment.items():
            target = TARGETS["sentiment_macro_f1"].get(name)
            t.add_row(
                name,
                str(r["dataset"]),
                str(r["n"]),
                f"{r['macro_f1']:.3f}",
                f"{r['accuracy']:.3f}",
                f"{target:.2f}" if target is not None else "",
                f"{r.get('e5_skipped', 0.0):.2f}",
            )
        return t

    def _fewshot_table(self) -> Any:
        from rich.table import Table

        f = Table(title="Few-shot intents (examples only, no training)")
        for col in ("task", "n", "top-1 acc", "acc with null rule", "null rate", "oos recall"):
            f.add_column(col)
        for name, r in self.fewshot.items():
            f.add_row(name, str(r["n"]), f"{r['top1_acc']:.3f}", *_null_rule_cells(r))
        return f

    def _fewshot_cli_table(self) -> Any:
        from rich.table import Table

        f = Table(title="Few-shot intents through `relaydesk triage --config` (the config's intents only)")
        for col in ("task", "n", "acc with null rule", "null rate", "oos recall", "only config names"):
            f.add_column(col)
        for name, r in self.fewshot_cli.items():
            total = str(r["n_in_scope"] + r["n_oos"])
            f.add_row(name, total, *_null_rule_cells(r), "yes" if r["names_only"] else "NO")
        return f

    def _complaint_table(self) -> Any:
        from rich.table import Table

        c = Table(title="Complaint detection (airline tweets, service-failure reasons)")
        for col in ("predicted as", "n", "precision", "recall", "F1"):
            c.add_column(col)
        for name, r in self.complaint.get("variants", {}).items():
            c.add_row(name, str(self.complaint["n"]), f"{r['p']:.3f}", f"{r['r']:.3f}", f"{r['f1']:.3f}")
        return c

    def _builtin_table(self) -> Any:
        from rich.table import Table

        b = Table(title="Built-in intents (hand-written examples) on labelled rows")
        for col in ("set", "intent", "n", "precision", "recall", "F1"):
            b.add_column(col)
        for name, r in self.builtin.items():
            for label, prf in r.items():
                if isinstance(prf, dict) and "p" in prf:
                    b.add_row(
                        name, label, str(r["n"]), f"{prf['p']:.3f}", f"{prf['r']:.3f}", f"{prf['f1']:.3f}"
                    )
        return b

    def _langid_table(self) -> Any:
        from rich.table import Table

        g = Table(title="Language id accuracy")
        g.add_column("lang")
        g.add_column("n")
        g.add_column("accuracy")
        for lang, r in self.langid.get("per_lang", {}).items():
            g.add_row(lang, str(r["n"]), f"{r['acc']:.4f}")
        g.add_row("all", str(self.langid.get("n", 0)), f"{self.langid.get('acc', 0.0):.4f}")
        return g


def _macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    # macro over the classes the gold data has: Hebrew and ArmanEmo have no neutral class,
    # so a neutral prediction there counts only as a miss, not as a class of its own
    return float(f1_score(list(gold), list(pred), labels=sorted(set(gold)), average="macro", zero_division=0))


def _null_rule_cells(r: dict[str, Any]) -> tuple[str, str, str]:
    """In-scope accuracy, null rate and out-of-scope recall of a few-shot task, as table cells."""
    oos = r.get("oos_recall")
    return (
        f"{r['in_scope_acc']:.3f}",
        f"{r['null_rate_in_scope']:.3f}",
        f"{oos:.3f}" if oos is not None else "",
    )


def _prf(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def eval_fewshot_task(matcher: Any, task: ds.FewShotTask) -> dict[str, Any]:
    """Examples = the task's shots grouped by label; queries matched with the product's rule."""
    by_label: dict[str, list[str]] = {}
    for s in task.shots:
        by_label.setdefault(s.label, []).append(s.text)
    intents = [IntentDefinition(name, tuple(ex)) for name, ex in sorted(by_label.items())]
    texts = [q.text for q in task.queries]
    vecs = matcher.embedder.embed_queries(texts)
    matches = matcher.match(vecs, intents, texts)
    in_scope = [i for i, q in enumerate(task.queries) if q.label != "oos"]
    oos = [i for i, q in enumerate(task.queries) if q.label == "oos"]
    top1 = sum(matches[i].best == task.queries[i].label for i in in_scope)
    kept = sum(matches[i].intent == task.queries[i].label for i in in_scope)
    nulls = sum(matches[i].intent is None for i in in_scope)
    n = max(len(in_scope), 1)
    return {
        "n": len(task.queries),
        "n_in_scope": len(in_scope),
        "n_oos": len(oos),
        "shots_per_intent": round(len(task.shots) / max(len(intents), 1), 1),
        "intents": len(intents),
        "top1_acc": round(top1 / n, 4),
        "in_scope_acc": round(kept / n, 4),
        "null_rate_in_scope": round(nulls / n, 4),
        "oos_recall": round(sum(matches[i].intent is None for i in oos) / len(oos), 4) if oos else None,
    }


def run_eval(
    data_path: str | Path | None = None,
    triager_or_options: Triager | EvalOptions | None = None,
    options: EvalOptions | None = None,
    progress: bool = False,
) -> EvalReport:
    """Measure a triager (default: the model triager on the cached data embedder)."""
    t0 = time.monotonic()
    if isinstance(triager_or_options, EvalOptions):
        options, triager = triager_or_options, None
    else:
        triager = triager_or_options
    opts = options or EvalOptions()
    path = Path(data_path) if data_path else ds.default_data_path()
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"development data not found ({path}); set ${ds.ENV_DATA}")
    rows = ds.load_rows(path)
    if triager is None:
        triager = _model_triager(opts)
    name = type(triager).__name__
    if getattr(triager, "mode", None):
        name += f" ({triager.mode})"  # type: ignore[attr-defined]
    report = EvalReport(triager=name, options=asdict(opts))
    report.notes.append(
        f"seeded subsamples (seed={opts.seed}): sentiment {opts.sentiment_per_set}/set, "
        f"{opts.shots}-shot intents with {opts.fewshot_queries} queries, CLINC {opts.clinc_in_scope} "
        f"in-scope + all oos, complaint {opts.complaint_n}, langid {opts.langid_per_lang}/lang"
    )

    def say(msg: str) -> None:
        if progress:
            print(f"[eval {time.monotonic() - t0:6.1f}s] {msg}", flush=True)

    if "langid" in opts.sections:
        report.langid = _eval_langid(rows, opts)
        say(f"langid {report.langid['acc']}")
    if "sentiment" in opts.sections:
        _eval_sentiment(report, triager, rows, opts, say)
    if "complaint" in opts.sections:
        report.complaint = _eval_complaint(triager, rows, opts)
        say(f"complaint {report.complaint['variants']}")
    if "builtin" in opts.sections:
        _eval_builtin(report, triager, rows, opts, say)
    matcher = getattr(triager, "matcher", None)
    if "fewshot" in opts.sections and matcher is not None:
        _eval_fewshot(report, matcher, rows, opts, say)
    elif "fewshot" in opts.sections:
        report.notes.append(f"{report.triager} has no few-shot matcher: intent tasks skipped")
    if "fewshot_cli" in opts.sections:
        _eval_fewshot_cli(report, rows, opts, say)
    if opts.baselines:
        _eval_baselines(report, rows, opts, say)
    report.seconds = round(time.monotonic() - t0, 1)
    return report


def _baselines_table(report: EvalReport) -> Any:
    from relaydesk.triage.baselines import table

    return table(report)


def _eval_baselines(
    report: EvalReport, rows: list[ds.Row], opts: EvalOptions, say: Callable[[str], None]
) -> None:
    from relaydesk.triage import baselines
    from relaydesk.triage.train import data_embedder

    embedder = data_embedder(cache=opts.cache)
    if "sentiment" in opts.sections:
        report.baselines["sentiment"] = baselines.sentiment(rows, embedder, opts.sentiment_per_set, opts.seed)
        say(f"baselines sentiment {report.baselines['sentiment']}")
    if "fewshot" in opts.sections:
        product = {name: r["in_scope_acc"] for name, r in report.fewshot.items() if "in_scope_acc" in r}
        report.baselines["fewshot"] = baselines.fewshot(
            rows, embedder, opts.shots, opts.fewshot_queries, opts.clinc_in_scope, opts.seed, product
        )
        say(f"baselines fewshot {report.baselines['fewshot']}")


def _model_triager(opts: EvalOptions) -> Triager:
    from relaydesk.triage.heads import WEIGHTS_DIR
    from relaydesk.triage.model_triager import ModelTriager
    from relaydesk.triage.train import data_embedder

    return ModelTriager.load(
        opts.weights or WEIGHTS_DIR, embedder=data_embedder(cache=opts.cache), mode=opts.mode
    )


def _eval_langid(rows: list[ds.Row], opts: EvalOptions) -> dict[str, Any]:
    from relaydesk.triage.langid import detect_language

    items = ds.langid_eval_set(rows, opts.langid_per_lang, opts.seed)
    per: dict[str, list[bool]] = {}
    for it in items:
        per.setdefault(it.label, []).append(detect_language(it.text).lang == it.label)
    return {
        "n": len(items),
        "acc": round(sum(sum(v) for v in per.values()) / max(len(items), 1), 4),
        "per_lang": {k: {"n": len(v), "acc": round(sum(v) / len(v), 4)} for k, v in sorted(per.items())},
    }


def _eval_sentiment(
    report: EvalReport,
    triager: Triager,
    rows: list[ds.Row],
    opts: EvalOptions,
    say: Callable[[str], None],
) -> None:
    for name, items in ds.sentiment_eval_sets(rows, opts.sentiment_per_set, opts.seed).items():
        results = triager.triage([TriageInput(text=it.text) for it in items])
        gold = [it.label for it in items]
        pred = [r.sentiment for r in results]
        # the cascade's first stage says so in its reasons: the share that skipped e5
        skipped = sum(any("e5 skipped" in x for x in r.reasons) for r in results)
        report.sentiment[name] = {
            "dataset": items[0].dataset,
            "n": len(items),
            "macro_f1": round(_macro_f1(gold, pred), 4),
            "accuracy": round(float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])), 4),
            "gold": dict(Counter(gold)),
            "pred": dict(Counter(pred)),
            "e5_skipped": round(skipped / max(len(items), 1), 4),
        }
        say(f"sentiment {name} {report.sentiment[name]['macro_f1']}")


def _eval_complaint(triager: Triager, rows: list[ds.Row], opts: EvalOptions) -> dict[str, Any]:
    items = ds.complaint_eval_set(rows, opts.complaint_n, opts.seed)
    results = triager.triage([TriageInput(text=it.text, lang="en") for it in items])
    is_complaint = [it.label == "complaint" for it in items]
    return {
        "n": len(items),
        "positives": sum(is_complaint),
        "intents_predicted": dict(Counter(str(r.intent) for r in results)),
        "variants": {
            "complaint": _prf(is_complaint, [r.intent == "complaint" for r in results]),
            "complaint|order_issue": _prf(
                is_complaint, [r.intent in ("complaint", "order_issue") for r in results]
            ),
            "negative sentiment": _prf(is_complaint, [r.sentiment == "negative" for r in results]),
        },
    }


def _eval_builtin(
    report: EvalReport,
    triager: Triager,
    rows: list[ds.Row],
    opts: EvalOptions,
    say: Callable[[str], None],
) -> None:
    from relaydesk.triage.spam_set import held_back

    sets = ds.builtin_intent_eval_sets(rows, opts.builtin_n, opts.seed)
    if own := held_back():
        sets["spam_multilingual_held_back"] = own
    for name, items in sets.items():
        results = triager.triage([TriageInput(text=it.text) for it in items])
        entry: dict[str, Any] = {
            "dataset": items[0].dataset,
            "n": len(items),
            "gold": dict(Counter(it.label for it in items)),
            "pred": dict(Counter(str(r.intent) for r in results)),
        }
        for label in sorted({it.label for it in items} - {"not_spam"}):
            entry[label] = _prf([it.label == label for it in items], [r.intent == label for r in results])
        if "spam" in entry:
            # the signal routing acts on: the spam intent or what spam says (spam_cues)
            entry["spam signal"] = _prf([it.label == "spam" for it in items], [r.spam for r in results])
        report.builtin[name] = entry
        say(f"builtin {name} {entry}")


def _eval_fewshot(
    report: EvalReport,
    matcher: Any,
    rows: list[ds.Row],
    opts: EvalOptions,
    say: Callable[[str], None],
) -> None:
    for task in _fewshot_tasks(rows, opts):
        report.fewshot[task.name] = eval_fewshot_task(matcher, task)
        say(f"fewshot {task.name} {report.fewshot[task.name]}")


def _eval_fewshot_cli(
    report: EvalReport, rows: list[ds.Row], opts: EvalOptions, say: Callable[[str], None]
) -> None:
    from relaydesk.triage.fewshot_cli import run_task

    for task in _fewshot_tasks(rows, opts):
        report.fewshot_cli[task.name] = run_task(task)
        say(f"fewshot through the CLI {task.name} {report.fewshot_cli[task.name]}")


def _fewshot_tasks(rows: list[ds.Row], opts: EvalOptions) -> list[ds.FewShotTask]:
    clinc = ds.clinc_task(rows, opts.shots, opts.clinc_in_scope, opts.seed)
    return [*ds.banking_tasks(rows, opts.shots, opts.fewshot_queries, opts.seed), *([clinc] if clinc else [])]


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import json

    from rich.console import Console

    parser = argparse.ArgumentParser(prog="python -m relaydesk.triage.evaluate")
    parser.add_argument("--data", default=None)
    parser.add_argument("--json", default=None, help="write the report as JSON to this file")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--sections", default=",".join(EvalOptions.sections))
    parser.add_argument(
        "--mode", default=None, choices=("full", "cascade"), help="default: $RELAYDESK_TRIAGE_MODE"
    )
    parser.add_argument("--weights", default=None, help="weights folder (default: the shipped one)")
    parser.add_argument(
        "--baselines",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the two simple baselines, side by side (--no-baselines to skip them)",
    )
    args = parser.parse_args(argv)
    opts = EvalOptions(
        seed=args.seed,
        sections=tuple(s for s in args.sections.split(",") if s),
        mode=args.mode,
        weights=args.weights,
        baselines=args.baselines,
    )
    report = run_eval(args.data, opts, progress=True)
    console = Console()
    for table in report.render():
        console.print(table)
    for note in report.notes:
        console.print(f"[dim]{note}[/dim]")
    if args.json:
        Path(args.json).write_text(
            json.dumps(report.as_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
