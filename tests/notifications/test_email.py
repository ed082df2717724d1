"""E-mail notifications: SMTP settings, after-commit delivery, failures logged without secrets."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.auth.service import scope_for
from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.core.timeutil import as_utc
from relaydesk.db import make_engine, transaction
from relaydesk.models import ChannelAccount, Conversation, Department, Notification, RoutingRule, User
from relaydesk.notifications import mailer
from tests.notifications.smtp_sink import Sink, smtp_sink

PASSWORD = "p@ss/w0rd"  # URL-encoded below; must never show up in a log line


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    with smtp_sink() as server:
        monkeypatch.setenv(mailer.URL_ENV, f"smtp://bot%40desk:p%40ss%2Fw0rd@{server.host}:{server.port}")
        monkeypatch.setenv(mailer.FROM_ENV, "RelayDesk <desk@brand.example>")
        yield server


def mail(to: str = "Sam <sam@test.example>", subject: str = "Hi", text: str = "body") -> mailer.Mail:
    return mailer.Mail(to, subject, text)


# --- settings ------------------------------------------------------------------------------------


def test_smtp_urls_parse() -> None:
    plain = mailer.parse_smtp_url("smtp://mail.example")
    assert (plain.host, plain.port, plain.tls, plain.starttls, plain.username) == (
        "mail.example",
        25,
        False,
        False,
        None,
    )
    submission = mailer.parse_smtp_url("smtp://u%40x:p%2F1@mail.example:587?starttls=true", "a@b.example")
    assert (submission.port, submission.starttls, submission.username, submission.password) == (
        587,
        True,
        "u@x",
        "p/1",
    )
    assert submission.sender == "a@b.example"
    tls = mailer.parse_smtp_url("smtps://mail.example")
    assert (tls.port, tls.tls) == (465, True)
    assert PASSWORD not in repr(mailer.parse_smtp_url(f"smtp://u:{PASSWORD.replace('/', '%2F')}@h"))


@pytest.mark.parametrize(
    ("url", "sender", "problem"),
    [
        ("http://u:secret@mail.example", None, "must start with smtp:// or smtps://"),
        ("smtp://u:secret@", None, "no host name"),
        ("smtp://u:secret@mail.example:99999", None, "not a valid URL"),
        ("smtps://u:secret@mail.example?starttls=1", None, "not both"),
        ("smtp://u:secret@mail.example", "nobody", "must be an e-mail address"),
    ],
)
def test_bad_smtp_settings_are_explained_without_the_password(
    url: str, sender: str | None, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem) as info:
        mailer.parse_smtp_url(url, sender)
    assert "secret" not in str(info.value)


def test_off_when_unset_or_invalid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    monkeypatch.delenv(mailer.URL_ENV, raising=False)
    with Session(engine) as session:
        assert mailer.queue(session, [mail()]) == 0
        monkeypatch.setenv(mailer.URL_ENV, "ftp://u:secret@mail.example")
        assert mailer.queue(session, [mail()]) == 0
    assert "e-mail notifications are off" in caplog.text and "secret" not in caplog.text


def test_customer_text_cannot_inject_headers() -> None:
    message = mailer.build_message(
        "desk@brand.example", mail(subject="Help\r\nBcc: victim@example.com\nX-Evil: 1", text="x" * 9000)
    )
    assert message["Subject"] == "Help Bcc: victim@example.com X-Evil: 1"
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert len(message.get_content()) <= mailer.BODY_MAX + 1
    assert mailer.recipient("Eve\r\nBcc: x@y.example", "eve@test.example") == (
        '"Eve Bcc: x@y.example" <eve@test.example>'
    )


# --- delivery ------------------------------------------------------------------------------------


def test_sent_after_commit_never_on_rollback(sink: Sink, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with Session(engine) as session:
        assert mailer.queue(session, [mail(subject="rolled back")]) == 1
        session.rollback()
        assert mailer.queue(session, [mail(subject="committed"), mail(to="not an address")]) == 1
        mailer.wait_idle()
        assert sink.mails == []  # nothing before the commit
        session.commit()
    mailer.wait_idle()
    assert [m.message["Subject"] for m in sink.mails] == ["committed"]
    received = sink.mails[0]
    assert received.sender == "desk@brand.example"
    assert received.recipients == ["sam@test.example"]
    assert received.auth == f"bot@desk:{PASSWORD}"
    assert received.message["Auto-Submitted"] == "auto-generated"


def test_a_dead_server_is_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = mailer.parse_smtp_url(f"smtp://bot:{PASSWORD.replace('/', '%2F')}@127.0.0.1:{port}")
    with caplog.at_level(logging.WARNING, logger="relaydesk.notifications.mailer"):
        assert mailer.send(config, mail(text="private customer text")) is False
    assert f"127.0.0.1:{port} failed: ConnectionRefusedError" in caplog.text
    assert PASSWORD not in caplog.text and "w0rd" not in caplog.text
    assert "private customer text" not in caplog.text


# --- end to end ----------------------------------------------------------------------------------


def _account(container: Container, key: str) -> int:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == key)).one()


def _accept(container: Container, external_id: str, text: str) -> int:
    event = InboundEvent(network="generic", external_id=external_id, author_id="mailer", text=text)
    return container.pipeline.accept(_account(container, "north-generic"), event).conversation_id


def test_escalation_mails_the_assignee_and_department_managers(container: Container, sink: Sink) -> None:
    conversation_id = _accept(container, "mail-sla", "سلام، سفارشم هنوز نرسیده. کی می‌رسه؟")
    with container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        due = as_utc(conversation.next_response_due)
    assert due is not None
    assert container.conversations.tick(due + timedelta(minutes=1))["breaches"] == 1
    mailer.wait_idle()
    # sam is assigned; nora manages the service department.
    assert sorted(r for m in sink.mails for r in m.recipients) == ["nora@test.example", "sam@test.example"]
    subject = sink.mails[0].message["Subject"]
    assert subject == f"[RelayDesk] SLA escalation: conversation #{conversation_id}"
    assert "SLA breached" in sink.mails[0].message.get_content()


def test_a_mention_mails_the_colleague_asked_for_help(container: Container, sink: Sink) -> None:
    conversation_id = _accept(container, "mail-note", "Where is my order? It is late")
    with container.sessions() as session:
        sam = session.scalars(select(User).where(User.handle == "sam")).one()
        scope = scope_for(session, sam)
    container.conversations.note(scope, conversation_id, "@sia can you check the courier?")
    mailer.wait_idle()
    assert [m.recipients for m in sink.mails] == [["sia@test.example"]]
    assert sink.mails[0].message["Subject"].startswith("[RelayDesk] You were mentioned")
    assert "check the courier" in sink.mails[0].message.get_content()


def test_every_rule_action_applies_end_to_end(container: Container, sink: Sink) -> None:
    with transaction(container.sessions) as session:
        org_id = session.scalars(select(User.org_id).where(User.handle == "nora")).one()
        session.add(
            RoutingRule(
                org_id=org_id,
                name="press",
                position=-1,
                conditions={"keywords": ["journalist"], "contact": {"open_conversations_at_least": 0}},
                actions={
                    "department": "sales",
                    "priority": "high",
                    "tags": ["press"],
                    "assignee": "sally",
                    "require_approval": True,
                    "notify": ["nora", "pr@brand.example"],
                },
            )
        )
    conversation_id = _accept(container, "mail-rule", "I am a journalist writing about your delivery times")
    with container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        sally = session.scalars(select(User).where(User.handle == "sally")).one()
        nora = session.scalars(select(User).where(User.handle == "nora")).one()
        department = session.get(Department, conversation.department_id)
        notified = session.scalars(
            select(Notification.user_id).where(
                Notification.conversation_id == conversation_id, Notification.kind == "rule"
            )
        ).all()
    assert department is not None and department.key == "sales"
    assert conversation.priority == "high"
    assert {"press", "needs-approval"} <= set(conversation.tags or [])
    assert conversation.assignee_id == sally.id
    assert notified == [nora.id]
    mailer.wait_idle()
    assert sorted(r for m in sink.mails for r in m.recipients) == ["nora@test.example", "pr@brand.example"]
    assert all("press" in m.message.get_content() for m in sink.mails)
