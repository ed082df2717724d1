"""The request body limit holds while a body streams: a chunked upload (no Content-Length) is
refused with 413 on every route before the app buffers more than the limit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.channels.generic import sign
from relaydesk.models import ChannelAccount, Message
from tests.api.conftest import login

CHUNK = 64 * 1024
SENT_AT_MOST = 16 * 1024 * 1024  # what the client would send if nothing stopped it


class Upload:
    """A chunked request body that counts how much of it the server pulled."""

    def __init__(self, head: bytes, filler: bytes = b"a") -> None:
        self.head = head
        self.filler = filler * CHUNK
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pulled += len(self.head)
        yield self.head
        while self.pulled < SENT_AT_MOST:
            self.pulled += len(self.filler)
            yield self.filler


def post_streamed(
    app: Any, path: str, upload: Upload, headers: dict[str, str], method: str = "POST"
) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, content=upload, headers=headers)

    return anyio.run(run)


def generic_account(container: Any) -> int:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()


ROUTES = {
    "api login": (
        "POST /api/v1/auth/login",
        b'{"email": "nora@test.example", "password": "',
        "application/json",
    ),
    "login form": (
        "POST /login",
        b"email=nora%40test.example&password=",
        "application/x-www-form-urlencoded",
    ),
    "meta webhook": ("POST /webhooks/meta", b'{"object": "page", "entry": [], "pad": "', "application/json"),
    "generic webhook": ("POST /webhooks/generic/{account}", b'{"id": "big", "text": "', "application/json"),
    "config": ("PUT /api/v1/config", b"organization:\n  name: ", "application/yaml"),
    "api token": ("POST /api/v1/tokens", b'{"name": "', "application/json"),
}
SIGNED_IN = {"config", "api token"}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_chunked_body_over_the_limit_is_refused_while_it_streams(
    app_client: TestClient, container: Any, route: str
) -> None:
    target, head, content_type = ROUTES[route]
    method, path = target.split(" ")
    path = path.format(account=generic_account(container))
    upload = Upload(head)
    headers = {"Content-Type": content_type, "X-RelayDesk-Signature": "sha256=00", "X-Hub-Signature-256": "x"}
    if route in SIGNED_IN:
        headers |= login(app_client, "admin@test.example")
    response = post_streamed(app_client.app, path, upload, headers, method)
    assert "content-length" not in {k.lower() for k in headers}
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"payload larger than {container.settings.max_body_bytes} bytes"
    # Refused at the limit, not after the whole upload: the app never held more than that.
    assert upload.pulled <= container.settings.max_body_bytes + 2 * CHUNK


def test_declared_length_over_the_limit_is_refused_before_the_route_runs(app_client: TestClient) -> None:
    huge = b'{"email": "nora@test.example", "password": "' + b"a" * (1024 * 1024) + b'"}'
    response = app_client.post(
        "/api/v1/auth/login", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_chunked_bodies_under_the_limit_still_work(app_client: TestClient, container: Any) -> None:
    class Small(Upload):
        def __init__(self, body: bytes) -> None:
            self.body = body

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for start in range(0, len(self.body), 1000):
                yield self.body[start : start + 1000]

    login = json.dumps({"email": "nora@test.example", "password": "relaydesk"}).encode()
    ok = post_streamed(
        app_client.app, "/api/v1/auth/login", Small(login), {"Content-Type": "application/json"}
    )
    assert ok.status_code == 200, ok.text

    account = generic_account(container)
    payload = {"id": "streamed-1", "author": {"id": "c1"}, "text": "x" * 500_000}
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-RelayDesk-Signature": sign(body, "north-secret")}
    accepted = post_streamed(app_client.app, f"/webhooks/generic/{account}", Small(body), headers)
    assert accepted.status_code == 202, accepted.text
    with container.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.external_id == "streamed-1")) == 1


def test_a_real_server_refuses_a_chunked_upload_at_the_limit(container: Any) -> None:
    """The same through uvicorn on a loopback port: HTTP/1.1 chunked framing, as an attacker sends it."""
    import socket
    import threading
    import time

    import uvicorn

    from relaydesk.app import create_app

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(container.settings, container), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)
        sent = 0

        def upload() -> Any:
            nonlocal sent
            yield b'{"email": "nora@test.example", "password": "'
            while sent < SENT_AT_MOST:
                sent += CHUNK
                yield b"a" * CHUNK

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            try:
                response = client.post(
                    "/api/v1/auth/login", content=upload(), headers={"Content-Type": "application/json"}
                )
            except httpx.WriteError:
                pytest.fail("the server closed the connection without answering 413")
            assert response.status_code == 413, response.text
            assert "larger than" in response.json()["detail"]
            ok = client.post(
                "/api/v1/auth/login", json={"email": "nora@test.example", "password": "relaydesk"}
            )
            assert ok.status_code == 200, ok.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
