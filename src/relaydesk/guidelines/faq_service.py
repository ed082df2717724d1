"""FAQ entries one at a time: proposed as drafts, approved by PR, retired, and suggested to agents.

`FaqService` is re-exported by `guidelines.service`. Who may do what is `faq_access.py`; every
change goes through a session that names its actor, so the audit log records it.
"""

from __future__ import annotations

import builtins
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.core.timeutil import utcnow
from relaydesk.guidelines import faq_csv, places, repository
from relaydesk.guidelines.faq import FaqAnswer, Suggestion, in_force, suggest
from relaydesk.guidelines.faq_access import FaqAction, FaqEditor, refusal, status_after_edit, transitions
from relaydesk.guidelines.faq_semantic import phrasings, rank
from relaydesk.guidelines.schemas import FaqIn, FaqOut
from relaydesk.models import FaqEntry
from relaydesk.triage.embed import Embedder
from relaydesk.triage.langid import detect_language
from relaydesk.triage.language_means import centred
from relaydesk.triage.normalize import fold

# The same shape as a key in relaydesk.yaml, so an entry made here exports and applies back.
_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
CSV_LANGUAGES = ("en", "fa", "ar", "he", "th")
# The problems a file import may be refused with (web/problems.py has a sentence for each).
SAYS = (
    "faq_csv_empty_file",
    "faq_csv_no_column",
    "faq_csv_empty",
    "faq_csv_date",
    "faq_csv_duplicate",
    "faq_csv_too_many",
    "faq_csv_unreadable",
    "faq_csv_invalid",
    "faq_csv_forbidden",
)


@dataclass
class ImportCount:
    created: int = 0
    changed: int = 0
    unchanged: int = 0


def _csv_refusal(problem: faq_csv.CsvProblem) -> Refused:
    where = f"line {problem.line}" + (f", column {problem.column}" if problem.column else "")
    key = f"faq_csv_{problem.reason}"
    assert key in SAYS, key
    return Refused(f"{where}: {problem.message}", field=problem.column or "file").saying(
        key, line=problem.line, column=problem.column or "-"
    )


# Shorter answers ("Yes.") are in too many replies to say the entry was used.
MIN_COUNTED_ANSWER = 12
# Drafts wait for someone: they come first.
STATUS_ORDER = {"draft": 0, "approved": 1, "retired": 2}


def org_today(session: Session, org_id: int) -> date:
    """Today where the organisation is: validity dates are the brand's calendar days."""
    try:
        zone = ZoneInfo(repository.org_timezone(session, org_id))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return utcnow().astimezone(zone).date()


def _no_embedder() -> Embedder | None:
    return None


log = logging.getLogger(__name__)

# Where the triage model's embedder comes from (set by the container); None: lexical matching only.
_embedder_source: Callable[[], Embedder | None] = _no_embedder


def use_embedder(source: Callable[[], Embedder | None]) -> None:
    """How this process reaches an embedder for FAQ retrieval by meaning (once, by the container)."""
    global _embedder_source
    _embedder_source = source


def current_embedder() -> Embedder | None:
    """The triage model's embedder when this process has one (None: the keyword triager)."""
    return _embedder()


def _embedder() -> Embedder | None:
    try:
        return _embedder_source()
    except Exception:
        log.warning("FAQ retrieval by meaning unavailable; matching words instead", exc_info=True)
        return None


def by_meaning(
    embedder: Embedder, message: str, entries: Sequence[FaqAnswer], language: str | None, limit: int = 3
) -> builtins.list[Suggestion]:
    """Entries ranked by the meaning of their phrasings, in any language (faq_semantic.py)."""
    if not message.strip():
        return []
    said = [phrasings(e) for e in entries]
    flat = [pair for pairs in said for pair in pairs]
    vectors = centred(embedder.embed_queries([t for t, _ in flat]), [lang for _, lang in flat])
    rows, at = [], 0
    for pairs in said:
        rows.append(vectors[at : at + len(pairs)])
        at += len(pairs)
    query_language = language or detect_language(message).lang
    query = centred(embedder.embed_queries([message]), [query_language])[0]
    return rank(query, entries, rows, language, limit)


