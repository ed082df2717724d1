"""A `relaydesk worker` process serves its own metrics (`--metrics-port`): its processing shows there."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.config.service import apply_config
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount
from tests.conftest import org_config, passwords_hashed_once
from tests.scale.conftest import PrivateNats, free_port
from tests.scale.test_nats_workers import make, wait_until


def scraped(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_worker_process_serves_the_metrics_of_its_processing(
    pg_schema_url: str, tmp_path: Path, private_nats: PrivateNats
) -> None:
    api = make(pg_schema_url, tmp_path, private_nats, consume=False)
    with transaction(api.sessions) as session, passwords_hashed_once():
        apply_config(session, org_config(), api.box)
        account = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    port = free_port()
    env = {
        **os.environ,
        "RELAYDESK_DATABASE_URL": pg_schema_url,
        "RELAYDESK_BUS_URL": private_nats.url,
        "RELAYDESK_BUS_STREAM": "RDWORKERS",
        "RELAYDESK_TRIAGE_BACKEND": "lexicon",
        "RELAYDESK_SECRET_KEY": "k",
        "RELAYDESK_DATA_DIR": str(tmp_path / "var"),
        "RELAYDESK_HOST": "127.0.0.1",
    }
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "relaydesk.cli.main", "worker", "--metrics-port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: bool(scraped(port)), 120)
        done = ("relaydesk_processed_total", (("outcome", "done"),))
        before = scraped(port).get(done, 0.0)
        for i in range(3):
            api.pipeline.accept(
                account,
                InboundEvent(network="generic", external_id=f"wm{i}", author_id=f"w{i}", text="Where is it?"),
            )
        wait_until(lambda: scraped(port).get(done, 0.0) - before == 3)
        samples = scraped(port)
        assert samples[("relaydesk_processing_seconds_count", ())] >= 3
        # The gauge reads 0 until the worker's first tick, a second after it starts: three
        # messages can be processed sooner than that on an idle machine.
        threads = ("relaydesk_worker_threads_alive", ())
        wait_until(lambda: scraped(port).get(threads, 0.0) != 0.0, 60)
        assert scraped(port)[threads] == 2
        # The queue gauges are read from the database every 15 s: drained to nothing.
        wait_until(lambda: scraped(port).get(("relaydesk_queue_pending", ())) == 0, 60)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        api.close()
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
