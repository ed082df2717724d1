"""Email: RFC 5322 parsing (threads, safe text, attachments, bounces) and SMTP replies.

This module shares its name with the stdlib package; absolute imports (``from email import
policy``) still resolve to the stdlib because a package module is never a top-level name.

- external id: the Message-ID (angle brackets kept, so it can go back into In-Reply-To);
  a message without one gets a stable id derived from its bytes, so redelivery dedupes.
- thread id: the root Message-ID (first of References, else In-Reply-To, else its own).
- text: text/plain when present, else the HTML turned into plain text; quoted history at the end
  and the ``-- `` signature are dropped (the whole body stays out of ``raw`` to keep rows small).
- attachments: only metadata (name, MIME type); the content is not stored inline.
- `account_ref`: the mailbox address we received it on (given by the caller, else the first To).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import smtplib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr
from html.parser import HTMLParser
from typing import Any

from relaydesk.channels.base import (
    Attachment,
    InboundEvent,
    OutboundRequest,
    ParsedEvent,
    ParseResult,
    SendResult,
    StatusUpdate,
)
from relaydesk.channels.channel import ALWAYS, Channel, NetworkSpec

NETWORK = "email"
_MSGID = re.compile(r"<[^<>\s]+>")
_WROTE = re.compile(
    r"(wrote|a écrit|schrieb|escribió|scrisse|kirjoitti|написал|написала|كتب|נכתב|כתב|เขียน|نوشت)\s*:?\s*$",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|vs|رد|ر\.?د|השב)\s*:", re.IGNORECASE)


class _TextExtractor(HTMLParser):
    """Keeps only character data: tags, scripts, styles and comments never reach the output."""

    _SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg", "iframe", "object"})
    _BLOCK = frozenset(
        {"p", "div", "li", "tr", "table", "ul", "ol", "blockquote", "section", "article", "header",
         "footer", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd"}
    )  # fmt: skip
    _VOID_BREAKS = frozenset({"br", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip_depth += 1
        elif tag in self._VOID_BREAKS or tag in self._BLOCK:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._VOID_BREAKS or tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self._BLOCK and tag != "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body: entities decoded, markup/scripts/styles gone, blocks as lines."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = []
    for line in "".join(parser.parts).replace("\xa0", " ").split("\n"):
        lines.append(" ".join(line.split()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text: str) -> str:
    """Drop the signature and the quoted history at the end; keep the text if nothing is left."""
    lines = text.replace("\r\n", "\n").split("\n")
    if "-- " in lines:
        lines = lines[: lines.index("-- ")]
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    trimmed = end < len(lines)
    if trimmed and end and _WROTE.search(lines[end - 1].strip()):
        end -= 1
    kept = "\n".join(lines[:end]).strip()
    return kept or text.strip()


def _ids(value: Any) -> list[str]:
    return _MSGID.findall(str(value)) if value else []


def _addresses(msg: Message, name: str) -> list[Address]:
    header = msg.get(name)
    return list(getattr(header, "addresses", ()) or ())


def _sent_at(msg: Message) -> datetime | None:
    header = msg.get("Date")
    moment = getattr(header, "datetime", None)
    if not isinstance(moment, datetime):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        return content if isinstance(content, str) else ""
    except (LookupError, UnicodeDecodeError, KeyError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return strip_quoted(text)


def _attachment_kind(mime: str) -> str:
    main = mime.split("/", 1)[0]
    return {"image": "image", "video": "video", "audio": "audio"}.get(main, "file")


def _attachments(msg: EmailMessage) -> list[Attachment]:
    out = []
    for part in msg.iter_attachments():
        mime = part.get_content_type()
        out.append(Attachment(kind=_attachment_kind(mime), name=part.get_filename(), mime_type=mime))
    return out


def _is_auto_reply(msg: Message) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    return (
        auto not in ("", "no") or msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None
    )


def _bounce(msg: EmailMessage, mailbox: str | None) -> StatusUpdate | None:
    """A delivery status report about one of our messages becomes a failed StatusUpdate."""
    if msg.get_content_type() != "multipart/report":
        return None
    original: str | None = None
    diagnostic: str | None = None
    recipient: str | None = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            for block in part.get_payload():
                if isinstance(block, Message):
                    diagnostic = diagnostic or block.get("Diagnostic-Code") or block.get("Status")
                    final = block.get("Final-Recipient")
                    recipient = recipient or (str(final).split(";")[-1].strip() if final else None)
        elif ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, Message):
                original = original or next(iter(_ids(inner_msg.get("Message-ID"))), None)
        elif ctype == "text/rfc822-headers":
            headers = BytesParser(policy=policy.default).parsebytes(
                _part_text(part).encode(), headersonly=True
            )
            original = original or next(iter(_ids(headers.get("Message-ID"))), None)
    if original is None:
        return None
    return StatusUpdate(
        network=NETWORK,
        external_id=original,
        status="failed",
        error=str(diagnostic)[:300] if diagnostic else "delivery failed",
        at=_sent_at(msg),
        recipient_id=recipient,
        account_ref=mailbox,
    )


def parse_message(raw: bytes, mailbox: str | None = None) -> ParseResult:
    """One RFC 5322 message. `mailbox` is our address (account_ref, echo detection)."""
    result = ParseResult()
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(msg, EmailMessage) or not msg.keys():
        result.errors.append("message: no RFC 5322 headers found")
        return result
    try:
        senders = _addresses(msg, "From")
    except (ValueError, IndexError, TypeError) as exc:
        senders = []
        result.errors.append(f"From: unreadable ({exc})")
    delivered_to = parseaddr(str(msg.get("Delivered-To") or ""))[1]
    to = _addresses(msg, "To")
    account = (mailbox or delivered_to or (to[0].addr_spec if to else "")).lower() or None
    bounce = _bounce(msg, account)
    if bounce is not None:
        result.statuses.append(bounce)
        return result
    if not senders or not senders[0].addr_spec:
        result.errors.append("From: field required (no sender address)")
        return result
    if _is_auto_reply(msg):
        result.ignored.append(f"auto-reply from {senders[0].addr_spec}")
        return result
    own = next(iter(_ids(msg.get("Message-ID"))), None)
    message_id = own or f"<{hashlib.sha256(raw).hexdigest()[:40]}@relaydesk.invalid>"
    references = _ids(msg.get("References"))
    in_reply_to = _ids(msg.get("In-Reply-To"))
    thread_root = references[0] if references else (in_reply_to[0] if in_reply_to else message_id)
    sender = senders[0]
    subject = str(msg.get("Subject") or "")
    text = body_text(msg)
    echo = mailbox is not None and sender.addr_spec.lower() == mailbox.lower()
    lang = msg.get("Content-Language")
    result.events.append(
        ParsedEvent(
            account_ref=account,
            action="echo" if echo else "create",
            event=InboundEvent(
                network=NETWORK,
                external_id=message_id,
                author_id=sender.addr_spec.lower(),
                text=text or subject,
                author_name=sender.display_name or None,
                sent_at=_sent_at(msg),
                thread_id=thread_root,
                reply_to_id=in_reply_to[0] if in_reply_to else (references[-1] if references else None),
                kind="message",
                attachments=_attachments(msg),
                raw={
                    "subject": subject,
                    "message_id": message_id,
                    "in_reply_to": in_reply_to,
                    "references": references,
                    "to": [a.addr_spec for a in _addresses(msg, "To")],
                    "cc": [a.addr_spec for a in _addresses(msg, "Cc")],
                    "date": str(msg.get("Date") or ""),
                },
                lang_hint=str(lang).split(",")[0].strip() if lang else None,
            ),
        )
    )
    return result


def parse(body: bytes | str, mailbox: str | None = None) -> ParseResult:
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes | bytearray):
        raise ValueError("email body must be the raw RFC 5322 bytes")
    return parse_message(bytes(body), mailbox)


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """The same key always gives the same Message-ID, so a resend after a crash is recognisable."""
    domain = from_address.rsplit("@", 1)[-1] or "relaydesk.invalid"
    return f"<rd.{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def _bracket(ref: str) -> str:
    ref = ref.strip()
    return ref if ref.startswith("<") else f"<{ref}>"


def reply_subject(original: str | None) -> str:
    original = " ".join((original or "").split())  # a folded or hostile subject must stay one line
    if not original:
        return "Re: your message"
    return original if _REPLY_PREFIX.match(original) else f"Re: {original}"


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen


def build_reply(
    req: OutboundRequest, from_address: str, from_name: str | None = None, now: datetime | None = None
) -> EmailMessage:
    """The MIME message for `req`. ``req.extra`` may carry ``subject`` and ``references``."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(display_name=from_name or "", addr_spec=from_address)
    msg["To"] = req.recipient_id
    msg["Subject"] = reply_subject(req.extra.get("subject"))
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = message_id_for(req.idempotency_key, from_address)
    given = req.extra.get("references")
    if isinstance(given, str):
        given = _ids(given)
    chain = list(given or [])
    if req.thread_id:
        chain.insert(0, _bracket(req.thread_id))
    if req.reply_to_external_id:
        msg["In-Reply-To"] = _bracket(req.reply_to_external_id)
        chain.append(_bracket(req.reply_to_external_id))
    refs = _dedupe(chain)
    if refs:
        msg["References"] = " ".join(refs)
    # base64 keeps non-ASCII bodies safe on relays that do not offer 8BITMIME.
    msg.set_content(req.text, cte="7bit" if req.text.isascii() else "base64")
    for file in req.files:
        maintype, _, subtype = file.mime_type.partition("/")
        msg.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.name)
    return msg


