"""Words for the values the pages show (statuses, moods, intents, roles...), in the reader's language.

The stored values stay English keys (the API and YAML use them); only the pages translate them.
A value we have no word for (an organisation's own intent, a new network) shows as written, with
underscores as spaces, so nothing is hidden.
"""

from __future__ import annotations

from relaydesk.web import i18n


def N_(message: str) -> str:
    """Marks a message for the catalogue; translated where it is shown."""
    return message


LABELS: dict[str, str] = {
    # conversation status
    "new": N_("new"),
    "open": N_("open"),
    "pending": N_("pending"),
    "resolved": N_("resolved"),
    "reopened": N_("reopened"),
    "snoozed": N_("snoozed"),
    "active": N_("active"),
    "all": N_("all"),
    # sentiment
    "positive": N_("positive"),
    "neutral": N_("neutral"),
    "negative": N_("negative"),
    # purchase stage
    "pre_purchase": N_("pre-purchase"),
    "purchase": N_("purchase"),
    "post_purchase": N_("post-purchase"),
    "unknown": N_("unknown"),
    # urgency and priority
    "low": N_("low"),
    "normal": N_("normal"),
    "high": N_("high"),
    "critical": N_("critical"),
    "urgent": N_("urgent"),
    # roles
    "owner": N_("owner"),
    "admin": N_("admin"),
    "manager": N_("manager"),
    "agent": N_("agent"),
    "viewer": N_("viewer"),
    # delivery
    "queued": N_("queued"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "read": N_("read"),
    "failed": N_("failed"),
    "rejected": N_("rejected"),
    "draft": N_("waiting for approval"),
    # built-in intents
    "complaint": N_("complaint"),
    "question": N_("question"),
    "purchase_interest": N_("purchase interest"),
    "order_issue": N_("order issue"),
    "praise": N_("praise"),
    "feedback": N_("feedback"),
    "job_inquiry": N_("job inquiry"),
    "press_inquiry": N_("press inquiry"),
    "crisis": N_("crisis"),
    "spam": N_("spam"),
    # SLA targets and states
    "first_response": N_("first response"),
    "next_response": N_("next response"),
    "resolution": N_("resolution"),
    "ok": N_("on time"),
    "warning": N_("due soon"),
    "breached": N_("breached"),
    "none": N_("no clock"),
    # message kinds and timeline entries
    "message": N_("message"),
    "mention": N_("mention"),
    "comment": N_("comment"),
    "dm": N_("direct message"),
    "image": N_("image"),
    "video": N_("video"),
    "audio": N_("audio"),
    "file": N_("file"),
    "sticker": N_("sticker"),
    "location": N_("location"),
    "brand": N_("brand"),
    "region": N_("region"),
    # an agency's contract
    "first_response_minutes": N_("first response (minutes)"),
    "resolution_minutes": N_("resolution (minutes)"),
    "around_the_clock": N_("around the clock"),
    "replies_need_approval": N_("replies need approval"),
    "intents": N_("intents"),
    "languages": N_("languages"),
    "other": N_("other"),
    "created": N_("created"),
    "status": N_("status"),
    "assign": N_("assignment"),
    "transfer": N_("hand-off"),
    "route": N_("routing"),
    "triage": N_("triage"),
    "priority": N_("priority"),
    "note": N_("note"),
    "sla": N_("SLA"),
    "delivery": N_("delivery"),
    "correction": N_("correction"),
    "contact_merge": N_("contacts merged"),
    "listening": N_("listening"),
    "reply": N_("reply"),
    "approval": N_("approval"),
    "tags": N_("tags"),
    # crisis alerts: kinds, trigger categories, states and timeline steps
    "surge": N_("surge"),
    "trigger": N_("trigger words"),
    "food_poisoning": N_("food poisoning"),
    "injury": N_("injury"),
    "lawsuit": N_("legal threat"),
    "boycott": N_("boycott"),
    "data_leak": N_("data leak"),
    "discrimination": N_("discrimination"),
    "press": N_("the press"),
    "influencer": N_("an author with many followers"),
    "acknowledged": N_("acknowledged"),
    "medium": N_("medium"),
    "raised": N_("raised"),
    "grew": N_("grew"),
    "spread": N_("spread to another place"),
    "notified": N_("people told"),
    "agency_hold": N_("the agency holds and hands over"),
    "escalated": N_("escalated"),
    "matched": N_("another message"),
    "statement": N_("holding statement"),
    # notification kinds
    "escalation": N_("escalation"),
    "rule": N_("routing rule"),
    "sla_warning": N_("SLA warning"),
    # settings: what a routing rule checks and does
    "channel": N_("network"),
    "account": N_("account"),
    "language": N_("language"),
    "intent": N_("intent"),
    "sentiment": N_("sentiment"),
    "stage": N_("purchase stage"),
    "urgency": N_("urgency"),
    "urgency_at_least": N_("urgency at least"),
    "keywords": N_("words"),
    "contact": N_("customer"),
    "time": N_("time"),
    "any": N_("any of"),
    "not": N_("not"),
    "department": N_("department"),
    "assignee": N_("assignee"),
    "team": N_("team"),
    "require_approval": N_("needs approval"),
    "approvers": N_("approved by"),
    "notify": N_("tell"),
    # settings: what the audit log names
    "organization": N_("organisation"),
    "business_hours": N_("business hours"),
    "agency": N_("agency"),
    "person": N_("person"),
    "membership": N_("department membership"),
    "account_access": N_("account a person answers"),
    "api_token": N_("API token"),
    "routing_rule": N_("routing rule"),
    "sla_policy": N_("SLA policy"),
    "guideline": N_("guideline"),
    "faq": N_("FAQ entry"),
    "canned_response": N_("saved reply"),
    "listening_query": N_("listening query"),
    "destination": N_("notification destination"),
    "crisis_playbook": N_("crisis playbook"),
    "url_secret": N_("address"),
    "exclude": N_("leave out"),
    "brand_location_id": N_("brand or location"),
    "updated": N_("changed"),
    "deleted": N_("deleted"),
    "web": N_("in the browser"),
    "api": N_("through the API"),
    "apply": N_("configuration file"),
    "cli": N_("command line"),
    "demo": N_("demo data"),
    "conditions": N_("conditions"),
    "actions": N_("actions"),
    "position": N_("place in the list"),
    "enabled": N_("on"),
    "stop": N_("stop here"),
    "name": N_("name"),
    "examples": N_("examples"),
    "department_key": N_("department"),
    # FAQ entries, as the audit log names their fields
    "variants": N_("other phrasings"),
    "answers": N_("answers"),
    "valid_from": N_("valid from"),
    "valid_until": N_("valid until"),
    "approved_by_id": N_("approved by"),
    "approved_at": N_("approved at"),
    "retired": N_("retired"),
    "spokesperson": N_("speaks for the brand"),
    # a guideline's severity and the tones it checks
    "block": N_("stops the reply"),
    "warn": N_("warning"),
    "suggest": N_("suggestion"),
    "all_caps": N_("shouting in capitals"),
    "exclamation": N_("piled-up exclamation marks"),
    "blame": N_("blaming the customer"),
    "sarcasm": N_("sarcasm"),
    "promise": N_("promises the brand cannot keep"),
    # presence
    "viewing": N_("viewing"),
    "typing": N_("typing in"),
}


# Networks: brand names stay as the brand writes them; our own kinds of channel are words.
NETWORK_NAMES: dict[str, str] = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
    "x": "X",
    "telegram": "Telegram",
    "line": "LINE",
    "email": N_("e-mail"),
    "webchat": N_("web chat"),
    "generic": N_("webhook"),
    "listening": N_("mentions"),
}
_BRANDS = {"facebook", "instagram", "whatsapp", "x", "telegram", "line"}


def network_name(value: object) -> str:
    """How a network is called on the page (a network we do not know shows as stored)."""
    key = str(value or "")
    known = NETWORK_NAMES.get(key)
    if known is None:
        return key
    return known if key in _BRANDS else i18n.gettext(known)


def label(value: object) -> str:
    """The reader's word for a stored value."""
    if value is None:
        return ""
    key = str(value)
    known = LABELS.get(key)
    return i18n.gettext(known) if known is not None else key.replace("_", " ")
