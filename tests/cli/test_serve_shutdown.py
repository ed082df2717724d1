"""`relaydesk serve` stops promptly on Ctrl-C even while a browser holds a live stream open.

A real server process: the hang this guards against (uvicorn waiting for every /live stream to
end by itself) only shows with real connections and a real signal.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from relaydesk.cli.main import SHUTDOWN_GRACE_S


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ctrl_c_ends_serve_while_a_live_stream_is_open(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(
        os.environ,
        RELAYDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'rd.db'}",
        RELAYDESK_DATA_DIR=str(tmp_path),
        RELAYDESK_SECRET_KEY="shutdown-test-key",
        RELAYDESK_TRIAGE_BACKEND="lexicon",
    )
    command = [sys.executable, "-m", "relaydesk.cli.main"]
    subprocess.run([*command, "init", "--demo"], env=env, check=True, capture_output=True, timeout=300)
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        client = httpx.Client(base_url=base)
        token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        form = {"email": "owner@saffron.example", "password": "relaydesk", "login_token": token.group(1)}
        assert client.post("/login", data={**form, "next": "/"}).status_code == 303
        opened = threading.Event()

        def listen() -> None:
            try:
                with client.stream("GET", "/live", timeout=None) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("retry:"):
                            opened.set()
            except httpx.HTTPError:
                pass

        threading.Thread(target=listen, daemon=True).start()
        assert opened.wait(30), "the live stream did not open"
        server.send_signal(signal.SIGINT)
        # Bounded by the grace period (plus start-up of the shutdown), never by the open tab.
        assert server.wait(timeout=SHUTDOWN_GRACE_S + 20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
