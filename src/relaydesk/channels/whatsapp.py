"""WhatsApp Cloud API: inbound messages, delivery statuses, replies and templates.

One webhook entry is one WhatsApp Business Account; each change carries the business phone
number it concerns in ``value.metadata.phone_number_id`` (our ``account_ref``), the senders'
profiles in ``value.contacts`` and either ``value.messages`` or ``value.statuses``.

A chat thread is the customer's ``wa_id``. Media arrive as media ids, not URLs: the attachment
keeps ``url=None`` and the id stays in ``raw`` for a later ``GET /{media-id}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from relaydesk.channels import meta
from relaydesk.channels.base import (
    Attachment,
    InboundEvent,
    OutboundRequest,
    ParsedEvent,
    ParseResult,
    StatusUpdate,
)
from relaydesk.channels.channel import Channel, MediaUnavailable, download
from relaydesk.channels.graph import (
    GraphCall,
    PartError,
    as_object,
    dig,
    each_part,
    graph_id,
    id_str,
    require_id,
    text_of,
    to_datetime,
)
from relaydesk.core.errors import Refused

NETWORK = "whatsapp"

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
WINDOW_CLOSED_REASON = (
    "The WhatsApp 24-hour customer service window is closed: the customer last wrote more than "
    "24 hours ago (or never). Only an approved message template can be sent until they write again."
)


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether free-form messages may be sent: the customer wrote within the last 24 hours.

    Naive datetimes are read as UTC (SQLite hands timestamps back without a zone).
    """
    if last_inbound_at is None:
        return False
    if last_inbound_at.tzinfo is None:
        last_inbound_at = last_inbound_at.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now - last_inbound_at < CUSTOMER_SERVICE_WINDOW


