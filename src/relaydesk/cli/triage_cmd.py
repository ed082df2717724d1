"""`relaydesk triage`: the stable batch contract (JSONL in, one JSON object per line out)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from relaydesk.cli.common import err_console, fail
from relaydesk.core.enums import BUILTIN_INTENT_DEPARTMENTS
from relaydesk.triage.base import IntentDefinition, TriageInput, TriageResult
from relaydesk.triage.service import load_triager

BATCH = 256


def intents_from_config(path: Path) -> list[IntentDefinition]:
    """The `intents:` list of an org config; only that section is needed here."""
    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        fail(f"{path}: not valid YAML: {exc}")
    if not isinstance(data, dict) or not isinstance(data.get("intents"), list):
        fail(f"{path}: needs an 'intents:' list (- name: X, examples: [...], department: Y)")
    intents: list[IntentDefinition] = []
    for index, item in enumerate(data["intents"]):
        where = f"{path}: intents[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            fail(f"{where}.name: every intent needs a name")
        examples = item.get("examples") or []
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples) or not examples:
            fail(f"{where}.examples: a non-empty list of example phrases is needed")
        department = item.get("department")
        if department is not None and not isinstance(department, str):
            fail(f"{where}.department: must be a department key")
        intents.append(
            IntentDefinition(name=item["name"].strip(), examples=tuple(examples), department=department)
        )
    return intents


def _parse_line(number: int, line: str) -> tuple[Any, TriageInput | None, str | None]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, None, f"line {number}: must be a JSON object"
    ident = obj.get("id")
    text = obj.get("text")
    if ident is None:
        return None, None, f"line {number}: field 'id' is missing"
    if not isinstance(text, str):
        return ident, None, f"line {number}: field 'text' must be a string"
    lang = obj.get("lang") if isinstance(obj.get("lang"), str) else None
    channel = obj.get("channel") if isinstance(obj.get("channel"), str) else None
    return ident, TriageInput(text=text, lang=lang, channel=channel), None


def _row(ident: Any, result: TriageResult, custom: bool) -> dict[str, Any]:
    department = result.department
    if department is None and not custom and result.intent is not None:
        department = BUILTIN_INTENT_DEPARTMENTS.get(result.intent)
    return {"id": ident, **result.as_dict(), "department": department}


def _error_row(ident: Any, message: str) -> dict[str, Any]:
    return {
        "id": ident,
        "lang": "und",
        "sentiment": "neutral",
        "intent": None,
        "department": None,
        "stage": "unknown",
        "urgency": "normal",
        "spam": False,
        "crisis": False,
        "complaint": False,
        "scores": {},
        "reasons": [message],
        "error": message,
    }


def triage(
    input_path: Annotated[
        str, typer.Option("--input", help="JSONL with id and text per line; '-' for stdin")
    ],
    output_path: Annotated[str, typer.Option("--output", help="JSONL results, same order; '-' for stdout")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="org YAML whose intents replace the built-ins: intent is one of its names or null",
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help="auto, model or lexicon")] = "auto",
) -> None:
    """Triage messages: language, sentiment, intent, department, purchase stage, urgency, with reasons."""
    intents = intents_from_config(config) if config else None
    triager = load_triager(backend)
    source: TextIO
    if input_path == "-":
        source = sys.stdin
    else:
        if not Path(input_path).is_file():
            fail(f"--input {input_path}: no such file")
        source = open(input_path, encoding="utf-8", errors="replace")
    sink: TextIO = sys.stdout if output_path == "-" else open(output_path, "w", encoding="utf-8")
    problems: list[str] = []
    try:
        pending: list[tuple[Any, TriageInput | None, str | None]] = []

        def flush() -> None:
            items = [item for _, item, _ in pending if item is not None]
            results = iter(triager.triage(items, intents) if items else [])
            for ident, item, error in pending:
                row = (
                    _error_row(ident, error or "")
                    if item is None
                    else _row(ident, next(results), bool(intents))
                )
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            pending.clear()

        for number, line in enumerate(source, start=1):
            if not line.strip():
                # An empty line is still a line: the contract keeps one output per input line.
                pending.append((None, None, f"line {number}: empty line"))
                problems.append(f"line {number}: empty line")
            else:
                parsed = _parse_line(number, line)
                if parsed[2]:
                    problems.append(parsed[2])
                pending.append(parsed)
            if len(pending) >= BATCH:
                flush()
        flush()
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not sys.stdout:
            sink.close()
    for problem in problems[:50]:
        err_console.print(f"[yellow]bad input[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(2)
