"""Intents one at a time, for the settings page and the API: listed, changed, checked, tried.

Who may change which intent is `intent_access.py`; every change goes through a session that names
its actor, so the audit log records it. The few-shot check and the try box ask the same triage the
pipeline uses (`TriageService`), with the organisation's intents as stored now.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import BUILTIN_INTENTS
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.core.timeutil import utcnow
from relaydesk.models import Intent
from relaydesk.orgs import intent_repository, repository
from relaydesk.orgs.intent_access import IntentEditor, refusal
from relaydesk.orgs.schemas import IntentIn
from relaydesk.triage.base import TriageInput
from relaydesk.triage.example_check import ExampleCheck, check_examples, ranked, thin_languages
from relaydesk.triage.langid import detect_languages

if TYPE_CHECKING:
    from relaydesk.triage.service import TriageService

# The shape config files use (config/schemas.py), so an intent made here exports and applies back.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
PAGE_SIZE = 50
MAX_EXAMPLES = 500
MAX_EXAMPLE_CHARS = 2000
# Examples triaged by one few-shot check: a page answer, not a training run.
CHECK_LIMIT = 200
# Examples also read held out: each is one more set of intents for triage to compile (with the
# embedding backend, a small fit each), so only the first ones.
HELD_OUT_LIMIT = 30


@dataclass(frozen=True)
class IntentRow:
    name: str
    department: str | None
    examples: list[str]
    # A built-in intent listed without examples: triage uses the product's examples for it.
    builtin: bool
    editable: bool
    languages: dict[str, int] = field(default_factory=dict)  # examples per detected language


@dataclass(frozen=True)
class IntentPage:
    rows: list[IntentRow]
    offset: int
    more: bool


@dataclass(frozen=True)
class TriedMessage:
    intent: str | None
    department: str | None
    lang: str
    top: list[tuple[str, float]]
    reasons: list[str]


def _clean_examples(examples: list[str]) -> list[str]:
    """Trimmed, without blank lines and repeats (the same words in another case are a repeat)."""
    seen: set[str] = set()
    kept: list[str] = []
    for example in examples:
        text = example.strip()
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            kept.append(text)
    return kept


def _languages(examples: list[str]) -> dict[str, int]:
    counts = Counter(guess.lang for guess in detect_languages(examples))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


class IntentService:
    """Stateless; every method runs inside the caller's transaction."""

    def editor(self, session: Session, scope: Scope) -> IntentEditor:
        departments = frozenset(repository.department_keys(session, sorted(scope.department_ids)))
        regional = scope.location_ids is not None or scope.location_path is not None
        return IntentEditor(role=scope.role, departments=departments, regional=regional)

    def _seeing(self, session: Session, scope: Scope) -> IntentEditor:
        editor = self.editor(session, scope)
        if not editor.may_see:
            raise Forbidden("intents are for managers, admins and owners")
        return editor

    def _row(self, session: Session, scope: Scope, name: str) -> Intent:
        row = repository.intent_by_name(session, scope.org_id, name)
        if row is None:
            raise NotFound(f"no intent '{name}'")
        return row

    def _out(self, row: Intent, editor: IntentEditor, *, languages: bool) -> IntentRow:
        examples = [str(e) for e in row.examples or []]
        return IntentRow(
            name=row.name,
            department=row.department_key,
            examples=examples,
            builtin=not examples and row.name in BUILTIN_INTENTS,
            editable=refusal(editor, row.department_key) is None,
            languages=_languages(examples) if languages else {},
        )

    def page(
        self, session: Session, scope: Scope, search: str = "", department: str | None = None, offset: int = 0
    ) -> IntentPage:
        editor = self._seeing(session, scope)
        offset = max(offset, 0)
        rows = intent_repository.intents_page(
            session, scope.org_id, search.strip()[:64], department, offset, PAGE_SIZE + 1
        )
        return IntentPage(
            rows=[self._out(r, editor, languages=True) for r in rows[:PAGE_SIZE]],
            offset=offset,
            more=len(rows) > PAGE_SIZE,
        )

    def get(self, session: Session, scope: Scope, name: str) -> IntentRow:
        editor = self._seeing(session, scope)
        return self._out(self._row(session, scope, name), editor, languages=True)

    def exists(self, session: Session, scope: Scope, name: str) -> bool:
        return repository.intent_by_name(session, scope.org_id, name.strip()) is not None

    def put(self, session: Session, scope: Scope, name: str, body: IntentIn, via: str = "api") -> IntentRow:
        """Create or replace an intent: its department and its examples, one per entry."""
        editor = self._seeing(session, scope)
        row = repository.intent_by_name(session, scope.org_id, name)
        if row is None and not _NAME.fullmatch(name):
            raise Refused(
                "name: lowercase letters, digits and '_', starting with a letter (at most 64)", field="name"
            )
        for department in {body.department, row.department_key if row is not None else body.department}:
            reason = refusal(editor, department)
            if reason is not None:
                raise Forbidden(reason)
        examples = _clean_examples(body.examples)
        if len(examples) > MAX_EXAMPLES:
            raise Refused(f"examples: at most {MAX_EXAMPLES}", field="examples")
        if any(len(e) > MAX_EXAMPLE_CHARS for e in examples):
            raise Refused(f"examples: each at most {MAX_EXAMPLE_CHARS} characters", field="examples")
        if not examples and name not in BUILTIN_INTENTS:
            raise Refused("examples: at least one example phrase is needed", field="examples")
        if body.department is not None and not repository.department_key_exists(
            session, scope.org_id, body.department
        ):
            raise Refused(f"department: no department '{body.department}'", field="department")
        act_as(session, scope, via)
        if row is None:
            row = Intent(org_id=scope.org_id, name=name)
            session.add(row)
        row.examples = examples
        row.department_key = body.department
        row.updated_at = utcnow()
        session.flush()
        return self._out(row, editor, languages=False)

    def delete(self, session: Session, scope: Scope, name: str, via: str = "api") -> None:
        editor = self._seeing(session, scope)
        row = self._row(session, scope, name)
        reason = refusal(editor, row.department_key)
        if reason is not None:
            raise Forbidden(reason)
        act_as(session, scope, via)
        session.delete(row)
        session.flush()

    def few_shot_check(
        self, session: Session, scope: Scope, triage: TriageService, name: str
    ) -> list[ExampleCheck]:
        """Where triage puts each example of the intent today (a built-in one: the product's)."""
        self._seeing(session, scope)
        row = self._row(session, scope, name)
        examples = [str(e) for e in row.examples or []]
        if not examples:
            builtin = next((d for d in triage.builtin if d.name == row.name), None)
            examples = list(builtin.examples) if builtin is not None else []
        examples = examples[:CHECK_LIMIT]
        if not examples:
            return []
        custom = triage.org_intents(session, scope.org_id)
        results = triage.triage([TriageInput(text=e) for e in examples], custom)
        readings = [(r.intent, r.scores.get("intent", {})) for r in results]
        held_out: list[str | None] = []
        if row.examples:  # a built-in intent's examples are the product's, not held here
            for example in examples[:HELD_OUT_LIMIT]:
                without = [
                    replace(d, examples=tuple(e for e in d.examples if e != example))
                    if d.name == row.name
                    else d
                    for d in custom
                ]
                held_out.append(triage.triage([TriageInput(text=example)], without)[0].intent)
        return check_examples(row.name, examples, readings, held_out, [r.lang for r in results])

    @staticmethod
    def thin_languages(checks: Sequence[ExampleCheck], languages: Sequence[str]) -> list[str]:
        """The languages the intent has too few native examples in (`example_check.thin_languages`)."""
        return thin_languages(checks, languages)

    def try_message(
        self, session: Session, scope: Scope, triage: TriageService, text: str, lang: str | None
    ) -> TriedMessage:
        """The intent triage gives this message today, and the closest others; nothing is stored."""
        self._seeing(session, scope)
        result = triage.triage(
            [TriageInput(text=text, lang=lang)], triage.org_intents(session, scope.org_id)
        )[0]
        return TriedMessage(
            intent=result.intent,
            department=result.department,
            lang=result.lang,
            top=ranked(result.scores.get("intent", {}), limit=3),
            reasons=list(result.reasons),
        )


intent_service = IntentService()
