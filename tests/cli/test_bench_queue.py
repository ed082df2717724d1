"""The queue's benchmarks keep running: a tiny `bench ingest` with real processes (numbers unchecked)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.test_cli import relaydesk

LINE = re.compile(r"^ingest ratio=(\d+\.\d+|n/a) value=\S+ unit=msg/s$")


def test_bench_ingest_prints_its_ratio_line_and_stores_every_accepted_message(tmp_path: Path) -> None:
    out = tmp_path / "ingest.json"
    result = relaydesk(tmp_path, "bench", "ingest", "--seconds", "1", "--n", "100", "--json", str(out))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert LINE.match(result.stdout.strip().splitlines()[-1]), result.stdout[-500:]
    data = json.loads(out.read_text())
    for connections in (16, 64):
        run = data[f"relaydesk_c{connections}"]
        assert run["accepted"] > 0 and run["timeouts"] == 0
        assert run["stored"] == run["accepted"]  # counted in the server's database afterwards
        assert data[f"baseline_c{connections}"]["accepted"] > 0


def test_bench_json_file_that_cannot_be_written_is_exit_2_before_any_work(tmp_path: Path) -> None:
    result = relaydesk(tmp_path, "bench", "ingest", "--json", str(tmp_path / "missing-dir" / "out.json"))
    assert result.returncode == 2
    assert "missing-dir" in result.stderr and "Traceback" not in result.stderr


def test_bench_e2e_hears_every_conversation_processed_on_an_open_page(tmp_path: Path) -> None:
    """The embedded server's worker process routes and assigns; its signals reach the page the
    server holds open (relayed between the two processes), every conversation's at least once."""
    out = tmp_path / "e2e.json"
    result = relaydesk(tmp_path, "bench", "e2e", "--seconds", "2", "--json", str(out))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert re.match(r"^e2e ratio=\S+ value=\S+ unit=ms_p99$", result.stdout.strip().splitlines()[-1])
    run = json.loads(out.read_text())["e2e"]
    assert run["processed"] == run["accepted"] > 0
    assert run["conversations"] > 0 and run["pushed_missing"] == 0
