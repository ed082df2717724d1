"""The inbox in a real browser: Debian's Chromium driven by Playwright against a live server.

One server and one browser for the module; the tests run in file order and share the data
(messages in Persian, Arabic, Hebrew, Thai and English). Screenshots go to /tmp/relaydesk-shots/.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Conversation, Department

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/relaydesk-shots")
ORG_YAML = Path(__file__).resolve().parents[1] / "fixtures" / "org.yaml"
MESSAGES = {
    "fa": "سلام، سفارشم هنوز نرسیده. کی می‌رسد؟ شماره سفارش ۴۵۲۱",
    "ar": "مرحبا، وصل الطلب مكسوراً وأريد استرداد أموالي",
    "he": "שלום, ההזמנה שלי לא הגיעה עדיין ואני מחכה כבר שבוע",
    "th": "สวัสดีครับ สั่งของไปสามวันแล้วยังไม่ได้รับเลย ช่วยตรวจสอบให้หน่อยครับ",
    "en": "My coffee arrived cold and the lid was broken <b>again</b>",
    "lead": "How much is the gift box? I want to buy two for my office",
}
NAMES = {
    "fa": "مینا رضایی",
    "ar": "سلمى",
    "he": "דנה כהן",
    "th": "สมชาย",
    "en": "Pat Jones",
    "lead": "Lee Wong",
}

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]  # one browser, one server


@dataclass
class World:
    container: Container
    url: str
    conversations: dict[str, int]


def _chromium_or_skip() -> None:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is not installed (apt-get install -y chromium); browser tests need it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


def _build_container(tmp: Path) -> Container:
    from relaydesk.config.loader import load_config
    from relaydesk.config.service import apply_config
    from relaydesk.container import build_container
    from relaydesk.db import make_engine, transaction
    from relaydesk.models import Base
    from relaydesk.pipeline.bus.inproc import InProcessBus
    from relaydesk.settings import Settings
    from relaydesk.triage.lexicon import LexiconTriager

    engine = make_engine(f"sqlite:///{tmp / 'relaydesk.db'}")
    Base.metadata.create_all(engine)
    settings = Settings(
        database_url=str(engine.url), data_dir=tmp, secret_key="e2e-secret-key", background_tasks=False
    )
    container = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    loaded = load_config(ORG_YAML, allow_plain_passwords=True)
    assert loaded.config is not None, loaded.problems
    with transaction(container.sessions) as session:
        apply_config(session, loaded.config, container.box)
    return container


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    _chromium_or_skip()  # no server to start when no browser will visit it
    import uvicorn

    from relaydesk.app import create_app

    container = _build_container(tmp_path_factory.mktemp("e2e"))
    with container.sessions() as session:
        north = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    conversations = {}
    for key, text in MESSAGES.items():
        accepted = container.pipeline.accept(
            north,
            InboundEvent(
                network="generic", external_id=f"e2e-{key}", author_id=key, author_name=NAMES[key], text=text
            ),
        )
        conversations[key] = int(accepted.conversation_id)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(container.settings, container), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield World(container, f"http://127.0.0.1:{port}", conversations)
    server.should_exit = True
    thread.join(timeout=10)


def accept(
    world: World, external_id: str, text: str, *, author: str | None = None, name: str = "Customer"
) -> int:
    """A message in through the pipeline, on the north shop's generic account; its conversation."""
    with world.container.sessions() as session:
        north = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    accepted = world.container.pipeline.accept(
        north,
        InboundEvent(
            network="generic",
            external_id=external_id,
            author_id=author or external_id,
            author_name=name,
            text=text,
        ),
    )
    return int(accepted.conversation_id)


def _department_of(world: World, key: str) -> str | None:
    with world.container.sessions() as session:
        conversation = session.get(Conversation, world.conversations[key])
        assert conversation is not None
        department = (
            session.get(Department, conversation.department_id) if conversation.department_id else None
        )
        return department.key if department else None


def _login(browser: Any, world: World, email: str, width: int = 1280, height: int = 900) -> Any:
    # Each login gets its own context (cookie jar), so tabs of one agent share the session.
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{world.url}/login")
    page.fill("#email", email)
    page.fill("#password", "relaydesk")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{world.url}/")
    return page


def test_login_and_the_sales_agent_sees_only_sales(browser: Any, world: World) -> None:
    assert _department_of(world, "lead") == "sales" and _department_of(world, "en") == "service"
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{world.url}/")
    assert page.url == f"{world.url}/login"
    page.fill("#email", "sally@test.example")
    page.fill("#password", "not-the-password")
    page.click("form button[type=submit]")
    assert page.locator("#login-error").inner_text() == "Wrong email or password."
    page.fill("#password", "relaydesk")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{world.url}/")
    links = page.locator("a.subject")
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert f"/conversations/{world.conversations['lead']}" in hrefs
    assert f"/conversations/{world.conversations['en']}" not in hrefs  # customer service's
    page.context.close()