def approved_templates(settings: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """Account setting ``templates``: names, or ``{"name", "language", "text"}`` objects.

    ``text`` is the approved body as written in WhatsApp Manager, with ``{{1}}``, ``{{2}}``...
    where the agent fills values; with it the agent sees what the customer will read.
    """
    found: list[dict[str, str]] = []
    for entry in (settings or {}).get("templates") or []:
        if isinstance(entry, str) and entry:
            found.append({"name": entry})
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            extra = {k: entry[k] for k in ("language", "text") if isinstance(entry.get(k), str) and entry[k]}
            found.append({"name": entry["name"], **extra})
    return found


_VARIABLE = re.compile(r"\{\{\s*(\d{1,2})\s*\}\}")
MAX_VALUE_CHARS = 1024  # a body parameter's limit in the Cloud API


def template_variables(text: str | None) -> int:
    """How many values a template body takes: its highest ``{{n}}`` (WhatsApp numbers them 1..n)."""
    return max((int(m.group(1)) for m in _VARIABLE.finditer(text or "")), default=0)


def fill_template(text: str, values: list[str]) -> str:
    """The body as the customer reads it; a slot without a value stays as written."""

    def value(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return values[n - 1] if 0 < n <= len(values) else match.group(0)

    return _VARIABLE.sub(value, text)


def reply_window(
    settings: Mapping[str, Any] | None, last_inbound_at: datetime | None, now: datetime
) -> dict[str, Any]:
    """Free text within 24 hours of the customer's last message; after that, these templates."""
    templates = [{**t, "variables": template_variables(t.get("text"))} for t in approved_templates(settings)]
    return {"window_open": window_open(last_inbound_at, now), "templates": templates}


def check_template_values(settings: Mapping[str, Any] | None, template: str, values: list[str]) -> None:
    """Refuse (422) values WhatsApp would refuse: one per slot, none empty, none over its limit."""
    known = next((t for t in approved_templates(settings) if t["name"] == template), None)
    if known is None or "text" not in known:
        return  # the body is not known here: WhatsApp checks the count itself
    wanted = template_variables(known["text"])
    if len(values) != wanted:
        raise Refused(f"template_params: {template!r} takes {wanted} value(s), not {len(values)}").saying(
            "template_values", wanted=wanted, given=len(values)
        )
    for n, text in enumerate(values, start=1):
        if not text.strip():
            raise Refused(f"template_params[{n - 1}]: the value for {{{{{n}}}}} is empty").saying(
                "template_value_empty", slot=f"{{{{{n}}}}}"
            )
        if len(text) > MAX_VALUE_CHARS or "\n" in text:
            raise Refused(
                f"template_params[{n - 1}]: one line of at most {MAX_VALUE_CHARS} characters (WhatsApp's rule)"
            ).saying("template_value_long", slot=f"{{{{{n}}}}}", most=MAX_VALUE_CHARS)


def _template_names(settings: Mapping[str, Any] | None) -> str:
    names = [t["name"] for t in approved_templates(settings)]
    return ", ".join(names) if names else "none configured"


def check_reply(
    settings: Mapping[str, Any] | None, last_inbound_at: datetime | None, template: str | None, now: datetime
) -> None:
    """Refuse (422) a reply WhatsApp would refuse anyway, while the agent can still act on it.

    Free text only within 24 hours of the customer's last message; after that, only an approved
    template, whose names come from the account's ``templates`` setting.
    """
    known = approved_templates(settings)
    if template:
        if known and template not in {t["name"] for t in known}:
            raise Refused(
                f"template: {template!r} is not an approved template of this WhatsApp number. "
                f"Approved templates: {_template_names(settings)}."
            )
        return
    if not window_open(last_inbound_at, now):
        raise Refused(
            f"text: {WINDOW_CLOSED_REASON} Approved templates: {_template_names(settings)}."
        ).saying("whatsapp_window")


_MEDIA_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "file",
    "sticker": "sticker",
}
_TEXT_TYPES = frozenset({"text", "location", "reaction", "interactive", "button", "contacts", *_MEDIA_KINDS})
_STATUSES = frozenset({"sent", "delivered", "read", "failed"})


def _content(message: dict[str, Any]) -> tuple[str, list[Attachment]]:
    """The text an agent reads and the attachments of one inbound message, by its type."""
    kind = text_of(message.get("type"))
    body = as_object(message.get(kind))
    if kind == "text":
        return text_of(body.get("body")), []
    if kind in _MEDIA_KINDS:
        attachment = Attachment(
            kind=_MEDIA_KINDS[kind],
            mime_type=text_of(body.get("mime_type")) or None,
            name=text_of(body.get("filename")) or None,
            ref=text_of(body.get("id")) or None,
        )
        return text_of(body.get("caption")), [attachment]
    if kind == "location":
        lat, lon = body.get("latitude"), body.get("longitude")
        label = ", ".join(part for part in (text_of(body.get("name")), text_of(body.get("address"))) if part)
        url = f"geo:{lat},{lon}" if isinstance(lat, int | float) and isinstance(lon, int | float) else None
        return label, [Attachment(kind="location", url=url, name=label or None)]
    if kind == "reaction":
        return text_of(body.get("emoji")), []
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or body.get("nfm_reply") or {}
        return (
            text_of(reply.get("title")) or text_of(reply.get("body")) if isinstance(reply, dict) else ""
        ), []
    if kind == "button":
        return text_of(body.get("text")) or text_of(body.get("payload")), []
    if kind == "contacts":
        raw_cards = message.get("contacts")
        cards: list[Any] = raw_cards if isinstance(raw_cards, list) else []
        names = [text_of(dig(card, "name.formatted_name")) for card in cards if isinstance(card, dict)]
        return "", [Attachment(kind="other", name=name or None, mime_type="text/vcard") for name in names]
    return "", []


def parse_message(
    account_ref: str,
    message: dict[str, Any],
    names: dict[str, str],
    path: str,
    *,
    echo: bool = False,
) -> ParseResult:
    message_id = require_id(message, "id")
    sender = require_id(message, "from")
    kind = text_of(message.get("type"))
    if kind not in _TEXT_TYPES:
        return ParseResult(ignored=[f"{path}: whatsapp message type {kind or '<none>'!r} not handled"])
    text, attachments = _content(message)
    if echo:
        # A message the business sent from the WhatsApp Business app (coexistence): the
        # thread is the customer it went to.
        thread = require_id(message, "to")
        action = "echo"
    else:
        thread = sender
        action = "reaction" if kind == "reaction" else "create"
    reply_to = id_str(dig(message, "reaction.message_id")) if kind == "reaction" else None
    reply_to = reply_to or id_str(dig(message, "context.id"))
    if kind == "reaction" and reply_to is None:
        raise PartError("missing reaction.message_id")
    return ParseResult(
        events=[
            ParsedEvent(
                account_ref=account_ref,
                action=action,
                event=InboundEvent(
                    network=NETWORK,
                    external_id=message_id,
                    author_id=sender,
                    author_name=names.get(sender),
                    text=text,
                    sent_at=to_datetime(message.get("timestamp")),
                    thread_id=thread,
                    reply_to_id=reply_to,
                    kind="message",
                    attachments=attachments,
                    raw=message,
                ),
            )
        ]
    )


def _status_error(status: dict[str, Any]) -> str | None:
    errors = status.get("errors")
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None
    first = errors[0]
    code = first.get("code")
    title = text_of(first.get("title")) or text_of(first.get("message"))
    details = text_of(dig(first, "error_data.details"))
    text = f"{code} {title}".strip() if code is not None else title
    return f"{text}: {details}" if details and details != title else text or "failed"


def parse_status(account_ref: str, status: dict[str, Any], path: str) -> ParseResult:
    message_id = require_id(status, "id")
    state = text_of(status.get("status"))
    if state not in _STATUSES:
        return ParseResult(ignored=[f"{path}: whatsapp status {state or '<none>'!r} not handled"])
    return ParseResult(
        statuses=[
            StatusUpdate(
                network=NETWORK,
                external_id=message_id,
                status=state,
                error=_status_error(status) if state == "failed" else None,
                at=to_datetime(status.get("timestamp")),
                recipient_id=id_str(status.get("recipient_id")),
                account_ref=account_ref,
            )
        ]
    )


def parse_change(change: dict[str, Any], path: str) -> ParseResult:
    field_name = text_of(change.get("field")) or "messages"
    if field_name not in ("messages", "smb_message_echoes"):
        return ParseResult(ignored=[f"{path}: whatsapp field {field_name!r} not handled"])
    value = change.get("value")
    if not isinstance(value, dict):
        raise PartError("missing value")
    account_ref = id_str(dig(value, "metadata.phone_number_id"))
    if account_ref is None:
        raise PartError("missing value.metadata.phone_number_id")

    names: dict[str, str] = {}
    contacts = value.get("contacts")
    for contact in contacts if isinstance(contacts, list) else []:
        wa_id = id_str(dig(contact, "wa_id"))
        name = text_of(dig(contact, "profile.name"))
        if wa_id and name:
            names[wa_id] = name

    result = ParseResult()
    vpath = f"{path}.value"
    each_part(
        result,
        value.get("messages"),
        f"{vpath}.messages",
        lambda item, part: parse_message(account_ref, item, names, part),
    )
    each_part(
        result,
        value.get("message_echoes"),
        f"{vpath}.message_echoes",
        lambda item, part: parse_message(account_ref, item, names, part, echo=True),
    )
    each_part(
        result,
        value.get("statuses"),
        f"{vpath}.statuses",
        lambda item, part: parse_status(account_ref, item, part),
    )
    errors = value.get("errors")
    for position, error in enumerate(errors if isinstance(errors, list) else []):
        # Meta reporting a problem of the phone number (not a parse failure of ours).
        code = dig(error, "code")
        title = text_of(dig(error, "title"))
        result.ignored.append(f"{vpath}.errors[{position}]: whatsapp reported error {code} {title}".rstrip())
    if not any(value.get(key) for key in ("messages", "message_echoes", "statuses", "errors")):
        result.ignored.append(f"{vpath}: no messages, statuses or errors")
    return result


def parse_entry(entry: dict[str, Any], index: int) -> ParseResult:
    """One ``object: "whatsapp_business_account"`` entry → events and statuses per phone number."""
    result = ParseResult()
    path = f"entry[{index}]"
    if "changes" not in entry:
        result.ignored.append(f"{path}: no changes")
        return result
    each_part(result, entry["changes"], f"{path}.changes", parse_change)
    return result


def build_request(req: OutboundRequest) -> GraphCall:
    """The Graph call for a WhatsApp reply: ``POST /{phone-number-id}/messages``.

    - ``message`` / ``dm``: a text message (only inside the 24-hour window, see window_open);
      ``extra["quote"] = True`` shows it as a reply to ``reply_to_external_id``.
    - ``template``: ``req.template`` = ``{"name", "language": {"code"}, "components"?}``.
    """
    phone = graph_id(req.account_external_id, "account_external_id (phone number id)")
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": req.recipient_id,
        # Returned in every status webhook of this message: lets the outbox find its row even
        # when the send response was lost.
        "biz_opaque_callback_data": req.idempotency_key[:512],
    }
    media = req.extra.get("media")
    if req.mode in ("message", "dm") and req.files and isinstance(media, dict):
        # The file uploaded first (meta.GraphSender), named by its id; the text is its caption.
        # Images show as images; anything else goes as a document, which keeps its file name.
        file = req.files[0]
        kind = "image" if file.kind == "image" else "document"
        body["type"] = kind
        body[kind] = {"id": str(media["id"]), **({"caption": req.text} if req.text else {})}
        if kind == "document":
            body[kind]["filename"] = file.name
    elif req.mode in ("message", "dm"):
        body["type"] = "text"
        body["text"] = {"body": req.text, "preview_url": False}
        if req.extra.get("quote") and req.reply_to_external_id:
            body["context"] = {"message_id": req.reply_to_external_id}
    elif req.mode == "template":
        template = req.template
        if not isinstance(template, dict) or not text_of(template.get("name")):
            raise ValueError("a template send needs req.template with a name")
        if not text_of(dig(template, "language.code")):
            raise ValueError("a template send needs req.template.language.code")
        body["type"] = "template"
        body["template"] = template
    else:
        raise ValueError(f"whatsapp cannot send mode {req.mode!r}")
    return GraphCall(path=f"/{phone}/messages", body=body)


