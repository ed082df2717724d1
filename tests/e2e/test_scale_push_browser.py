"""Scale-out live push in a real browser: a message accepted by one API process shows up, without a
reload, on an inbox page served by another.

Two `relaydesk serve` processes on one PostgreSQL schema and a real nats-server: the agent's page
is open on process A (no worker threads); the webhook is posted to process B, whose worker makes
the message; the signal crosses to A through NATS and the row appears. The latency is measured by
`relaydesk bench push`, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from relaydesk.channels.generic import sign
from tests.conftest import private_schema, require_postgres
from tests.e2e.test_inbox_browser import ORG_YAML, SHOTS, browser
from tests.scale.conftest import PrivateNats, free_port, private_nats

__all__ = ["browser", "private_nats"]

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.xdist_group("browser")]

SECRET_KEY = "scale-push-secret-key"


@dataclass
class TwoProcesses:
    page_url: str  # process A: serves the agent's page
    webhook_url: str  # process B: accepts the webhook and processes it
    logs: list[Path]

    def log_tails(self) -> str:
        """The end of each server's log, for a failure's message."""
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs)


def _organisation(url: str, data_dir: Path) -> int:
    """Migrate the schema and apply the test organisation; the north shop's generic account id."""
    from relaydesk.config.loader import load_config
    from relaydesk.config.service import apply_config
    from relaydesk.container import build_container
    from relaydesk.db import transaction
    from relaydesk.migrate import upgrade
    from relaydesk.models import ChannelAccount
    from relaydesk.pipeline.bus.inproc import InProcessBus
    from relaydesk.settings import Settings
    from relaydesk.triage.lexicon import LexiconTriager

    upgrade(url)
    settings = Settings(database_url=url, data_dir=data_dir, secret_key=SECRET_KEY, background_tasks=False)
    container = build_container(settings, triager=LexiconTriager(), bus=InProcessBus())
    try:
        loaded = load_config(ORG_YAML, allow_plain_passwords=True)
        assert loaded.config is not None, loaded.problems
        with transaction(container.sessions) as session:
            apply_config(session, loaded.config, container.box)
            return int(
                session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
            )
    finally:
        container.close()


def _serve(url: str, nats: PrivateNats, tmp: Path, name: str, worker_threads: int) -> tuple[Any, str]:
    port = free_port()
    env = {
        **os.environ,
        "RELAYDESK_DATABASE_URL": url,
        "RELAYDESK_BUS_URL": nats.url,
        "RELAYDESK_SECRET_KEY": SECRET_KEY,
        "RELAYDESK_DATA_DIR": str(tmp / name),
        "RELAYDESK_TRIAGE_BACKEND": "lexicon",
        "RELAYDESK_WORKER_THREADS": str(worker_threads),
    }
    log = (tmp / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "relaydesk.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve {name} exited with {process.returncode}; see {tmp / name}.log")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"serve {name} did not answer within 90 s; see {tmp / name}.log")


def _stop(process: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


@pytest.fixture
def two_processes(tmp_path: Path, private_nats: PrivateNats) -> Iterator[tuple[TwoProcesses, int]]:
    require_postgres()
    processes: list[Any] = []
    with private_schema("rd_push") as url:
        try:
            north = _organisation(url, tmp_path / "setup")
            a, page_url = _serve(url, private_nats, tmp_path, "serve-a", worker_threads=0)
            processes.append(a)
            b, webhook_url = _serve(url, private_nats, tmp_path, "serve-b", worker_threads=1)
            processes.append(b)
            logs = [tmp_path / "serve-a.log", tmp_path / "serve-b.log"]
            yield TwoProcesses(page_url, webhook_url, logs), north
        finally:
            for process in processes:
                _stop(process)


def test_a_message_accepted_by_another_api_process_appears_without_reload(
    browser: Any, two_processes: tuple[TwoProcesses, int]
) -> None:
    servers, north = two_processes
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{servers.page_url}/login")
    page.fill("#email", "admin@test.example")
    page.fill("#password", "relaydesk")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{servers.page_url}/")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.wait_for_timeout(500)  # the live stream is open before the message arrives

    body = json.dumps(
        {
            "id": "scale-push-1",
            "author": {"id": "scale-1", "name": "Roya Karimi"},
            "text": "Is my parcel lost?",
        }
    ).encode()
    answer = httpx.post(
        f"{servers.webhook_url}/webhooks/generic/{north}",
        content=body,
        headers={"Content-Type": "application/json", "X-RelayDesk-Signature": sign(body, "north-secret")},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text + servers.log_tails()

    row = page.locator("tr.conv", has_text="Roya Karimi")
    try:
        row.wait_for(timeout=30_000)
    except Exception as exc:
        raise AssertionError(f"the row did not appear: {exc}\n{servers.log_tails()}") from exc
    assert "fresh" in (row.get_attribute("class") or "")
    assert page.evaluate("window.__sameDocument === true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live-inbox-other-process.png"), full_page=True)
    page.context.close()
