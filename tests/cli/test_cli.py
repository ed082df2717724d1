"""The command line as a user runs it: real files, exit codes and messages.

`relaydesk_in_process()` runs a command through Typer's CliRunner, without paying the interpreter
start and imports every call (a few seconds each on a loaded runner). `relaydesk()` starts a real
`python -m relaydesk.cli.main`: the smoke test below keeps the entry point, stdin/stdout/stderr
and the exit code of a user error covered as a process sees them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relaydesk.cli import common, main
from relaydesk.settings import get_settings

ORG_YAML = Path(__file__).resolve().parents[1] / "fixtures" / "org.yaml"


def relaydesk(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RELAYDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "RELAYDESK_DATA_DIR": str(tmp_path / "var"),
        "RELAYDESK_TRIAGE_BACKEND": "lexicon",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "relaydesk.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def relaydesk_in_process(
    tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """As `relaydesk()`, in this process; errors `run()` would turn into an exit code are turned so."""
    env = {
        "RELAYDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "RELAYDESK_DATA_DIR": str(tmp_path / "var"),
        "RELAYDESK_TRIAGE_BACKEND": "lexicon",
        "COLUMNS": "200",
    }
    get_settings.cache_clear()
    # The consoles read COLUMNS when the module is imported: a process started with it would have it.
    widths = common.console._width, common.err_console._width  # None: measured on each use
    common.console.width = common.err_console.width = 200
    try:
        with contextlib.chdir(tmp_path):
            result = CliRunner().invoke(main.app, list(args), input=stdin, env=env, terminal_width=200)
    finally:
        get_settings.cache_clear()
        common.console._width, common.err_console._width = widths
    code, stderr = result.exit_code, result.stderr
    if isinstance(result.exception, Exception):  # SystemExit is none: an exit code already
        mapped = main._exit_code(result.exception)
        if mapped is None:
            raise result.exception
        code, stderr = mapped, stderr + f"error: {result.exception}\n"
    return subprocess.CompletedProcess(["relaydesk", *args], code, result.stdout, stderr)


def test_triage_contract_one_object_per_line_in_order(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "text": "How much is the large cake? I want to buy one"},
        {"id": 2, "text": "سفارشم نرسیده، پولم رو پس بدید"},
        {"id": "c", "text": "הזמנתי עוגה והיא הגיעה שבורה", "lang": "he"},
        {"id": "d", "text": "ราคาเท่าไหร่คะ", "channel": "line"},
        {"id": "e", "text": "😀😀"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = relaydesk_in_process(
        tmp_path,
        "triage",
        "--input",
        str(source),
        "--output",
        str(tmp_path / "out.jsonl"),
        "--backend",
        "lexicon",
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", 2, "c", "d", "e"]
    for row in rows:
        assert set(row) >= {
            "id",
            "lang",
            "sentiment",
            "intent",
            "department",
            "stage",
            "urgency",
            "scores",
            "reasons",
        }
        assert row["sentiment"] in ("positive", "neutral", "negative")
        assert row["stage"] in ("pre_purchase", "purchase", "post_purchase", "unknown")
        assert row["urgency"] in ("low", "normal", "high", "critical")
    assert [r["lang"] for r in rows] == ["en", "fa", "he", "th", "und"]


def test_triage_with_config_intents_and_stdin(tmp_path: Path) -> None:
    config = tmp_path / "intents.yaml"
    config.write_text(
        "intents:\n"
        "  - name: refund\n    department: billing\n    examples: ['I want a refund', 'give me my money back']\n"
        "  - name: hours\n    examples: ['when are you open', 'opening hours today']\n",
        encoding="utf-8",
    )
    stdin = '{"id": 1, "text": "I want a refund, give me my money back"}\n{"id": 2, "text": "zzz qqq"}\n'
    result = relaydesk_in_process(
        tmp_path,
        "triage",
        "--input",
        "-",
        "--output",
        "-",
        "--config",
        str(config),
        "--backend",
        "lexicon",
        stdin=stdin,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["intent"] == "refund" and rows[0]["department"] == "billing"
    assert rows[1]["intent"] is None


def test_triage_bad_lines_keep_the_contract_and_exit_2(tmp_path: Path) -> None:
    stdin = '{"id": 1, "text": "hello"}\nnot json\n{"text": "no id"}\n'
    result = relaydesk(
        tmp_path, "triage", "--input", "-", "--output", "-", "--backend", "lexicon", stdin=stdin
    )
    assert result.returncode == 2
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3 and rows[0]["id"] == 1 and "error" in rows[1]
    assert "line 2" in result.stderr and "line 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_validate_reports_file_line_field_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "organization: {key: x, name: X}\n"
        "departments:\n"
        "  - {key: service, name: Service, default: true}\n"
        "agents:\n"
        "  - {email: a@x.example, name: A, handle: a, departments: [salez], languages: [en]}\n"
        "  - {email: b@x.example, name: B, handle: b, departments: [service], shifts: [{days: [funday], start: '09:00', end: '17:00'}]}\n",
        encoding="utf-8",
    )
    result = relaydesk_in_process(tmp_path, "config", "validate", str(bad))
    assert result.returncode == 2
    assert "bad.yaml:5" in result.stderr and "salez" in result.stderr
    assert "bad.yaml:6" in result.stderr and "funday" in result.stderr
    good = relaydesk_in_process(tmp_path, "config", "validate", str(ORG_YAML))
    assert good.returncode == 0, good.stderr


def test_import_keeps_good_rows_and_reports_bad_ones(tmp_path: Path) -> None:
    applied = relaydesk_in_process(tmp_path, "config", "apply", str(ORG_YAML))
    assert applied.returncode == 0, applied.stderr
    again = relaydesk_in_process(tmp_path, "config", "apply", str(ORG_YAML))
    assert "no changes" in again.stdout
    data = tmp_path / "messages.jsonl"
    data.write_text(
        "\n".join(
            [
                json.dumps(
                    {"account": "north-generic", "id": "i1", "author_id": "u1", "text": "Where is my order?"}
                ),
                "{broken",
                json.dumps({"account": "nope", "id": "i2", "author_id": "u2", "text": "hi"}),
                json.dumps({"account": "north-generic", "id": "i3", "author_id": "u3"}),
                json.dumps({"account": "south-generic", "id": "i4", "author_id": "u4", "text": "ราคาเท่าไหร่"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = relaydesk_in_process(tmp_path, "import", str(data))
    assert result.returncode == 2
    assert "imported 2" in result.stdout
    assert "messages.jsonl:2" in result.stderr and "messages.jsonl:3" in result.stderr
    assert "messages.jsonl:4" in result.stderr and "text" in result.stderr
    rerun = relaydesk_in_process(tmp_path, "import", str(data))
    assert "already present 2" in rerun.stdout
    report = relaydesk_in_process(tmp_path, "report", "--as", "admin@test.example", "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["conversations"] == 2
    assert json.loads(report.stdout)["approvals"]["requested"] == 0
    table = relaydesk_in_process(tmp_path, "report", "--as", "admin@test.example")
    assert table.returncode == 0, table.stderr
    assert "team" in table.stdout and "in-house" in table.stdout
    assert "approvals: 0 requested" in table.stdout
    rebuilt = relaydesk_in_process(tmp_path, "report", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "report rollups rebuilt: 2 conversations" in rebuilt.stdout


def test_missing_files_are_clear_errors(tmp_path: Path) -> None:
    for args in (
        ["import", "nope.jsonl"],
        ["config", "validate", "nope.yaml"],
        ["triage", "--input", "nope", "--output", "-"],
    ):
        result = relaydesk_in_process(tmp_path, *args)
        assert result.returncode == 2, args
        assert "nope" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["simulate", "--agents", "3", "--rate", "20", "--hours", "4"], ["--help"]])
def test_commands_run(tmp_path: Path, args: list[str]) -> None:
    result = relaydesk_in_process(tmp_path, *args)
    assert result.returncode == 0, result.stderr


def test_bench_scope_runs_a_small_chain_and_scopes_each_person(tmp_path: Path) -> None:
    result = relaydesk_in_process(
        tmp_path, "bench", "scope", "--locations", "60", "--conversations", "600", "--repeats", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["locations"] == 60 and out["location_rows"] == 60 + 1 + out["regions"]
    reads = out["reads"]
    assert set(reads) == {
        f"{who}: {what}" for who in ("owner", "rm", "shop", "dept") for what in ("first page", "search")
    }
    assert reads["owner: first page"]["rows"] == 50
    # One shop of 60, one of two departments: about 5 of 600 conversations are the shop agent's.
    assert reads["shop: first page"]["rows"] < 25
    assert reads["shop: search"]["rows"] <= reads["shop: first page"]["rows"]


def test_bench_pipeline_drains_through_the_queue_and_prints_its_ratio_line(tmp_path: Path) -> None:
    result = relaydesk_in_process(
        tmp_path, "bench", "pipeline", "--n", "30", "--backend", "lexicon", "--json"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("pipeline ratio=") and lines[-1].endswith("unit=msg/s")
    assert lines[-2].startswith("pipeline-lexicon ratio=")
    out = json.loads("\n".join(lines[:-2]))
    lexicon = out["lexicon"]
    assert out["messages"] == 30
    assert lexicon["pipeline_msgs_per_s"] > 0 and lexicon["raw_triage_msgs_per_s"] > 0
    assert lexicon["raw_insert_msgs_per_s"] > 0


def test_bench_pipeline_refuses_an_unknown_backend(tmp_path: Path) -> None:
    result = relaydesk_in_process(tmp_path, "bench", "pipeline", "--backend", "nope")
    assert result.returncode == 2
    assert "nope" in result.stderr and "Traceback" not in result.stderr


def test_bench_guidelines_checks_every_kind_in_five_languages_and_prints_its_line(tmp_path: Path) -> None:
    result = relaydesk_in_process(tmp_path, "bench", "guidelines", "--repeats", "10")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("guidelines ratio=") and last.endswith("unit=ms_p99")
    for language in ("en", "fa", "ar", "he", "th"):
        assert f"'{language}'" in result.stdout
