from __future__ import annotations

import asyncio
import base64
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from relaydesk.channels import email as email_channel
from relaydesk.channels.base import OutboundRequest

FIXTURES = Path(__file__).parent / "fixtures" / "email"
MAILBOX = "support@brand.example"


def _load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_module_name_does_not_shadow_the_stdlib_email_package() -> None:
    import email

    assert email.__name__ == "email" and hasattr(email, "message_from_bytes")
    assert email_channel.__name__ == "relaydesk.channels.email"


# -- parsing ---------------------------------------------------------------------------------


def test_persian_root_message_with_encoded_headers() -> None:
    result = email_channel.parse(_load("persian_root.eml"), mailbox=MAILBOX)
    assert result.errors == [] and result.ignored == []
    parsed = result.events[0]
    event = parsed.event
    assert parsed.account_ref == MAILBOX and parsed.action == "create"
    assert event.network == "email"
    assert event.external_id == "<root-1@mail.example.ir>"
    assert event.thread_id == "<root-1@mail.example.ir>"
    assert event.reply_to_id is None
    assert event.author_id == "maryam@example.ir"
    assert event.author_name == "مریم احمدی"
    assert event.raw["subject"] == "سفارش شماره ۱۲۳۴ هنوز نرسیده"
    assert event.text == "سلام، سفارش من هنوز نرسیده است.\nلطفاً پیگیری کنید."  # signature dropped
    assert event.sent_at == datetime(2024, 5, 1, 5, 45, tzinfo=UTC)
    assert event.lang_hint == "fa"


def test_reply_threads_to_the_root_and_prefers_plain_text() -> None:
    event = email_channel.parse(_load("thai_reply_with_attachments.eml"), mailbox=MAILBOX).events[0].event
    assert event.external_id == "<reply-2@mail.example.ir>"
    assert event.thread_id == "<root-1@mail.example.ir>"
    assert event.reply_to_id == "<brand-1@brand.example>"
    assert event.author_name == "נועה לוי"
    assert event.raw["subject"] == "สอบถามเรื่องการคืนสินค้า"
    assert event.text == "ขอบคุณค่ะ แต่ยังไม่ได้รับของเลย"  # quoted history and "wrote:" line dropped
    assert "HTML version" not in event.text


def test_attachments_are_metadata_only() -> None:
    event = email_channel.parse(_load("thai_reply_with_attachments.eml")).events[0].event
    assert [(a.kind, a.name, a.mime_type) for a in event.attachments] == [
        ("image", "صورة.jpg", "image/jpeg"),
        ("file", "invoice.pdf", "application/pdf"),
    ]
    assert all(a.url is None for a in event.attachments)


def test_html_only_message_becomes_safe_text() -> None:
    event = email_channel.parse(_load("arabic_html_only.eml")).events[0].event
    text = event.text
    assert event.raw["subject"] == "استفسار عن الفاتورة"
    assert event.author_name == "أحمد"
    assert 'مرحبا، "الفاتورة" & الإيصال <b> مفقودة' in text  # entities decoded to plain characters
    assert "Line two\nLine three" in text
    assert "- item one\n- item two" in text
    for leaked in (
        "alert",
        "color: red",
        "ignored title",
        "injected",
        "hidden comment",
        "tracker",
        "<p",
        "<img",
    ):
        assert leaked not in text


def test_html_to_text_drops_scripts_styles_and_tags() -> None:
    html = (
        "<div onclick='steal()'>Hi&nbsp;<b>there</b> &lt;3 &amp; &#1587;&#1604;&#1575;&#1605;</div>"
        "<script>var a = '<p>not text</p>';</script><style>.x{}</style><SCRIPT>evil()</SCRIPT>ok"
    )
    text = email_channel.html_to_text(html)
    assert text == "Hi there <3 & سلام\nok"


def test_auto_replies_are_ignored_to_avoid_mail_loops() -> None:
    result = email_channel.parse(_load("auto_reply.eml"), mailbox=MAILBOX)
    assert result.events == [] and result.ignored == ["auto-reply from pat@example.com"]


def test_bounce_becomes_a_failed_status_for_our_message() -> None:
    result = email_channel.parse(_load("bounce.eml"), mailbox=MAILBOX)
    assert result.events == []
    (status,) = result.statuses
    assert status.external_id == "<rd.abc123@brand.example>"
    assert status.status == "failed"
    assert status.recipient_id == "nobody@example.org"
    assert "550 5.1.1" in (status.error or "")


def test_message_without_message_id_gets_a_stable_id() -> None:
    raw = b"From: a@example.com\r\nTo: support@brand.example\r\nSubject: hi\r\n\r\nhello\r\n"
    first = email_channel.parse(raw).events[0].event
    again = email_channel.parse(raw).events[0].event
    assert first.external_id == again.external_id and first.external_id.endswith("@relaydesk.invalid>")
    assert first.thread_id == first.external_id
    assert email_channel.parse(raw).events[0].account_ref == "support@brand.example"