def as_answer(row: FaqEntry) -> FaqAnswer:
    return FaqAnswer(
        row.key,
        row.question,
        row.answer,
        row.language,
        tuple(v for v in row.variants or [] if isinstance(v, str)),
        {k: v for k, v in (row.answers or {}).items() if isinstance(v, str)},
    )


def _texts(body: FaqIn) -> tuple[str, str, str, builtins.list[str], dict[str, str]]:
    """(question, answer, language, variants, answers) as `put` stores them: the shape of `_text_of`."""
    answers = {lang: text.strip() for lang, text in body.answers.items() if text.strip()}
    answers[body.language] = body.answer.strip()
    variants = [v.strip() for v in body.variants if v.strip()]
    return body.question.strip(), body.answer.strip(), body.language, variants, answers


def _stored(row: FaqEntry) -> tuple[object, ...]:
    """Everything an import row may change: the texts, the place and the validity dates."""
    return (*_text_of(row), row.location_id, row.valid_from, row.valid_until)


def _text_of(row: FaqEntry) -> tuple[object, ...]:
    return (row.question, row.answer, row.language, list(row.variants or []), dict(row.answers or {}))


def _search_text(row: FaqEntry) -> str:
    parts = [row.key, row.question, *(row.variants or []), *(row.answers or {}).values()]
    return fold(" ".join(str(p) for p in parts))


