"""Right-to-left text as Chromium lays it out: a Persian note led by a mention, ids, one time format."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from relaydesk.channels.base import InboundEvent
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, User
from tests.e2e.test_inbox_browser import CHROMIUM, _build_container

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_a_persian_note_led_by_a_mention_reads_right_to_left(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is not installed; browser tests need it")
        pytest.skip(f"{CHROMIUM} is not installed")
    import uvicorn
    from playwright.sync_api import sync_playwright

    from relaydesk.app import create_app

    container = _build_container(tmp_path)
    with transaction(container.sessions) as session:
        session.execute(update(User).where(User.email == "admin@test.example").values(timezone="Asia/Tehran"))
        north = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    accepted = container.pipeline.accept(
        north,
        InboundEvent(
            network="generic",
            external_id="rtl-1",
            author_id="m",
            author_name="مینا رضایی",
            text="سفارشم نرسیده",
        ),
    )
    conv = int(accepted.conversation_id)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(container.settings, container)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(f"{url}/login?next=/conversations/{conv}")
            page.fill("#email", "admin@test.example")
            page.fill("#password", "relaydesk")
            page.click("form button[type=submit]")
            page.wait_for_url(f"{url}/conversations/{conv}")
            page.fill("#note-text", "@sam لطفا موجودی را بررسی کن")
            page.click("button.note-button")
            page.wait_for_selector(".msg-note p.text")
            # The note went in the background and live updates may still replace the thread:
            # what is checked here is the page as served, so read one fresh load.
            page.reload()
            note = page.locator(".msg-note p.text").first
            assert note.evaluate("e => getComputedStyle(e).direction") == "rtl"
            mention = note.locator("bdi").first
            assert mention.inner_text() == "@sam"
            assert mention.evaluate("e => getComputedStyle(e).direction") == "ltr"
            number = page.locator("#convo-title bdi[dir=ltr]")
            assert number.inner_text() == f"#{conv}"
            assert number.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
            # The server's formatter is the only one: the browser shows its times as sent.
            sent = page.request.get(f"{url}/conversations/{conv}").text()
            served = re.findall(
                r"<time datetime=\"([^\"]+)\">([^<]*)</time>", sent
            )  # not the SLA's "in 12 min"
            shown = page.evaluate(
                "() => [...document.querySelectorAll('time:not([title])')].map(t => [t.dateTime, t.textContent])"
            )
            assert len(served) >= 3 and [tuple(pair) for pair in shown] == served
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.bus.close()