def test_our_own_messages_are_echoes() -> None:
    raw = b"From: Support <SUPPORT@brand.example>\r\nTo: a@example.com\r\nMessage-ID: <x@b>\r\n\r\nhi\r\n"
    assert email_channel.parse(raw, mailbox=MAILBOX).events[0].action == "echo"


def test_missing_sender_and_garbage_are_errors() -> None:
    assert email_channel.parse(b"To: a@example.com\r\n\r\nhi").errors == [
        "From: field required (no sender address)"
    ]
    assert email_channel.parse(b"").errors == ["message: no RFC 5322 headers found"]


def test_empty_body_falls_back_to_the_subject() -> None:
    raw = b"From: a@example.com\r\nSubject: Refund please\r\nMessage-ID: <e@x>\r\n\r\n"
    assert email_channel.parse(raw).events[0].event.text == "Refund please"


def test_strip_quoted_keeps_inline_quotes_that_are_followed_by_an_answer() -> None:
    text = "> Is it shipped?\nYes, yesterday.\n"
    assert email_channel.strip_quoted(text) == "> Is it shipped?\nYes, yesterday."


# -- building replies ------------------------------------------------------------------------


def _req(**kw: object) -> OutboundRequest:
    base: dict[str, object] = {
        "network": "email",
        "account_external_id": MAILBOX,
        "recipient_id": "maryam@example.ir",
        "text": "سلام مریم، سفارش شما امروز ارسال شد.",
        "idempotency_key": "out-123",
        "reply_to_external_id": "<reply-2@mail.example.ir>",
        "thread_id": "<root-1@mail.example.ir>",
        "extra": {"subject": "سفارش شماره ۱۲۳۴ هنوز نرسیده"},
    }
    base.update(kw)
    return OutboundRequest(**base)  # type: ignore[arg-type]


def test_build_reply_sets_threading_headers_and_a_key_derived_message_id() -> None:
    msg = email_channel.build_reply(_req(), MAILBOX, "Brand Support")
    assert msg["In-Reply-To"] == "<reply-2@mail.example.ir>"
    assert msg["References"] == "<root-1@mail.example.ir> <reply-2@mail.example.ir>"
    assert msg["Subject"] == "Re: سفارش شماره ۱۲۳۴ هنوز نرسیده"
    assert msg["Message-ID"] == email_channel.message_id_for("out-123", MAILBOX)
    assert msg["Message-ID"].endswith("@brand.example>")
    assert email_channel.build_reply(_req(), MAILBOX)["Message-ID"] == msg["Message-ID"]
    assert (
        email_channel.build_reply(_req(idempotency_key="other"), MAILBOX)["Message-ID"] != msg["Message-ID"]
    )
    wire = msg.as_bytes()
    assert wire.isascii()  # non-ASCII subject/body are encoded for 7-bit transport
    reparsed = message_from_bytes(wire, policy=policy.default)
    assert isinstance(reparsed, EmailMessage)
    assert reparsed.get_content().strip() == _req().text  # type: ignore[union-attr]


def test_reply_subject_is_not_prefixed_twice() -> None:
    assert email_channel.reply_subject("RE: order") == "RE: order"
    assert email_channel.reply_subject(None) == "Re: your message"


# -- SMTP against a local fake server --------------------------------------------------------


@dataclass
class SmtpState:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    password: str = "app-password"
    greeting: str = "220 fake.smtp ESMTP ready"
    rejected: dict[str, str] = field(default_factory=dict)


class _SmtpHandler(socketserver.StreamRequestHandler):
    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        state: SmtpState = self.server.state  # type: ignore[attr-defined]
        self._say(state.greeting)
        if not state.greeting.startswith("220"):
            return
        sender, recipients = "", list[str]()
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-fake.smtp")
                self._say("250-8BITMIME")
                self._say("250 AUTH PLAIN")
            elif verb == "AUTH":
                password = base64.b64decode(command.split()[2]).decode().split("\0")[-1]
                self._say("235 ok" if password == state.password else "535 5.7.8 authentication failed")
            elif verb == "MAIL":
                sender, recipients = command[10:].strip("<> "), []
                self._say("250 ok")
            elif verb == "RCPT":
                rcpt = command[8:].strip("<> ")
                if rcpt in state.rejected:
                    self._say(state.rejected[rcpt])
                else:
                    recipients.append(rcpt)
                    self._say("250 ok")
            elif verb == "DATA":
                self._say("354 end with .")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                state.messages.append((sender, recipients, data))
                self._say("250 queued")
            elif verb in ("RSET", "NOOP"):
                self._say("250 ok")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpState, int]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.state = SmtpState()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.state, server.server_address[1]  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def _creds(port: int, **kw: object) -> dict[str, object]:
    creds: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": MAILBOX,
        "from_name": "Brand Support",
        "username": MAILBOX,
        "password": "app-password",
    }
    creds.update(kw)
    return creds


