"""Saved replies one at a time, for their settings page: listed, changed, removed.

Who may change which reply is `canned_access.py`; every change goes through a session that names
its actor, so the audit log records it. A macro's actions (status, tags, priority, hand-off) are
checked by the same rules as relaydesk.yaml's (config/sections/canned_responses.py), so what the
page saves exports and applies back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.conversations import canned_repository
from relaydesk.conversations.canned_access import CannedEditor, refusal
from relaydesk.conversations.macros import STATUS_ACTIONS
from relaydesk.conversations.schemas import CannedEntryOut, CannedIn, MacroActions
from relaydesk.conversations.tag_rules import clean_tag
from relaydesk.conversations.variables import VARIABLES, unknown_variables
from relaydesk.core.enums import Priority
from relaydesk.core.errors import Forbidden, NotFound, Refused, UserError
from relaydesk.models import CannedResponse
from relaydesk.orgs.service import org_service

# The shapes config files use (config/schemas.py), so a reply made here exports and applies back.
_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
MAX_TEXT = 20_000
MAX_TAGS = 20  # as the file's actions.tags
PAGE_SIZE = 50


@dataclass(frozen=True)
class CannedPage:
    rows: list[CannedEntryOut]
    offset: int
    more: bool


def _refused(field: str, message: str) -> Refused:
    return Refused(f"{field}: {message}", field=field)


class CannedService:
    """Stateless; every method runs inside the caller's transaction."""

    def editor(self, session: Session, scope: Scope) -> CannedEditor:
        departments = frozenset(org_service.department_keys(session, sorted(scope.department_ids)))
        regional = scope.location_ids is not None or scope.location_path is not None
        return CannedEditor(role=scope.role, departments=departments, regional=regional)

    def _seeing(self, session: Session, scope: Scope) -> CannedEditor:
        editor = self.editor(session, scope)
        if not editor.may_see:
            raise Forbidden("saved replies are for the people who write replies")
        return editor

    def _out(self, row: CannedResponse, editor: CannedEditor) -> CannedEntryOut:
        departments = [str(d) for d in row.department_keys or []]
        return CannedEntryOut(
            key=row.key,
            title=row.title,
            texts={str(k): str(v) for k, v in (row.texts or {}).items()},
            departments=departments,
            actions=MacroActions.model_validate(row.actions or {}),
            editable=refusal(editor, departments) is None,
        )

    def _visible(self, session: Session, scope: Scope, editor: CannedEditor, key: str) -> CannedResponse:
        row = canned_repository.canned_by_key(session, scope.org_id, key)
        departments = set(row.department_keys or []) if row is not None else set()
        hidden = departments and not scope.org_wide and not departments & editor.departments
        if row is None or hidden:
            raise NotFound(f"no saved reply '{key}'")
        return row

    def page(self, session: Session, scope: Scope, search: str = "", offset: int = 0) -> CannedPage:
        """Replies the caller is offered (owners and admins: all), by key."""
        editor = self._seeing(session, scope)
        offset = max(offset, 0)
        rows = canned_repository.canned_page(
            session,
            scope.org_id,
            search.strip()[:64],
            None if scope.org_wide else editor.departments,
            offset,
            PAGE_SIZE + 1,
        )
        return CannedPage([self._out(r, editor) for r in rows[:PAGE_SIZE]], offset, len(rows) > PAGE_SIZE)

    def get(self, session: Session, scope: Scope, key: str) -> CannedEntryOut:
        editor = self._seeing(session, scope)
        return self._out(self._visible(session, scope, editor, key), editor)

    def exists(self, session: Session, scope: Scope, key: str) -> bool:
        return canned_repository.canned_by_key(session, scope.org_id, key.strip()) is not None

    def _texts(self, texts: dict[str, str]) -> dict[str, str]:
        kept = {code.strip().lower(): text.strip() for code, text in texts.items() if text.strip()}
        if not kept:
            raise _refused("texts", "write the reply in at least one language")
        allowed = ", ".join(f"{{{name}}}" for name in VARIABLES)
        for code, text in kept.items():
            if not _LANGUAGE.fullmatch(code):
                raise _refused("texts", f"'{code}' is not a language code")
            if len(text) > MAX_TEXT:
                raise _refused(f"texts.{code}", f"at most {MAX_TEXT} characters")
            unknown = unknown_variables(text)
            if unknown:
                raise _refused(
                    f"texts.{code}",
                    f"unknown variable {{{unknown[0].name}}} at character {unknown[0].offset + 1} "
                    f"(allowed: {allowed})",
                )
        return kept

    def _actions(self, actions: MacroActions, departments: set[str]) -> dict[str, Any]:
        """The stored form of a macro's actions (what the file's `actions:` holds), or refused."""
        if actions.status is not None and actions.status not in STATUS_ACTIONS:
            raise _refused("actions.status", "pending or resolved")
        priorities = [p.value for p in Priority]
        if actions.priority is not None and actions.priority not in priorities:
            raise _refused("actions.priority", f"one of {', '.join(priorities)}")
        if actions.transfer is not None and actions.transfer not in departments:
            raise _refused("actions.transfer", f"no department '{actions.transfer}'")
        if actions.transfer is not None and actions.status is not None:
            # the same rule as the file's: resolved then handed off means neither
            raise _refused("actions", "a macro either changes the status or hands off, not both")
        if len(actions.tags) > MAX_TAGS:
            raise _refused("actions.tags", f"at most {MAX_TAGS} tags")
        tags: list[str] = []
        for tag in actions.tags:
            try:
                tags.append(clean_tag(tag))
            except UserError as exc:
                raise _refused("actions.tags", str(exc).removeprefix("tag: ")) from None
        cleaned = MacroActions(
            status=actions.status,
            priority=actions.priority,
            transfer=actions.transfer,
            tags=list(dict.fromkeys(tags)),
        )
        return cleaned.model_dump(mode="json", exclude_defaults=True)

    def put(
        self, session: Session, scope: Scope, key: str, body: CannedIn, via: str = "api"
    ) -> CannedEntryOut:
        """Create or change a saved reply (title, texts, departments, and its actions if given)."""
        editor = self._seeing(session, scope)
        key = key.strip()
        if not _KEY.fullmatch(key):
            raise _refused("key", "lowercase letters, digits, '-' or '_' (at most 64 characters)")
        departments = list(dict.fromkeys(d.strip() for d in body.departments if d.strip()))
        row = canned_repository.canned_by_key(session, scope.org_id, key)
        for held in ([list(row.department_keys or [])] if row is not None else []) + [departments]:
            reason = refusal(editor, held)
            if reason is not None:
                raise Forbidden(reason)
        known = {d.key for d in org_service.departments(session, scope.org_id)}
        missing = [d for d in departments if d not in known]
        if missing:
            raise _refused("departments", f"no department '{missing[0]}'")
        texts = self._texts(body.texts)
        actions = self._actions(body.actions, known) if body.actions is not None else None
        act_as(session, scope, via)
        if row is None:
            row = CannedResponse(org_id=scope.org_id, key=key, actions={})
            session.add(row)
        row.title = body.title.strip()
        row.texts = texts
        row.department_keys = departments
        if actions is not None:
            row.actions = actions
        session.flush()
        return self._out(row, editor)

    def delete(self, session: Session, scope: Scope, key: str, via: str = "api") -> None:
        editor = self._seeing(session, scope)
        row = self._visible(session, scope, editor, key)
        reason = refusal(editor, list(row.department_keys or []))
        if reason is not None:
            raise Forbidden(reason)
        act_as(session, scope, via)
        session.delete(row)
        session.flush()


canned_service = CannedService()