SmtpFactory = Callable[[str, int, float], smtplib.SMTP]


def _default_factory(security: str) -> SmtpFactory:
    if security == "ssl":
        return lambda host, port, timeout: smtplib.SMTP_SSL(host, port, timeout=timeout)
    return lambda host, port, timeout: smtplib.SMTP(host, port, timeout=timeout)


class SmtpSender:
    """Sends replies over SMTP (blocking smtplib, run in a worker thread).

    credentials: ``{"host", "port"=587, "from_address", "from_name"?, "username"?, "password"?,
    "security": "starttls" | "ssl" | "none"}``. `smtp_factory(host, port, timeout)` lets tests
    (or a pooled client) stand in for ``smtplib.SMTP``.
    """

    def __init__(self, smtp_factory: SmtpFactory | None = None, timeout: float = 30.0) -> None:
        self.smtp_factory = smtp_factory
        self.timeout = timeout

    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        return await asyncio.to_thread(self.send_sync, req, credentials)

    def send_sync(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        host = credentials.get("host")
        from_address = credentials.get("from_address") or credentials.get("username")
        if not host or not from_address:
            return SendResult(ok=False, error="email account needs 'host' and 'from_address'", code="config")
        security = str(credentials.get("security", "starttls"))
        port = int(credentials.get("port") or (465 if security == "ssl" else 587))
        try:
            msg = build_reply(req, from_address, credentials.get("from_name"))
        except (ValueError, TypeError) as exc:
            return SendResult(ok=False, error=f"cannot build the email: {exc}"[:300], code="invalid_request")
        factory = self.smtp_factory or _default_factory(security)
        password = credentials.get("password")
        try:
            smtp = factory(host, port, self.timeout)
            try:
                if security == "starttls":
                    smtp.starttls()
                if credentials.get("username") and password:
                    smtp.login(credentials["username"], password)
                smtp.send_message(msg)
            finally:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult(ok=False, error=f"SMTP login refused ({exc.smtp_code})", code="token_expired")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            temporary = bool(codes) and all(400 <= c < 500 for c in codes)
            return SendResult(
                ok=False,
                error=f"SMTP refused the recipient ({', '.join(str(c) for c in codes)})",
                retryable=temporary,
                code=None if temporary else "recipient_refused",
            )
        except smtplib.SMTPResponseException as exc:
            temporary = 400 <= exc.smtp_code < 500
            reason = _scrub(exc.smtp_error, password)
            return SendResult(ok=False, error=f"SMTP {exc.smtp_code}: {reason}"[:300], retryable=temporary)
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(
                ok=False, error=f"SMTP connection failed ({type(exc).__name__})", retryable=True
            )
        return SendResult(ok=True, external_id=str(msg["Message-ID"]))


def _scrub(raw: bytes | str, secret: str | None) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text.replace(secret, "***") if secret else text


def reply_extra(
    raw: Mapping[str, Any], received_at: datetime | None, attempt: int, now: datetime
) -> dict[str, Any]:
    """The subject and references of the customer's e-mail: the answer threads under it."""
    del received_at, attempt, now
    extra: dict[str, Any] = {}
    subject = raw.get("subject")
    if isinstance(subject, str):
        extra["subject"] = subject
    references = raw.get("references")
    if isinstance(references, list):
        extra["references"] = [str(r) for r in references]
    return extra


CHANNEL = Channel(
    spec=NetworkSpec(
        network=NETWORK,
        send_credentials=("host", "from_address"),
        webhook_credentials=(),
        webhook_path="",
        server_idempotency=True,  # our Message-ID is derived from the key; clients fold duplicates
        aliases={"from_address": ("username",)},
        note="no webhook: the mailbox is polled over IMAP",
        identity="mailbox",
        no_webhook="no webhook: the mailbox is polled",
        polled=ALWAYS,
    ),
    parse=lambda body, ref: parse(body, mailbox=ref),
    sender=SmtpSender,
    max_files=3,
    reply_extra=reply_extra,
)