def test_smtp_send_delivers_a_threaded_reply(smtp_server: tuple[SmtpState, int]) -> None:
    state, port = smtp_server
    result = asyncio.run(email_channel.SmtpSender(timeout=5).send(_req(), _creds(port)))
    assert result.ok, result.error
    assert result.external_id == email_channel.message_id_for("out-123", MAILBOX)
    (sender, recipients, data) = state.messages[0]
    assert sender == MAILBOX and recipients == ["maryam@example.ir"]
    delivered = message_from_bytes(data, policy=policy.default)
    assert delivered["Message-ID"] == result.external_id
    assert delivered["In-Reply-To"] == "<reply-2@mail.example.ir>"
    assert "<root-1@mail.example.ir>" in delivered["References"]


def test_resend_after_a_crash_carries_the_same_message_id(smtp_server: tuple[SmtpState, int]) -> None:
    state, port = smtp_server
    sender = email_channel.SmtpSender(timeout=5)
    asyncio.run(sender.send(_req(), _creds(port)))
    asyncio.run(sender.send(_req(), _creds(port)))
    ids = {message_from_bytes(m[2], policy=policy.default)["Message-ID"] for m in state.messages}
    assert len(state.messages) == 2 and len(ids) == 1


def test_smtp_wrong_password_is_token_expired_without_leaking_it(smtp_server: tuple[SmtpState, int]) -> None:
    _, port = smtp_server
    result = asyncio.run(email_channel.SmtpSender(timeout=5).send(_req(), _creds(port, password="wrong-pw")))
    assert not result.ok and result.code == "token_expired" and not result.retryable
    assert "wrong-pw" not in (result.error or "")


@pytest.mark.parametrize(
    ("reply", "retryable", "code"),
    [("550 5.1.1 no such user", False, "recipient_refused"), ("450 4.2.0 mailbox busy", True, None)],
)
def test_smtp_recipient_refusals(
    smtp_server: tuple[SmtpState, int], reply: str, retryable: bool, code: str | None
) -> None:
    state, port = smtp_server
    state.rejected["maryam@example.ir"] = reply
    result = asyncio.run(email_channel.SmtpSender(timeout=5).send(_req(), _creds(port)))
    assert not result.ok and result.retryable is retryable and result.code == code


def test_smtp_busy_server_is_retryable(smtp_server: tuple[SmtpState, int]) -> None:
    state, port = smtp_server
    state.greeting = "421 4.3.2 too busy, try later"
    result = asyncio.run(email_channel.SmtpSender(timeout=5).send(_req(), _creds(port)))
    assert not result.ok and result.retryable


def test_smtp_connection_refused_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = asyncio.run(email_channel.SmtpSender(timeout=2).send(_req(), _creds(port)))
    assert not result.ok and result.retryable


def test_smtp_factory_can_be_injected() -> None:
    sent: list[EmailMessage] = []

    class FakeSmtp:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            self.address = (host, port)

        def starttls(self) -> None:
            sent.append(EmailMessage())  # marks that STARTTLS ran before sending

        def login(self, user: str, password: str) -> None:
            pass

        def send_message(self, msg: EmailMessage) -> None:
            sent.append(msg)

        def quit(self) -> None:
            pass

        def close(self) -> None:
            pass

    sender = email_channel.SmtpSender(smtp_factory=FakeSmtp)  # type: ignore[arg-type]
    result = sender.send_sync(
        _req(), {"host": "smtp.example", "from_address": MAILBOX, "security": "starttls"}
    )
    assert result.ok and len(sent) == 2 and sent[1]["To"] == "maryam@example.ir"


def test_missing_host_is_a_config_error() -> None:
    assert email_channel.SmtpSender().send_sync(_req(), {"from_address": MAILBOX}).code == "config"


def test_header_injection_in_the_recipient_is_refused() -> None:
    result = email_channel.SmtpSender().send_sync(
        _req(recipient_id="a@example.com\r\nBcc: victim@example.com"),
        {"host": "smtp.example", "from_address": MAILBOX},
    )
    assert not result.ok and result.code == "invalid_request"


def test_hostile_subject_stays_on_one_line() -> None:
    msg = email_channel.build_reply(_req(extra={"subject": "hi\r\nBcc: victim@example.com"}), MAILBOX)
    assert msg["Subject"] == "Re: hi Bcc: victim@example.com"
    assert msg["Bcc"] is None
