"""The brand's guidelines one at a time: listed, changed by PR, and tried on a draft reply.

Who may do what is `guideline_access.py`; every change goes through a session that names its
actor, so the audit log records it. The test box asks the same check a reply gets before it is
sent (`service.check`), so what it finds is what an agent would be told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.guidelines import places, repository
from relaydesk.guidelines.checks import Finding
from relaydesk.guidelines.guideline_access import GuidelineAction, GuidelineEditor, refusal
from relaydesk.guidelines.guideline_kinds import MAX_PHRASES, NETWORKS, clean_params
from relaydesk.guidelines.schemas import GuidelineIn, GuidelineOut
from relaydesk.guidelines.service import check
from relaydesk.guidelines.voice import TONES
from relaydesk.models import Guideline

_NAME = re.compile(r"[\w][\w .:+-]{0,127}", re.UNICODE)
PAGE_SIZE = 50
# The keys a refused guideline's problem may have (guideline_kinds.Problem.key; web/problems.py
# has a sentence for each).
SAYS = (
    "guideline_kind",
    "guideline_phrases",
    "guideline_max_chars",
    "guideline_greetings",
    "guideline_tones",
    "guideline_domains",
    "guideline_limits",
    "guideline_pattern_missing",
    "guideline_pattern_long",
    "guideline_pattern_invalid",
    "guideline_pattern_empty_match",
    "guideline_pattern_slow",
)


@dataclass(frozen=True)
class GuidelinePage:
    rows: list[GuidelineOut]
    offset: int
    more: bool


def _out(row: Guideline, editor: GuidelineEditor, places: dict[int, tuple[str, str]]) -> GuidelineOut:
    place = places.get(row.location_id) if row.location_id is not None else None
    return GuidelineOut(
        name=row.name,
        kind=row.kind,
        params=dict(row.params or {}),
        message=row.message or "",
        place=place[0] if place else None,
        place_name=place[1] if place else None,
        severity=row.severity,
        editable=editor.may_edit,
    )


def _places_of(session: Session, org_id: int, rows: list[Guideline]) -> dict[int, tuple[str, str]]:
    return repository.place_keys(session, org_id, {r.location_id for r in rows if r.location_id is not None})


class GuidelineService:
    """Stateless; every method runs inside the caller's transaction."""

    def editor(self, session: Session, scope: Scope) -> GuidelineEditor:
        spokesperson = repository.speaks_for_brand(session, scope.org_id, scope.department_ids)
        return GuidelineEditor(role=scope.role, spokesperson=spokesperson)

    def _require(self, session: Session, scope: Scope, action: GuidelineAction) -> GuidelineEditor:
        editor = self.editor(session, scope)
        reason = refusal(editor, action)
        if reason is not None:
            raise Forbidden(reason)
        return editor

    def _row(self, session: Session, scope: Scope, name: str) -> Guideline:
        row = repository.guideline_by_name(session, scope.org_id, name)
        if row is None:
            raise NotFound(f"no guideline '{name}'")
        return row

    def page(self, session: Session, scope: Scope, search: str = "", offset: int = 0) -> GuidelinePage:
        editor = self._require(session, scope, GuidelineAction.VIEW)
        offset = max(offset, 0)
        rows = list(
            repository.guideline_page(session, scope.org_id, search.strip()[:128], offset, PAGE_SIZE + 1)
        )
        places = _places_of(session, scope.org_id, rows)
        return GuidelinePage(
            [_out(r, editor, places) for r in rows[:PAGE_SIZE]], offset, len(rows) > PAGE_SIZE
        )

    def get(self, session: Session, scope: Scope, name: str) -> GuidelineOut:
        editor = self._require(session, scope, GuidelineAction.VIEW)
        row = self._row(session, scope, name)
        return _out(row, editor, _places_of(session, scope.org_id, [row]))

    def place_id(self, session: Session, scope: Scope, key: str | None) -> int | None:
        """The id of the place with this key (None for none); an unknown key is refused."""
        return places.place_id(session, scope, key)

    def places(self, session: Session, scope: Scope) -> list[tuple[str, str, str]]:
        """(key, name, kind) of the brands and regions, to choose a guideline's place from."""
        return places.choices(session, scope)

    def exists(self, session: Session, scope: Scope, name: str) -> bool:
        return repository.guideline_by_name(session, scope.org_id, name.strip()) is not None

    def put(
        self, session: Session, scope: Scope, name: str, body: GuidelineIn, via: str = "api"
    ) -> GuidelineOut:
        """Create or change a guideline; its params are checked for its kind."""
        editor = self._require(session, scope, GuidelineAction.EDIT)
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise Refused("name: letters, digits, spaces and . : + - (at most 128)", field="name")
        params, problems = clean_params(body.kind, body.params)
        if problems:
            first = problems[0]
            raise Refused(
                f"{first.field}: {first.message}",
                field=first.field,
                problems=[f"{p.field}: {p.message}" for p in problems],
            ).saying(first.key, most=MAX_PHRASES, networks=", ".join(NETWORKS), tones=", ".join(TONES))
        location_id = self.place_id(session, scope, body.place)
        act_as(session, scope, via)
        row = repository.guideline_by_name(session, scope.org_id, name)
        if row is None:
            row = Guideline(org_id=scope.org_id, name=name)
            session.add(row)
        row.kind = body.kind
        row.params = params
        row.message = body.message.strip()
        row.location_id = location_id
        row.severity = body.severity
        session.flush()
        return _out(row, editor, _places_of(session, scope.org_id, [row]))

    def delete(self, session: Session, scope: Scope, name: str, via: str = "api") -> None:
        self._require(session, scope, GuidelineAction.EDIT)
        row = self._row(session, scope, name)
        act_as(session, scope, via)
        session.delete(row)
        session.flush()

    def try_reply(
        self,
        session: Session,
        scope: Scope,
        text: str,
        language: str | None,
        public: bool,
        place: str | None = None,
        network: str | None = None,
    ) -> list[Finding]:
        """Every finding the draft gets from today's guidelines, as a reply at `place` (a key; none:
        the organisation's guidelines only) on `network`, signed by the caller, would; nothing is
        stored or sent."""
        self._require(session, scope, GuidelineAction.VIEW)
        return check(
            session,
            scope.org_id,
            text,
            language,
            public,
            self.place_id(session, scope, place),
            network=network,
            agent_name=repository.user_names(session, scope.org_id, {scope.user_id}).get(scope.user_id),
        )


guideline_service = GuidelineService()
