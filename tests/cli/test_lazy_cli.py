"""`relaydesk --help` and `relaydesk token` start without the heavy libraries (cli/main.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from relaydesk.cli import main

HEAVY = (
    "fastapi",
    "sqlalchemy",
    "sklearn",
    "numpy",
    "alembic",
    "httpx",
    "relaydesk.triage",
    "relaydesk.models",
)

RUNS = [["--help"], [], ["token"], ["token", "--help"]]

# Runs the CLI once per argument list in one fresh interpreter; after each run it names the heavy
# modules imported so far (a run that pulls one in shows it in its own line, whatever ran before).
PROBE = """
import json, sys
from relaydesk.cli.main import app
heavy = {HEAVY!r}
for args in json.loads(sys.argv[1]):
    print("RUN", json.dumps(args), flush=True)
    try:
        app(args, prog_name="relaydesk")
    except SystemExit:
        pass
    print("LOADED", sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy)))
"""


@pytest.fixture(scope="module")
def probed() -> dict[str, str]:
    """What each of RUNS printed, up to and including its LOADED line (one interpreter start, not four)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(HEAVY=HEAVY), json.dumps(RUNS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    runs = done.stdout.split("RUN ")[1:]
    assert len(runs) == len(RUNS), done.stdout + done.stderr
    return {run.split("\n", 1)[0]: run.split("\n", 1)[1] for run in runs}


@pytest.mark.parametrize("args", RUNS)
def test_help_and_token_import_no_heavy_library(args: list[str], probed: dict[str, str]) -> None:
    out = probed[json.dumps(args)]
    assert "Usage: relaydesk" in out, out
    assert out.strip().splitlines()[-1] == "LOADED []"


def test_the_listing_shows_what_the_loaded_commands_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """The summaries in `main.LAZY` are copies: this catches a docstring changed on one side only."""
    runner = CliRunner()
    lazy = runner.invoke(main.app, ["--help"], env={"COLUMNS": "200"}, terminal_width=200)
    monkeypatch.setattr(main._Lazy, "stub", main._Lazy.load)
    loaded = runner.invoke(main.app, ["--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert lazy.exit_code == loaded.exit_code == 0
    assert lazy.output == loaded.output
    assert all(name in lazy.output for name in main.LAZY)


def test_a_lazy_command_runs_and_keeps_its_own_help() -> None:
    result = CliRunner().invoke(main.app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--agents" in result.output
