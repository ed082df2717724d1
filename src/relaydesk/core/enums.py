"""The shared vocabulary of the product: every slice uses these names."""

from __future__ import annotations

from enum import StrEnum


class Network(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    X = "x"
    TELEGRAM = "telegram"
    LINE = "line"
    EMAIL = "email"
    WEBCHAT = "webchat"
    GENERIC = "generic"
    LISTENING = "listening"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class ConversationStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # pending on the customer: the SLA clock is paused
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SNOOZED = "snoozed"


# The statuses of the conversations an agent holds: what counts against her capacity.
OPEN_STATUSES: tuple[str, ...] = ("new", "open", "reopened", "pending")


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Stage(StrEnum):
    PRE_PURCHASE = "pre_purchase"
    PURCHASE = "purchase"
    POST_PURCHASE = "post_purchase"
    UNKNOWN = "unknown"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    VIEWER = "viewer"


ORG_WIDE_ROLES = frozenset({Role.OWNER, Role.ADMIN})
# Roles a routing rule may name as approvers of held replies; a higher rank covers the lower ones.
APPROVER_ROLES: dict[str, int] = {Role.MANAGER.value: 1, Role.ADMIN.value: 2, Role.OWNER.value: 3}
# A conversation tag naming who approves its held replies ("approver:@hannah", "approver:manager").
APPROVER_TAG = "approver:"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    NONE = "none"


BUILTIN_INTENTS = (
    "complaint",
    "question",
    "purchase_interest",
    "order_issue",
    "praise",
    "feedback",
    "job_inquiry",
    "press_inquiry",
    "crisis",
    "spam",
)

# Where a built-in intent goes when no rule says otherwise (department keys of the default org).
BUILTIN_INTENT_DEPARTMENTS: dict[str, str | None] = {
    "complaint": "service",
    "question": "service",
    "purchase_interest": "sales",
    "order_issue": "service",
    "praise": "marketing",
    "feedback": "marketing",
    "job_inquiry": "hr",
    "press_inquiry": "corpcomms",
    "crisis": "pr",
    "spam": None,
}

# The built-in intent and the tag that keep likely spam out of assignment, SLA clocks and reports.
SPAM = "spam"

# Messages everyone can read (a comment, a post, a mention, a review): what a public reply answers.
PUBLIC_KINDS = frozenset({"comment", "post", "mention", "review"})
