"""`relaydesk --help` and `relaydesk token` start without the heavy libraries (cli/main.py)."""

from __future__ import annotations

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

# Runs the CLI in a fresh interpreter, then names the heavy modules it imported.
PROBE = """
import sys
from relaydesk.cli.main import app
try:
    app(sys.argv[1:], prog_name="relaydesk")
except SystemExit:
    pass
heavy = {HEAVY!r}
print("LOADED", sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy)))
"""


@pytest.mark.parametrize("args", [["--help"], [], ["token"], ["token", "--help"]])
def test_help_and_token_import_no_heavy_library(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(HEAVY=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Usage: relaydesk" in done.stdout, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"


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
