"""All tables of the one schema (SQLite and PostgreSQL alike)."""

from relaydesk.models import stamp as _stamp
from relaydesk.models.audit import AuditEntry
from relaydesk.models.auth import ApiToken, LoginFailure, WebSession, WelcomeLink
from relaydesk.models.base import Base
from relaydesk.models.config import (
    CannedResponse,
    FaqEntry,
    Guideline,
    Intent,
    RoutingRule,
    SlaPolicy,
    TriageCorrection,
)
from relaydesk.models.conversations import (
    Contact,
    ContactIdentity,
    Conversation,
    ConversationRead,
    IgnoredEvent,
    ListeningItem,
    ListeningQuery,
    MediaFile,
    Message,
    Notification,
    OutboxItem,
    PendingMention,
    SavedView,
    SlaRecord,
    TimelineEvent,
    WebchatVisitor,
)
from relaydesk.models.crisis import (
    CrisisAlert,
    CrisisAlertEvent,
    CrisisPlaybook,
    CrisisSeries,
    CrisisWatermark,
    crisis_counts,
)
from relaydesk.models.notifications import NotificationDestination
from relaydesk.models.orgs import (
    Agency,
    BusinessHours,
    ChannelAccount,
    Department,
    Location,
    Organization,
    User,
    UserAccount,
    UserDepartment,
)
from relaydesk.models.reports import ReportRefresh, report_contributions, report_histograms, report_rollups
from relaydesk.models.work import StagedEvent, WorkItem

_stamp.register()

__all__ = [
    "Agency",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BusinessHours",
    "CannedResponse",
    "ChannelAccount",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "ConversationRead",
    "CrisisAlert",
    "CrisisAlertEvent",
    "CrisisPlaybook",
    "CrisisSeries",
    "CrisisWatermark",
    "Department",
    "FaqEntry",
    "Guideline",
    "IgnoredEvent",
    "Intent",
    "ListeningItem",
    "ListeningQuery",
    "Location",
    "LoginFailure",
    "MediaFile",
    "Message",
    "Notification",
    "NotificationDestination",
    "Organization",
    "OutboxItem",
    "PendingMention",
    "ReportRefresh",
    "RoutingRule",
    "SavedView",
    "SlaPolicy",
    "SlaRecord",
    "StagedEvent",
    "TimelineEvent",
    "TriageCorrection",
    "User",
    "UserAccount",
    "UserDepartment",
    "WebSession",
    "WebchatVisitor",
    "WelcomeLink",
    "WorkItem",
    "crisis_counts",
    "report_contributions",
    "report_histograms",
    "report_rollups",
]