class FaqService:
    """Stateless; every method runs inside the caller's transaction."""

    def editor(self, session: Session, scope: Scope) -> FaqEditor:
        spokesperson = repository.speaks_for_brand(session, scope.org_id, scope.department_ids)
        return FaqEditor(role=scope.role, spokesperson=spokesperson)

    def _require(self, editor: FaqEditor, action: FaqAction, status: str | None = None) -> None:
        reason = refusal(editor, action, status)
        if reason is not None:
            raise Forbidden(reason)

    def _row(self, session: Session, scope: Scope, key: str) -> FaqEntry:
        row = repository.faq_by_key(session, scope.org_id, key)
        if row is None:
            raise NotFound(f"no FAQ entry '{key}'")
        return row

    def _out(
        self,
        row: FaqEntry,
        editor: FaqEditor,
        today: date,
        names: dict[int, str],
        places: dict[int, tuple[str, str]],
    ) -> FaqOut:
        allowed = [a.value for a in transitions(editor, row.status)]
        if refusal(editor, FaqAction.EDIT, row.status) is None:
            allowed.insert(0, FaqAction.EDIT.value)
        if refusal(editor, FaqAction.DELETE, row.status) is None:
            allowed.append(FaqAction.DELETE.value)
        return FaqOut(
            key=row.key,
            question=row.question,
            answer=row.answer,
            language=row.language,
            status=row.status,
            variants=list(row.variants or []),
            # The primary first: the page lists the languages in this order.
            answers={
                row.language: row.answer,
                **{k: v for k, v in (row.answers or {}).items() if k != row.language},
            },
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            approved_by=names.get(row.approved_by_id) if row.approved_by_id else None,
            approved_at=row.approved_at,
            updated_at=row.updated_at,
            place=places[row.location_id][0] if row.location_id in places else None,
            place_name=places[row.location_id][1] if row.location_id in places else None,
            usage_count=row.usage_count or 0,
            last_used_at=row.last_used_at,
            suggested=row.status == "approved" and in_force(row.valid_from, row.valid_until, today),
            allowed=allowed,
        )

    def _outs(self, session: Session, scope: Scope, rows: Sequence[FaqEntry]) -> builtins.list[FaqOut]:
        editor = self.editor(session, scope)
        today = org_today(session, scope.org_id)
        approvers = {r.approved_by_id for r in rows if r.approved_by_id}
        names = repository.user_names(session, scope.org_id, approvers)
        places = repository.place_keys(session, scope.org_id, {r.location_id for r in rows if r.location_id})
        return [self._out(r, editor, today, names, places) for r in rows]

    def places(self, session: Session, scope: Scope) -> builtins.list[tuple[str, str, str]]:
        """(key, name, kind) of the brands and regions, to choose one's place from."""
        return places.choices(session, scope)

    def place_id(self, session: Session, scope: Scope, key: str | None) -> int | None:
        return places.place_id(session, scope, key)

    def list(
        self, session: Session, scope: Scope, status: str | None = None, search: str | None = None
    ) -> builtins.list[FaqOut]:
        """Drafts awaiting approval first, then approved, then retired; each by key."""
        self._require(self.editor(session, scope), FaqAction.VIEW)
        rows = list(repository.faq_entries(session, scope.org_id))
        if status:
            rows = [r for r in rows if r.status == status]
        wanted = fold(search.strip()) if search and search.strip() else ""
        if wanted:
            rows = [r for r in rows if wanted in _search_text(r)]
        rows.sort(key=lambda r: (STATUS_ORDER.get(r.status, 3), r.key))
        return self._outs(session, scope, rows)

    def get(self, session: Session, scope: Scope, key: str) -> FaqOut:
        self._require(self.editor(session, scope), FaqAction.VIEW)
        return self._outs(session, scope, [self._row(session, scope, key)])[0]

    def exists(self, session: Session, scope: Scope, key: str) -> bool:
        return repository.faq_by_key(session, scope.org_id, key.strip()) is not None

    def put(self, session: Session, scope: Scope, key: str, body: FaqIn, via: str = "api") -> FaqOut:
        """Create a draft or change an entry; a changed text of an approved entry goes back to draft."""
        key = key.strip()
        if not _KEY.fullmatch(key):
            raise Refused("key: lowercase letters, digits, '-', '_' or '.' (at most 64 characters)")
        if body.valid_from and body.valid_until and body.valid_until < body.valid_from:
            raise Refused("valid_until: before valid_from")
        editor = self.editor(session, scope)
        row = repository.faq_by_key(session, scope.org_id, key)
        self._require(
            editor, FaqAction.CREATE if row is None else FaqAction.EDIT, row.status if row else None
        )
        question, answer, language, variants, answers = _texts(body)
        location_id = self.place_id(session, scope, body.place)
        act_as(session, scope, via)
        if row is None:
            row = FaqEntry(org_id=scope.org_id, key=key, status="draft")
            session.add(row)
            before: tuple[object, ...] | None = None
        else:
            before = _text_of(row)
        row.question = question
        row.answer = answer
        row.language = language
        row.variants = variants
        row.answers = answers
        row.valid_from = body.valid_from
        row.valid_until = body.valid_until
        # Where an entry is offered is part of what PR approved: moving it is a change of text.
        moved = row.location_id != location_id and before is not None
        row.location_id = location_id
        if before is not None and moved:
            before = (*before, "moved")
        if before is not None:
            status = status_after_edit(row.status, _text_of(row) != before)
            if status != row.status:
                row.status = status
                row.approved_by_id = None
                row.approved_at = None
        session.flush()
        return self._outs(session, scope, [row])[0]

    def set_status(
        self, session: Session, scope: Scope, key: str, action: FaqAction, via: str = "api"
    ) -> FaqOut:
        """Approve, put back to draft or retire; approving records who and when."""
        target = {FaqAction.APPROVE: "approved", FaqAction.DRAFT: "draft", FaqAction.RETIRE: "retired"}.get(
            action
        )
        if target is None:
            raise Refused(f"'{action}' is not a status change")
        row = self._row(session, scope, key)
        editor = self.editor(session, scope)
        self._require(editor, action, row.status)
        if row.status == target:
            return self._outs(session, scope, [row])[0]
        act_as(session, scope, via)
        row.status = target
        if target == "approved":
            row.approved_by_id = scope.user_id
            row.approved_at = utcnow()
        session.flush()
        return self._outs(session, scope, [row])[0]

    def delete(self, session: Session, scope: Scope, key: str, via: str = "api") -> None:
        row = self._row(session, scope, key)
        self._require(self.editor(session, scope), FaqAction.DELETE, row.status)
        act_as(session, scope, via)
        session.delete(row)
        session.flush()

    def suggestions(
        self,
        session: Session,
        org_id: int,
        message: str,
        language: str | None,
        today: date | None = None,
        location_id: int | None = None,
    ) -> builtins.list[Suggestion]:
        """What agents are offered for a customer message at this place: approved entries in force
        today, the organisation's and those of the place and every place above it."""
        when = today or org_today(session, org_id)
        rows = repository.approved_faq(session, org_id, location_id)
        entries = [as_answer(r) for r in rows if in_force(r.valid_from, r.valid_until, when)]
        embedder = _embedder() if entries else None
        if embedder is not None:
            try:
                return by_meaning(embedder, message, entries, language)
            except Exception:
                log.warning("FAQ retrieval by meaning failed; matching words instead", exc_info=True)
        return suggest(message, entries, language)

    def try_message(
        self, session: Session, scope: Scope, text: str, language: str | None, place: str | None = None
    ) -> builtins.list[Suggestion]:
        """The "Try a question" box: the same suggestions an agent at `place` would see; nothing is stored."""
        self._require(self.editor(session, scope), FaqAction.VIEW)
        return self.suggestions(
            session, scope.org_id, text, language, location_id=self.place_id(session, scope, place)
        )

    def export_csv(self, session: Session, scope: Scope) -> str:
        """Every entry the caller sees on the FAQ page, as the spreadsheet `faq_csv` describes."""
        entries = [e.model_dump(mode="json") for e in self.list(session, scope)]
        return faq_csv.write(entries, CSV_LANGUAGES)

    def import_csv(self, session: Session, scope: Scope, text: str, via: str = "api") -> ImportCount:
        """Create or change the file's entries, all or none (the caller's transaction): a new entry
        is a draft, a changed approved one goes back to draft (only PR approves)."""
        entries, problems = faq_csv.read(text)
        if problems:
            raise _csv_refusal(problems[0])
        if not entries:
            raise _csv_refusal(faq_csv.CsvProblem(1, "", "the file has no entries", "empty_file"))
        count = ImportCount()
        for entry in entries:
            row = repository.faq_by_key(session, scope.org_id, entry.key)
            before = _stored(row) if row else None
            try:
                body = FaqIn(
                    question=entry.question,
                    answer=entry.answers[entry.language],
                    language=entry.language,
                    variants=entry.variants,
                    answers={k: v for k, v in entry.answers.items() if k != entry.language},
                    valid_from=entry.valid_from,
                    valid_until=entry.valid_until,
                    place=entry.place,
                )
            except ValidationError as exc:
                column = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "key"
                raise _csv_refusal(
                    faq_csv.CsvProblem(entry.line, column, "too long or not valid", "invalid")
                ) from None
            if row is not None and before == self._would_be(session, scope, body):
                count.unchanged += 1  # untouched rows need no right to change them
                continue
            try:
                self.put(session, scope, entry.key, body, via=via)
            except Forbidden:
                raise _csv_refusal(
                    faq_csv.CsvProblem(
                        entry.line, "key", "only PR changes an approved or retired entry", "forbidden"
                    )
                ) from None
            except Refused as exc:
                column = str(exc.extra.get("field") or "key")
                raise _csv_refusal(faq_csv.CsvProblem(entry.line, column, str(exc), "invalid")) from None
            if row is None:
                count.created += 1
            elif before != _stored(row):
                count.changed += 1
            else:
                count.unchanged += 1
        return count

    def _would_be(self, session: Session, scope: Scope, body: FaqIn) -> tuple[object, ...]:
        """What `put` would store for `body`, in the shape of `_stored`."""
        return (*_texts(body), self.place_id(session, scope, body.place), body.valid_from, body.valid_until)

    def count_uses(self, session: Session, org_id: int, location_id: int | None, sent: str) -> int:
        """Count a sent reply for every approved entry (of its place) whose answer, in any language,
        it carries: what the usage counts on the FAQ page say. Returns how many were counted."""
        text = fold(sent)
        if len(text) < MIN_COUNTED_ANSWER:
            return 0
        used = [
            row.id
            for row in repository.approved_faq(session, org_id, location_id)
            if any(
                len(folded) >= MIN_COUNTED_ANSWER and folded in text
                for folded in (
                    fold(a) for a in {row.answer, *(row.answers or {}).values()} if isinstance(a, str)
                )
            )
        ]
        repository.count_faq_uses(session, org_id, used, utcnow())
        return len(used)


faq_service = FaqService()
