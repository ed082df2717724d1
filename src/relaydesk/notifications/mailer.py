"""E-mail notifications over SMTP (stdlib smtplib) for escalations, mentions, approvals and rules.

Configuration comes from the environment, like the webhooks, because the URL holds a password:

* ``RELAYDESK_SMTP_URL``: ``smtp://user:pass@host:587?starttls=true`` (plain or STARTTLS) or
  ``smtps://user:pass@host:465`` (TLS from the start); user and password are optional and
  URL-encoded. Unset or empty = e-mail is off and nothing is queued.
* ``RELAYDESK_SMTP_FROM``: the sender address (default ``relaydesk@localhost``).

Mails are queued on the session and sent only after its transaction commits, on a small background
pool: a slow or dead mail server never holds a database transaction or the message pipeline, and a
rolled-back unit of work sends nothing. A failed send is logged with the server's host and the
error's type only; never the URL, the password or the message body.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.orm import Session

from relaydesk.core.events import EmailRequested, publish_on_commit

log = logging.getLogger(__name__)

URL_ENV = "RELAYDESK_SMTP_URL"
FROM_ENV = "RELAYDESK_SMTP_FROM"
DEFAULT_SENDER = "relaydesk@localhost"
SUBJECT_MAX = 150
BODY_MAX = 5000
_TRUE = {"1", "true", "yes", "on"}

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="relaydesk-mail")
_pending: set[Future[bool]] = set()


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool = False  # TLS from the first byte (smtps)
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = DEFAULT_SENDER
    timeout: float = 10.0


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


def parse_smtp_url(url: str, sender: str | None = None) -> SmtpConfig:
    """The SMTP settings in ``url``; ValueError with a reason that never repeats the password."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{URL_ENV} is not a valid URL (bad port or syntax)") from exc
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"{URL_ENV} must start with smtp:// or smtps://, got {parts.scheme or 'nothing'}://")
    if not parts.hostname:
        raise ValueError(f"{URL_ENV} has no host name")
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = any(v.lower() in _TRUE for v in query.get("starttls", []))
    if tls and starttls:
        raise ValueError(f"{URL_ENV}: use smtps:// or ?starttls=true, not both")
    address = parseaddr(sender or DEFAULT_SENDER)[1]
    if "@" not in address:
        raise ValueError(f"{FROM_ENV} must be an e-mail address, got {sender!r}")
    return SmtpConfig(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        tls=tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=sender or DEFAULT_SENDER,
    )


def enabled() -> bool:
    """Cheap check before looking up recipients: is an SMTP URL set at all?"""
    return bool(os.environ.get(URL_ENV, "").strip())


def configured() -> SmtpConfig | None:
    """The SMTP settings from the environment, or None when e-mail is off or misconfigured."""
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        return None
    try:
        return parse_smtp_url(url, os.environ.get(FROM_ENV, "").strip() or None)
    except ValueError as exc:
        log.warning("e-mail notifications are off: %s", exc)
        return None


def _one_line(text: str) -> str:
    # Customer text reaches the subject: no CR/LF (header injection) and no runaway length.
    return " ".join(text.split())[:SUBJECT_MAX]


def build_message(sender: str, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = _one_line(mail.subject)
    message["Auto-Submitted"] = "auto-generated"  # so auto-responders do not answer back
    message.set_content(mail.text[:BODY_MAX])
    return message


def queue(session: Session, mails: Iterable[Mail]) -> int:
    """Send ``mails`` once this session commits; 0 when e-mail is off. One recipient per mail."""
    config = configured()
    if config is None:
        return 0
    wanted = [m for m in mails if "@" in parseaddr(m.to)[1] and "\n" not in m.to and "\r" not in m.to]
    if not wanted:
        return 0
    for m in wanted:
        publish_on_commit(session, EmailRequested(to=m.to, subject=m.subject, text=m.text))
    return len(wanted)


def recipient(name: str, address: str) -> str:
    return formataddr((_one_line(name), address))


def send(config: SmtpConfig, mail: Mail) -> bool:
    """Deliver one mail now; False (logged without secrets) on any failure."""
    try:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if config.tls:
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            if config.starttls:
                client.starttls(context=context)
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(build_message(config.sender, mail))
        return True
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        log.warning("e-mail via %s:%s failed: %s", config.host, config.port, type(exc).__name__)
        return False


def wait_idle(timeout: float = 10.0) -> None:
    """Block until queued mails are handed to the server (tests, and a clean shutdown)."""
    wait(list(_pending), timeout=timeout)


def submit(config: SmtpConfig, mail: Mail) -> None:
    """Hand one mail to the background pool (the e-mail listener, once the session committed)."""
    future = _pool.submit(send, config, mail)
    _pending.add(future)
    future.add_done_callback(_pending.discard)