def test_inbox_renders_rtl_and_ltr_scripts(browser: Any, world: World) -> None:
    page = _login(browser, world, "admin@test.example")
    for key, direction in (("fa", "rtl"), ("ar", "rtl"), ("he", "rtl"), ("th", "ltr"), ("en", "ltr")):
        subject = page.locator(f'a.subject[href="/conversations/{world.conversations[key]}"]')
        assert subject.get_attribute("dir") == "auto"
        assert subject.evaluate("el => getComputedStyle(el).direction") == direction, key
        assert subject.inner_text().startswith(MESSAGES[key][:12].replace("<b>", ""))
    # Customer markup is shown as text, never rendered.
    assert page.locator("a.subject b").count() == 0
    assert page.locator('a.subject:has-text("<b>again</b>")').count() == 1
    page.screenshot(path=str(SHOTS / "inbox.png"), full_page=True)
    page.keyboard.press("j")  # the first row, then open it
    page.keyboard.press("o")
    page.wait_for_url(f"{world.url}/conversations/*")
    page.context.close()

    phone = _login(browser, world, "admin@test.example", width=390, height=844)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    phone.screenshot(path=str(SHOTS / "inbox-phone.png"), full_page=True)
    phone.context.close()


def test_reply_note_transfer_and_resolve(browser: Any, world: World) -> None:
    page = _login(browser, world, "nora@test.example")  # manager of service and sales
    problems: list[str] = []  # script errors and Content-Security-Policy violations
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    conversation = world.conversations["fa"]
    page.click(f'a.subject[href="/conversations/{conversation}"]')
    page.wait_for_url(f"{world.url}/conversations/{conversation}")
    # Every change below is sent in the background: the page itself is never loaded again.
    page.evaluate("window.stayedOnThePage = true")
    inbound = page.locator(".msg-inbound .text").first
    assert inbound.get_attribute("lang") == "fa"
    assert inbound.evaluate("el => getComputedStyle(el).direction") == "rtl"
    why = page.locator("details.why").first
    assert not why.evaluate("el => el.open")
    why.locator(":scope > summary").click()
    assert why.locator("li").count() >= 1

    page.fill("#reply-text", "سلام! سفارش شما امروز می‌رسد.")
    page.keyboard.press("Control+Enter")  # the shortcut sends the reply
    expect(page.locator(".flash")).to_have_text("Reply sent.")
    outbound = page.locator(".msg-outbound").last
    assert outbound.locator(".text").inner_text() == "سلام! سفارش شما امروز می‌رسد."
    assert outbound.locator(".delivery").inner_text() in ("queued", "sent")

    page.fill("#note-text", "@sam the courier says today")
    page.click("form.note button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Note added.")
    assert "asked @sam for help" in page.locator(".timeline").inner_text()

    page.select_option("#transfer-dept", "sales")
    page.fill("#transfer-note", "Wants to add a gift box to the order")
    page.click("form[action$='/transfer'] button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Transferred to Sales.")
    assert "Handed off from Customer service to Sales" in page.locator(".timeline").inner_text()
    assert _department_of(world, "fa") == "sales"
    page.screenshot(path=str(SHOTS / "conversation.png"), full_page=True)

    page.click("button.resolve")
    expect(page.locator(".flash")).to_have_text("Resolved.")
    assert page.locator(".facts .status").inner_text() == "resolved"
    assert page.locator("button[value=reopen]").count() == 1
    assert page.evaluate("window.stayedOnThePage") is True
    assert problems == []
    page.context.close()


def test_an_invalid_change_is_a_message_not_a_traceback(browser: Any, world: World) -> None:
    page = _login(browser, world, "admin@test.example")
    conversation = world.conversations["ar"]
    page.goto(f"{world.url}/conversations/{conversation}")
    stale = page.context.new_page()  # a second tab, still showing the open conversation
    stale.goto(f"{world.url}/conversations/{conversation}")
    page.click("button.resolve")
    expect(page.locator(".flash")).to_have_text("Resolved.")
    stale.click("button.resolve")
    flash = stale.locator(".flash.error")
    expect(flash).to_be_visible()
    assert "This conversation is resolved now, so that change does not apply" in flash.inner_text()
    assert "Traceback" not in stale.content()
    stale.close()
    page.goto(f"{world.url}/reports")
    assert page.locator(".kpi").count() >= 5
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
    page.context.close()


def test_a_page_on_another_port_cannot_change_anything_with_the_agents_cookie(
    browser: Any, world: World
) -> None:
    """CSRF from the same site: another port's page gets the session cookie sent, not the token."""
    import http.server

    conversation = world.conversations["he"]
    target = f"{world.url}/api/v1/conversations/{conversation}"
    attack = (
        "<!doctype html><title>win a prize</title><script>"
        f'fetch("{target}/resolve", {{method: "POST", credentials: "include", mode: "no-cors"}});'
        "</script>"
    ).encode()

    class Attacker(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(attack)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = _login(browser, world, "admin@test.example")
        with world.container.sessions() as session:
            before = session.get(Conversation, conversation).status  # type: ignore[union-attr]
        assert before != "resolved"
        with page.expect_response(f"{target}/resolve") as sent:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        assert sent.value.status == 403  # the cookie arrived; the token did not
        with world.container.sessions() as session:
            assert session.get(Conversation, conversation).status == before  # type: ignore[union-attr]
        page.context.close()
    finally:
        server.shutdown()
        server.server_close()
