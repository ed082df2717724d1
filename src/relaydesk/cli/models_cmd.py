"""`relaydesk eval` and `relaydesk train`: measure and (re)fit the triage models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaydesk.cli.common import console, fail, opened
from relaydesk.db import transaction
from relaydesk.orgs.service import org_service
from relaydesk.settings import get_settings
from relaydesk.triage.service import correction_examples


def eval_cmd(
    what: Annotated[str, typer.Argument(help="triage (the default) or faq")] = "triage",
    data: Annotated[
        Path | None,
        typer.Option(help="dev.jsonl.gz (default: ../shared/data); for faq the test set's YAML"),
    ] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="write the report as JSON here")] = None,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 13,
    sections: Annotated[str | None, typer.Option(help="comma-separated sections to run")] = None,
    baselines: Annotated[
        bool,
        typer.Option(
            "--baselines/--no-baselines",
            help="beside a char n-gram and an e5 logistic regression trained on the same rows",
        ),
    ] = True,
) -> None:
    """Measure triage on the labelled development data, or with `faq` the FAQ suggestions across languages."""
    if what == "faq":
        _eval_faq(data, json_file)
        return
    if what != "triage":
        fail(f"eval {what}: what to measure is triage or faq")
    from relaydesk.triage import evaluate

    if data is not None and not data.is_file():
        fail(f"--data {data}: no such file")
    argv = ["--seed", str(seed)]
    if data is not None:
        argv += ["--data", str(data)]
    if json_file is not None:
        argv += ["--json", str(json_file)]
    if sections:
        argv += ["--sections", sections]
    if not baselines:
        argv += ["--no-baselines"]
    try:
        code = evaluate.main(argv)
    except FileNotFoundError as exc:
        fail(f"development data not found ({exc}); pass --data")
    raise typer.Exit(code)


def _eval_faq(data: Path | None, json_file: Path | None) -> None:
    import json

    from rich.table import Table

    from relaydesk.guidelines.faq_evaluation import DEFAULT_SET, evaluate
    from relaydesk.triage.embed import EmbeddingError, make_embedder

    path = data or DEFAULT_SET
    if not path.is_file():
        fail(f"--data {path}: no such file (the FAQ test set is tests/data/faq_multilingual.yaml)")
    try:
        embedder = make_embedder()
    except EmbeddingError as exc:
        console.print(f"[yellow]no embedding model ({exc}): measuring the word matching only[/yellow]")
        embedder = None
    try:
        result = evaluate(path, embedder)
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"{path}: not a FAQ test set ({exc})")
    table = Table(title=f"FAQ retrieval: {result['entries']} entries, {result['questions']} questions")
    table.add_column("language")
    for way in ("by_words", "by_meaning"):
        if way in result:
            table.add_column(f"{way.replace('_', ' ')} top-1")
            table.add_column(f"{way.replace('_', ' ')} top-3")
    for lang, words in result["by_words"].items():
        cells = [lang, f"{words['top1']:.3f}", f"{words['top3']:.3f}"]
        if "by_meaning" in result:
            meaning = result["by_meaning"][lang]
            cells += [f"{meaning['top1']:.3f}", f"{meaning['top3']:.3f}"]
        table.add_row(*cells)
    console.print(table)
    auto = result.get("automatic")
    if auto:
        done = auto["at_defaults"]
        console.print(
            f"automatic FAQ answers (min_score {auto['min_score']}, min_margin {auto['min_margin']}): "
            f"{done['answered']:.1%} of questions answered, {done['right']:.1%} of them right "
            f"({done['wrong']} wrong)",
            highlight=False,
        )
    if json_file is not None:
        json_file.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    console.print(result["line"], highlight=False)


def train_cmd(
    from_corrections: Annotated[
        bool, typer.Option("--from-corrections", help="refit from agents' corrections in the database")
    ] = False,
    data: Annotated[Path | None, typer.Option(help="dev.jsonl.gz for training from data")] = None,
    out: Annotated[Path | None, typer.Option(help="where to write the weights")] = None,
    seed: Annotated[int, typer.Option(help="random seed (training is reproducible)")] = 13,
) -> None:
    """Train the sentiment head on licence-permitted rows, or refit it from agents' corrections."""
    from relaydesk.triage import train

    if not from_corrections:
        argv = ["--seed", str(seed)]
        if data is not None:
            if not data.is_file():
                fail(f"--data {data}: no such file")
            argv += ["--data", str(data)]
        if out is not None:
            argv += ["--out", str(out)]
        raise typer.Exit(train.main(argv))
    settings = get_settings()
    target = out or Path(settings.data_dir) / "models"
    with opened(settings) as container:
        with container.sessions() as session:
            examples = correction_examples(session)
        if not examples:
            fail("no corrections stored yet: agents correct triage in the inbox or through the API")
        from relaydesk.triage.learning_service import learn
        from relaydesk.triage.train import data_embedder

        embedder = data_embedder(cache=False)
        outcome = learn(examples, embedder, target)
        result = train.train_from_corrections([e for e in examples if e[1] != "sentiment"], embedder=embedder)
        # Intent corrections already became examples of the organisation's intents when they were made;
        # here we only make sure every corrected intent that exists has them.
        with transaction(container.sessions) as session:
            added = sum(
                org_service.add_intent_examples(session, d.name, list(d.examples)) for d in result.intents
            )
    console.print(
        f"sentiment: {outcome.corrections} correction(s), {outcome.held_back} held back; right on those: "
        f"head in use {_score(outcome.score_in_use)}, refitted {_score(outcome.score_refitted)}; kept the "
        f"{outcome.kept} head ({outcome.reason}); {result.intent_examples} intent correction(s), "
        f"{added} new intent example(s); learned weights in {target}"
        + (f"; ignored {', '.join(result.ignored)}" if result.ignored else ""),
        highlight=False,
    )


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
