"""Listening queries for the people who set them up: list with what each found, save, pause, try.

Used by /settings/listening (via "web") and PUT /api/v1/listening/queries/{name} (via "api");
who may do what is `listening_access.py`. Every change goes through a session acting for the
caller, so the audit log has it in the same transaction. The "try" box runs the poller's own
matching (network, then keywords and exclusions, then language) on a sample post, storing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.crisis import listening
from relaydesk.crisis import repository as repo
from relaydesk.crisis.listening import QueryError
from relaydesk.crisis.listening_access import ListeningAction, refusal
from relaydesk.crisis.schemas import QueryIn, QueryOut
from relaydesk.models import ListeningQuery
from relaydesk.triage.langid import detect_language

LIST_LIMIT = 200
LOCATION_CHOICES = 2000
MAX_TRY_TEXT = 5000


@dataclass(frozen=True)
class QueryRow:
    """One query as the settings list shows it."""

    query: QueryOut
    items: int  # posts it has kept so far
    last_found: datetime | None  # when the last of them was found
    location_name: str | None


@dataclass(frozen=True)
class TryResult:
    """Would the poller keep this post for the query, and why (each step of its decision)."""

    matched: bool
    network: str
    network_ok: bool
    language: str | None  # the one given, or the one detected
    language_ok: bool
    keywords: tuple[str, ...]  # the keywords found
    excluded_by: str | None


def query_out(session: Session, query: ListeningQuery) -> QueryOut:
    location = repo.location_of(session, query.brand_location_id)
    keywords = [str(k) for k in query.keywords or []]
    exclude = [str(e) for e in query.exclude or []]
    languages = [str(lang) for lang in query.languages or []]
    return QueryOut(
        id=query.id,
        name=query.name,
        keywords=keywords,
        exclude=exclude,
        languages=languages,
        networks=[str(n) for n in query.networks or []],
        location=location.key if location else None,
        active=query.active,
        cursor=dict(query.cursor or {}),
        x_search=listening.x_search_query(keywords, exclude, languages) if keywords else "",
    )


def compiled(query: ListeningQuery) -> listening.CompiledQuery:
    return listening.compile_query(
        query.name,
        list(query.keywords or []),
        list(query.exclude or []),
        list(query.languages or []),
        list(query.networks or []),
    )


class QueryService:
    """Stateless; every method runs inside the caller's transaction (the caller commits)."""

    def may(self, scope: Scope, action: ListeningAction) -> bool:
        # Reads are scoped in SQL, so whatever the caller can name is inside her part.
        return refusal(scope.role, action, in_scope=True) is None

    def _require(self, scope: Scope, action: ListeningAction, *, in_scope: bool = True) -> None:
        reason = refusal(scope.role, action, in_scope=in_scope)
        if reason is not None:
            raise Forbidden(reason)

    def _visible(self, session: Session, scope: Scope, name: str) -> ListeningQuery:
        found = repo.visible_query(session, scope, name)
        if found is None:
            # The same answer for "absent" and "another part's": no probing of names.
            raise NotFound(f"listening query '{name}' not found")
        return found

    # -- reading ---------------------------------------------------------------------------

    def rows(self, session: Session, scope: Scope, search: str = "") -> list[QueryRow]:
        self._require(scope, ListeningAction.VIEW)
        queries = repo.query_page(session, scope, search.strip()[:128], LIST_LIMIT)
        stats = repo.item_stats(session, [q.id for q in queries])
        rows = []
        for query in queries:
            items, last = stats.get(query.id, (0, None))
            location = repo.location_of(session, query.brand_location_id)
            rows.append(QueryRow(query_out(session, query), items, last, location.name if location else None))
        return rows

    def get(self, session: Session, scope: Scope, name: str) -> QueryRow:
        self._require(scope, ListeningAction.VIEW)
        query = self._visible(session, scope, name)
        items, last = repo.item_stats(session, [query.id]).get(query.id, (0, None))
        location = repo.location_of(session, query.brand_location_id)
        return QueryRow(query_out(session, query), items, last, location.name if location else None)

    def locations(self, session: Session, scope: Scope) -> list[tuple[str, str]]:
        """(key, name) of the brand locations the caller may give a query."""
        self._require(scope, ListeningAction.VIEW)
        return repo.locations_in_scope(session, scope, LOCATION_CHOICES)

    def try_post(
        self, session: Session, scope: Scope, name: str, text: str, network: str, language: str | None
    ) -> TryResult:
        """What the poller would decide for this post; nothing is stored."""
        self._require(scope, ListeningAction.TRY)
        query = compiled(self._visible(session, scope, name))
        text = text[:MAX_TRY_TEXT]
        lang = listening.normalize_language(language) or listening.normalize_language(
            detect_language(text).lang
        )
        found = listening.match_text(query, text)
        network_ok = listening.network_allowed(query, network)
        language_ok = listening.language_allowed(query, lang)
        return TryResult(
            matched=network_ok and found.matched and language_ok,
            network=network,
            network_ok=network_ok,
            language=lang,
            language_ok=language_ok,
            keywords=found.keywords,
            excluded_by=found.excluded_by,
        )

    # -- changing --------------------------------------------------------------------------

    def save(
        self, session: Session, scope: Scope, name: str, spec: QueryIn, via: str = "api", *, new: bool = False
    ) -> tuple[QueryOut, bool]:
        """Create or replace the query called `name`; True when it was created.

        `new`: the caller meant a new query, so an existing one of that name is refused, not replaced.
        """
        self._require(scope, ListeningAction.EDIT)
        name = " ".join(name.split())
        if not 1 <= len(name) <= 128:
            raise UserError("name: must be 1 to 128 characters")
        try:
            query_spec = listening.compile_query(
                name, spec.keywords, spec.exclude, spec.languages, spec.networks
            )
            keywords = listening.clean_terms(spec.keywords, "keywords")
            exclude = listening.clean_terms(spec.exclude, "exclude")
        except QueryError as exc:
            raise UserError(str(exc)) from exc
        location_id: int | None = None
        if spec.location:
            location = repo.location_by_key(session, scope.org_id, spec.location)
            if location is None:
                raise NotFound(f"location: no location '{spec.location}'")
            inside = not scope.location_path or location.path.startswith(scope.location_path)
            self._require(scope, ListeningAction.EDIT, in_scope=inside)
            location_id = location.id
        elif scope.location_path:
            raise UserError("location: required, as you work for one part of the organisation")
        query = repo.query_by_name_for_update(session, scope.org_id, name)
        created = query is None
        if query is not None and new:
            raise UserError(f"name: a listening query '{name}' exists already; choose another name")
        if query is None:
            query = ListeningQuery(org_id=scope.org_id, name=name, cursor={})
            self._require(scope, ListeningAction.CREATE)
        else:
            self._require(scope, ListeningAction.EDIT, in_scope=self._inside(session, scope, query))
        act_as(session, scope, via)
        if created:
            session.add(query)
        query.keywords = keywords
        query.exclude = exclude
        query.languages = sorted(query_spec.languages)
        query.networks = sorted(query_spec.networks)
        query.brand_location_id = location_id
        query.active = spec.active
        session.flush()
        return query_out(session, query), created

    def set_active(
        self, session: Session, scope: Scope, name: str, active: bool, via: str = "api"
    ) -> QueryOut:
        """Pause (the poller skips it, posts sent in are refused) or resume; its cursor is kept."""
        self._require(scope, ListeningAction.SWITCH)
        query = self._visible(session, scope, name)
        act_as(session, scope, via)
        query.active = active
        session.flush()
        return query_out(session, query)

    @staticmethod
    def _inside(session: Session, scope: Scope, query: ListeningQuery) -> bool:
        if not scope.location_path:
            return True
        return query.brand_location_id is not None and repo.location_path(
            session, query.brand_location_id
        ).startswith(scope.location_path)


query_service = QueryService()
