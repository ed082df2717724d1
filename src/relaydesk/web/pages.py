"""The inbox agents use all day: server-rendered pages over the same services as the API.

Every page works without JavaScript. Customer text is only ever autoescaped by Jinja2 and shown
isolated with dir="auto", so Persian, Arabic and Hebrew read right to left inside a left-to-right
page and no bidi override in it reorders the page; names lose such overrides (web/formatting.py).
Times are formatted once, on the server, in the viewer's zone and calendar. Every page speaks the
viewer's language (web/i18n.py: English, Persian, Arabic, Hebrew, Thai) and mirrors for right-to-left.
Every POST form carries a CSRF token bound to the session (the login form, which has no session
yet, uses a double-submit cookie). Reads go through the services, which scope them in SQL.
"""

from __future__ import annotations

from fastapi import APIRouter

from relaydesk.web import (
    alerts,
    auth_pages,
    bulk,
    conversation,
    inbox,
    live,
    media,
    notification_settings,
    notifications,
    preferences,
    reports,
    settings_accounts,
    settings_audit,
    settings_auto_answers,
    settings_canned,
    settings_crisis,
    settings_departments,
    settings_destinations,
    settings_faq,
    settings_faq_csv,
    settings_guidelines,
    settings_intents,
    settings_listening,
    settings_location,
    settings_locations,
    settings_people,
    settings_person_actions,
    settings_rules,
    settings_sla,
    welcome,
)
from relaydesk.web.errors import error_page, wants_page

__all__ = ["error_page", "router", "wants_page"]

router = APIRouter(include_in_schema=False)
for area in (
    auth_pages,
    alerts,
    inbox,
    bulk,
    conversation,
    reports,
    preferences,
    notifications,
    live,
    notification_settings,
    media,
    settings_accounts,
    settings_audit,
    settings_auto_answers,
    settings_canned,
    settings_crisis,
    settings_departments,
    settings_destinations,
    settings_faq,
    settings_faq_csv,
    settings_guidelines,
    settings_intents,
    settings_listening,
    settings_location,
    settings_locations,
    settings_people,
    settings_person_actions,
    settings_rules,
    settings_sla,
    welcome,
):
    router.include_router(area.router)
