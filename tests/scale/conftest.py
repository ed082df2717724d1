"""A private nats-server per test, which the test may stop and start again (fault tests).

The shared NATS on :4222 cannot be restarted by a test without disturbing the others running in
parallel, so fault tests start their own server on a free port with its own JetStream store.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NATS_SERVER = os.environ.get("RELAYDESK_TEST_NATS_SERVER", "/usr/sbin/nats-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateNats:
    """One nats-server process with JetStream; `stop`/`start` keep its port and store directory."""

    def __init__(self, binary: str, store: Path, log: Path) -> None:
        self.binary = binary
        self.store = store
        self.log = log
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, store: Path | None = None) -> None:
        """Start (again) on the same port; `store` swaps in another JetStream directory (a fresh volume)."""
        assert self._proc is None, "already running"
        if store is not None:
            self.store = store
        args = [self.binary, "-js", "-sd", str(self.store), "-a", "127.0.0.1", "-p", str(self.port)]
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self._proc.returncode}; see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nats-server did not listen on {self.port} within 60 s; see {self.log}")

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=30)
        self._proc = None


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    binary = shutil.which(NATS_SERVER) or (NATS_SERVER if os.access(NATS_SERVER, os.X_OK) else None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"nats-server ({NATS_SERVER}) is required in CI but missing")
        pytest.skip(f"nats-server not found at {NATS_SERVER} (set RELAYDESK_TEST_NATS_SERVER)")
    server = PrivateNats(binary, tmp_path / "jetstream", tmp_path / "nats-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
