"""README.md's five-minute tour, run as written against a live server.

The tour's shell blocks are read from README.md (and `make run` from the Makefile), so the
documentation and this test cannot drift apart: `.venv/bin/` becomes this interpreter's bin
directory and `http://127.0.0.1:8000` the address of a `relaydesk serve` started here on a free
loopback port. Every curl runs with `--fail-with-body`, so any answer outside 2xx fails its block.

The triage backend is the lexicon one: the model backend replays the demo several times slower
on a small machine, and the tour's commands do not depend on which backend read the messages
(the conversation Sara works on is looked up through the API, not assumed).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

# One worker runs the whole tour: its module-scoped server (`make run`) is started once, not once per worker.
pytestmark = pytest.mark.xdist_group("readme-tour")

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
README_URL = "http://127.0.0.1:8000"
START_TIMEOUT = 180.0  # seconds for `relaydesk serve` to answer, however loaded the machine is
SHELL_PRELUDE = """\
set -euo pipefail
shopt -s inherit_errexit
curl() { command curl --fail-with-body --show-error "$@"; }
"""


def tour_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## A five-minute tour")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def tour_blocks() -> list[str]:
    """The tour's ```sh blocks, in order, dedented."""
    blocks = []
    for raw in re.findall(r"```sh\n(.*?)```", tour_section(), flags=re.DOTALL):
        lines = raw.splitlines()
        indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
        blocks.append("\n".join(line[indent:] for line in lines).strip("\n") + "\n")
    return blocks


def make_run_recipe() -> list[str]:
    """The commands of the Makefile's `run` target, with `$(BIN)/` spelled out."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe is not None, "the Makefile has no `run` target"
    return [line.strip().replace("$(BIN)/", f"{BIN}/") for line in recipe.group(1).splitlines()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Live:
    url: str
    env: dict[str, str]
    cwd: Path

    def sh(self, script: str) -> subprocess.CompletedProcess[str]:
        script = script.replace(".venv/bin/", f"{BIN}/").replace(README_URL, self.url)
        return subprocess.run(
            ["bash", "-c", SHELL_PRELUDE + script],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=600,
        )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """`make run` on a fresh data directory: init --demo, then serve on a free loopback port."""
    home = tmp_path_factory.mktemp("tour")
    port = free_port()
    env = {
        **os.environ,
        "RELAYDESK_DATABASE_URL": f"sqlite:///{home / 'relaydesk.db'}",
        "RELAYDESK_DATA_DIR": str(home / "var"),
        "RELAYDESK_TRIAGE_BACKEND": "lexicon",
        "RELAYDESK_HOST": "127.0.0.1",
        "RELAYDESK_PORT": str(port),
        "COLUMNS": "80",
    }
    *setup, serve = make_run_recipe()
    for command in setup:
        done = subprocess.run(command.split(), capture_output=True, text=True, env=env, cwd=home, timeout=900)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    log = (home / "serve.log").open("w")
    server = subprocess.Popen(serve.split(), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=home)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail("relaydesk serve exited:\n" + (home / "serve.log").read_text())
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("relaydesk serve did not answer:\n" + (home / "serve.log").read_text())
            time.sleep(0.5)
        yield Live(url, env, home)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _json_documents(text: str) -> list[Any]:
    """Concatenated JSON answers (curl prints them back to back)."""
    decoder = json.JSONDecoder()
    found, at = [], 0
    text = text.strip()
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        found.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return found


def _block(containing: str) -> str:
    matches = [b for b in tour_blocks() if containing in b]
    assert len(matches) == 1, f"expected one tour block with {containing!r}"
    return matches[0]


def test_the_tour_has_the_blocks_this_test_checks() -> None:
    assert len(tour_blocks()) == 4
    assert make_run_recipe()[-1].endswith("relaydesk serve")


def test_step_1_log_in_as_the_owner(live: Live) -> None:
    found = re.search(r"log in as `([^`]+)` with the\s+demo password `([^`]+)`", tour_section())
    assert found is not None
    email, password = found.groups()
    with httpx.Client(base_url=live.url, follow_redirects=True, timeout=60) as browser:
        form = browser.get("/login")
        assert form.status_code == 200
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None
        inbox = browser.post(
            "/login", data={"email": email, "password": password, "login_token": token.group(1), "next": "/"}
        )
        assert inbox.status_code == 200 and inbox.url.path == "/", inbox.text[:500]
        assert 'name="login_token"' not in inbox.text  # the inbox, not the login form again
        assert browser.get("/docs").status_code == 200


def test_step_2_demo_and_report(live: Live) -> None:
    demo_line, report_line = _block("relaydesk demo").splitlines()
    demo = live.sh(demo_line)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    # The address it prints is where the server listens (RELAYDESK_PORT), not a fixed 8000.
    assert f"log in at {live.url} as owner@saffron.example" in " ".join(demo.stdout.split())
    # Readable at 80 columns: nothing wider, nothing cut to "…".
    assert max(len(line) for line in demo.stdout.splitlines()) <= 80
    assert "…" not in demo.stdout
    assert "0 new demo message(s)" in demo.stdout  # `make run` replayed them already
    assert "demo organisation already present" in demo.stdout
    report = live.sh(report_line)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "KPIs" in report.stdout and "dept service" in report.stdout


def test_step_3_the_api_as_sara(live: Live) -> None:
    done = live.sh(_block("relaydesk token sara@saffron.example"))
    assert done.returncode == 0, done.stdout + done.stderr
    listed, detail, transferred = _json_documents(done.stdout)
    assert listed["items"] and {c["language"] for c in listed["items"]} == {"fa"}
    conversation = detail["conversation"]["id"]
    assert conversation in {c["id"] for c in listed["items"]}
    assert transferred["conversation"]["id"] == conversation
    assert transferred["conversation"]["department"]["key"] == "support"


def test_step_4_triage_from_the_command_line(live: Live) -> None:
    done = live.sh(_block("relaydesk triage"))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [(r["id"], r["lang"]) for r in rows] == [(1, "fa"), (2, "th")]


def test_step_5_a_signed_webhook_delivered_twice(live: Live) -> None:
    block = _block("/webhooks/generic/")
    done = live.sh(block)
    assert done.returncode == 0, done.stdout + done.stderr
    first, again = _json_documents(done.stdout)
    assert first["accepted"][0]["duplicate"] is False
    assert again["accepted"][0]["duplicate"] is True
    assert again["accepted"][0]["event_id"] == first["accepted"][0]["event_id"]
    # The README says the id is saffron-reviews' and that `channels check` shows it.
    account_id = re.search(r"/webhooks/generic/(\d+)", block)
    assert account_id is not None
    check = subprocess.run(
        [str(BIN / "relaydesk"), "channels", "check"],
        capture_output=True,
        text=True,
        env={**live.env, "COLUMNS": "200"},
        cwd=live.cwd,
        timeout=300,
    )
    assert re.search(rf"│\s*{account_id.group(1)}\s*│\s*saffron-reviews\s*│", check.stdout), check.stdout
