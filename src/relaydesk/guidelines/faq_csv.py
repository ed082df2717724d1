"""FAQ entries as a spreadsheet (pure): what `Download CSV` writes and `Import CSV` reads.

One row per entry: `key`, `language` (the main one), `question`, `variants` (other phrasings, one
per line inside the cell), `answer_<language>` for each language with an answer (the main
language's is required), `valid_from`, `valid_until` (year-month-day), `place` (a brand's or
region's key; empty: everywhere). `status`, `usage_count` and `last_used_at` are written for the
reader and ignored on import: an imported entry is a draft, or an approved one whose text did not
change, because only PR approves.

A cell a spreadsheet would run as a formula (starting with = + - @) is written with a leading
apostrophe, and the apostrophe is taken off again on import, so a file survives the round trip.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

FIXED = ("key", "language", "question", "variants")
TAIL = ("valid_from", "valid_until", "place", "status", "usage_count", "last_used_at")
ANSWER = "answer_"
READ_ONLY = frozenset({"status", "usage_count", "last_used_at"})
MAX_ROWS = 5000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvProblem:
    line: int  # the file's line number (1 is the header)
    column: str
    message: str  # English, for the API and the CLI
    reason: str  # the key the pages have a sentence for (faq_csv_<reason>)


@dataclass
class CsvEntry:
    line: int
    key: str
    language: str
    question: str
    variants: list[str]
    answers: dict[str, str]
    valid_from: date | None = None
    valid_until: date | None = None
    place: str | None = None


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _unsafe(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA) else text


def write(entries: Iterable[Mapping[str, Any]], languages: Sequence[str]) -> str:
    """The CSV text for these entries (each as `FaqOut.model_dump()` gives it)."""
    rows = list(entries)
    seen = list(languages) + sorted(
        {code for e in rows for code in (e.get("answers") or {}) if code not in languages}
    )
    header = [*FIXED, *(ANSWER + code for code in seen), *TAIL]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for e in rows:
        answers = e.get("answers") or {}
        writer.writerow(
            [
                _safe(e.get("key")),
                _safe(e.get("language")),
                _safe(e.get("question")),
                _safe("\n".join(e.get("variants") or [])),
                *(_safe(answers.get(code, "")) for code in seen),
                *(_safe(e.get(name) if e.get(name) is not None else "") for name in TAIL),
            ]
        )
    return out.getvalue()


def _day(text: str, line: int, column: str, problems: list[CsvProblem]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(CsvProblem(line, column, "write the date as year-month-day", "date"))
        return None


def read(text: str) -> tuple[list[CsvEntry], list[CsvProblem]]:
    """The entries of a CSV file and every problem found (with its line and column)."""
    problems: list[CsvProblem] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        return [], [CsvProblem(1, "", "the file is empty: the first line names the columns", "empty_file")]
    missing = [name for name in ("key", "language", "question") if name not in header]
    if missing:
        return [], [CsvProblem(1, missing[0], f"the first line has no '{missing[0]}' column", "no_column")]
    entries: list[CsvEntry] = []
    keys: dict[str, int] = {}
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(entries) >= MAX_ROWS:
                problems.append(CsvProblem(number, "", f"at most {MAX_ROWS} entries in one file", "too_many"))
                break
            row = {name: _unsafe(cells[i].strip()) if i < len(cells) else "" for i, name in enumerate(header)}
            entries.append(_entry(number, row, problems))
            key = row.get("key", "")
            if key in keys:
                problems.append(
                    CsvProblem(number, "key", f"'{key}' is also on line {keys[key]}", "duplicate")
                )
            keys.setdefault(key, number)
    except csv.Error as exc:
        problems.append(CsvProblem(reader.line_num, "", f"not readable as CSV ({exc})", "unreadable"))
    return entries, problems


def _entry(line: int, row: Mapping[str, str], problems: list[CsvProblem]) -> CsvEntry:
    answers = {name[len(ANSWER) :]: value for name, value in row.items() if name.startswith(ANSWER) and value}
    language = row.get("language", "") or "en"
    for column in ("key", "question"):
        if not row.get(column):
            problems.append(CsvProblem(line, column, f"the {column} is empty", "empty"))
    if not answers.get(language):
        problems.append(
            CsvProblem(line, ANSWER + language, "the answer in the main language is empty", "empty")
        )
    entry = CsvEntry(
        line=line,
        key=row.get("key", ""),
        language=language,
        question=row.get("question", ""),
        variants=[v.strip() for v in row.get("variants", "").splitlines() if v.strip()],
        answers=answers,
        valid_from=_day(row.get("valid_from", ""), line, "valid_from", problems),
        valid_until=_day(row.get("valid_until", ""), line, "valid_until", problems),
        place=row.get("place") or None,
    )
    return entry
