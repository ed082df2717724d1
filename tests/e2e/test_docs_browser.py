"""/docs in a real browser with every outside host blocked: Swagger UI must still draw the API."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from relaydesk.settings import Settings

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_swagger_ui_and_redoc_render_air_gapped(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is not installed; browser tests need it")
        pytest.skip(f"{CHROMIUM} is not installed")
    import uvicorn
    from playwright.sync_api import Request, Route, sync_playwright

    from relaydesk.app import create_app
    from relaydesk.migrate import upgrade

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rd.db'}",
        data_dir=tmp_path,
        secret_key="e2e-secret-key",
        background_tasks=False,
        triage_backend="lexicon",
    )
    upgrade(settings.database_url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    outside: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()

            def only_loopback(route: Route, request: Request) -> None:
                if (
                    request.url.startswith(("data:", "blob:"))
                    or urlsplit(request.url).hostname == "127.0.0.1"
                ):
                    route.continue_()
                else:
                    outside.append(request.url)
                    route.abort()

            page.route("**/*", only_loopback)
            page.goto(f"http://127.0.0.1:{port}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)  # one block per operation
            assert page.locator(".opblock").count() > 20
            assert "webhooks" in page.inner_text("#swagger-ui")
            page.goto(f"http://127.0.0.1:{port}/redoc")
            page.wait_for_selector("[data-section-id]", timeout=20_000)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert outside == []
