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