def fetch_media(attachment: Mapping[str, Any], credentials: Mapping[str, Any], client: httpx.Client) -> bytes:
    """A customer's file: ``GET /{media-id}`` gives a short-lived address, fetched with the token."""
    ref, token = attachment.get("ref"), credentials.get("access_token")
    if not isinstance(ref, str) or not ref or not isinstance(token, str) or not token:
        raise MediaUnavailable("no media id, or no access token on the account")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        answer = client.get(f"{meta.DEFAULT_BASE_URL}/{graph_id(ref, 'media id')}", headers=headers)
        found = answer.json() if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise MediaUnavailable(f"WhatsApp did not describe the file ({type(exc).__name__})") from exc
    url = found.get("url") if isinstance(found, dict) else None
    if not isinstance(url, str) or not url.startswith("https://"):
        raise MediaUnavailable(f"WhatsApp has no such file now (HTTP {answer.status_code}); media ids expire")
    return download(client, url, headers)


CHANNEL = Channel(
    # Statuses carry our key back in biz_opaque_callback_data.
    spec=meta.network_spec(NETWORK, echoed=True, identity="phone number id"),
    verify=meta.verify,
    parse=meta.parse_delivery,
    sender=meta.GraphSender,
    check_reply=check_reply,
    check_template=check_template_values,
    reply_window=reply_window,
    max_files=1,
    max_text_with_files=1024,  # a media message's caption
    fetch_media=fetch_media,
)
