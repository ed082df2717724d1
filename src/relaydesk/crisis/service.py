"""Social listening: queries, the public posts they catch, and turning a post into a conversation.

Every read is scoped to the caller's organisation (and location subtree, for people limited to
one); only managers, admins and owners change queries or feed posts in. Storing a post is
idempotent on (query, network, external id), so a re-sent batch or a re-run poll adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import Network
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused, UserError
from relaydesk.core.pagination import id_cursor
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.crisis import conversion, listening, x_search
from relaydesk.crisis import repository as repo
from relaydesk.crisis.candidates import candidates_from_instagram, candidates_from_x
from relaydesk.crisis.listening import Candidate, CompiledQuery
from relaydesk.crisis.query_service import compiled, query_out, query_service
from relaydesk.crisis.schemas import IngestReport, ItemOut, ItemPage, QueryIn, QueryOut
from relaydesk.crisis.x_search import XSearchJob, newer_id
from relaydesk.db import reading, transaction
from relaydesk.models import ListeningItem, ListeningQuery, TimelineEvent, User
from relaydesk.pipeline.service import Pipeline
from relaydesk.triage.base import TriageInput
from relaydesk.triage.langid import detect_language
from relaydesk.triage.service import TriageService

# channels/polling.py takes the poller's job type and batch size from here.
__all__ = ["ITEM_STATUSES", "MAX_BATCH", "MAX_ITEM_TEXT", "ListeningService", "XSearchJob"]

MAX_BATCH = 500
MAX_ITEM_TEXT = 10_000
ITEM_STATUSES = ("new", "dismissed", "converted")


class ListeningService:
    def __init__(
        self, sessions: sessionmaker[Session], pipeline: Pipeline, triage: TriageService | None = None
    ) -> None:
        self.sessions = sessions
        self.pipeline = pipeline
        self.triage = triage

    # -- scoping --------------------------------------------------------------------------

    def _visible_query(self, session: Session, scope: Scope, name: str) -> ListeningQuery:
        found = repo.visible_query(session, scope, name)
        if found is None:
            raise NotFound(f"listening query '{name}' not found")
        return found

    def _visible_item(
        self, session: Session, scope: Scope, item_id: int, lock: bool = True
    ) -> tuple[ListeningItem, ListeningQuery]:
        row = repo.visible_item(session, scope, item_id, lock)
        if row is None:
            # The same answer for "absent" and "not yours": no probing of other orgs' ids.
            raise NotFound(f"listening item {item_id} not found")
        return row

    @staticmethod
    def _require_manage(scope: Scope) -> None:
        if not scope.can_manage:
            raise Forbidden("only managers, admins and owners manage listening queries")

    # -- queries --------------------------------------------------------------------------

    def queries(self, scope: Scope) -> list[QueryOut]:
        with reading(self.sessions) as session:
            return [query_out(session, q) for q in repo.queries_of(session, scope)]

    def put_query(self, scope: Scope, name: str, spec: QueryIn) -> tuple[QueryOut, bool]:
        """Create or replace the query called `name`; True when it was created (see query_service)."""
        with transaction(self.sessions) as session:
            return query_service.save(session, scope, name, spec, via="api")

    @staticmethod
    def compiled(query: ListeningQuery) -> CompiledQuery:
        return compiled(query)

    # -- ingest ---------------------------------------------------------------------------

    def ingest(
        self, scope: Scope, query_name: str, candidates: Sequence[Candidate], errors: Sequence[str] = ()
    ) -> IngestReport:
        """Match posts a caller sends for one of its queries and keep those that match."""
        self._require_manage(scope)
        with reading(self.sessions) as session:
            query = self._visible_query(session, scope, query_name)
            query_id = query.id
        return self.store(query_id, candidates, errors)

    def ingest_x_search(self, scope: Scope, query_name: str, body: dict[str, Any]) -> IngestReport:
        posts = body.get("data")
        if posts is not None and not isinstance(posts, list):
            raise UserError("data: must be a list of posts")
        if posts and len(posts) > MAX_BATCH:
            raise UserError(f"data: at most {MAX_BATCH} posts per call")
        candidates, errors = candidates_from_x(body)
        return self.ingest(scope, query_name, candidates, errors)

    def ingest_instagram_media(self, scope: Scope, query_name: str, body: dict[str, Any]) -> IngestReport:
        """A hashtag's ``recent_media`` / ``top_media`` page, or the account's ``tags`` page."""
        media = body.get("data")
        if media is not None and not isinstance(media, list):
            raise UserError("data: must be a list of IG Media")
        if media and len(media) > MAX_BATCH:
            raise UserError(f"data: at most {MAX_BATCH} media per call")
        candidates, errors = candidates_from_instagram(body)
        return self.ingest(scope, query_name, candidates, errors)

    def store(
        self, query_id: int, candidates: Sequence[Candidate], errors: Sequence[str] = ()
    ) -> IngestReport:
        """Match and store posts for a query (pollers call this directly; no caller scope)."""
        if len(candidates) > MAX_BATCH:
            raise UserError(f"at most {MAX_BATCH} posts per batch")
        with reading(self.sessions) as session:
            query = session.get(ListeningQuery, query_id)
            if query is None:
                raise NotFound(f"listening query {query_id} not found")
            name, org_id, active = query.name, query.org_id, query.active
            compiled = self.compiled(query)
        report = IngestReport(
            query=name,
            received=len(candidates),
            stored=0,
            duplicates=0,
            skipped=0,
            item_ids=[],
            reasons=[],
            errors=list(errors)[:50],
        )
        if not active:
            raise Refused(f"listening query '{name}' is paused; activate it to take in posts")

        def skip(reason: str) -> None:
            report.skipped += 1
            if len(report.reasons) < 50:
                report.reasons.append(reason)

        wanted: list[Candidate] = []
        for candidate in candidates:
            if not listening.network_allowed(compiled, candidate.network):
                skip(f"{candidate.external_id}: network {candidate.network} not listened to")
                continue
            result = listening.match_text(compiled, candidate.text)
            if result.matched:
                wanted.append(candidate)
            else:
                skip(f"{candidate.external_id}: {result.reason}")
        judged = self._judge(wanted)
        newest: dict[str, str] = {}
        with transaction(self.sessions) as session:
            for candidate, (lang, sentiment) in zip(wanted, judged, strict=True):
                if not listening.language_allowed(compiled, lang):
                    skip(f"{candidate.external_id}: language {lang or 'unknown'} not wanted")
                    continue
                item_id = repo.insert_item(
                    session,
                    {
                        "org_id": org_id,
                        "query_id": query_id,
                        "network": candidate.network,
                        "external_id": candidate.external_id[:256],
                        "author_id": candidate.author_id[:256],
                        "author_handle": (candidate.author_handle or None) and candidate.author_handle[:256],
                        "author_followers": candidate.author_followers,
                        "text": candidate.text[:MAX_ITEM_TEXT],
                        "url": candidate.url[:1000] if candidate.url else None,
                        "language": lang,
                        "sentiment": sentiment,
                        "raw": candidate.raw,
                        "status": "new",
                        "posted_at": as_utc(candidate.posted_at) or utcnow(),
                        "created_at": utcnow(),
                    },
                )
                if item_id is None:
                    report.duplicates += 1
                else:
                    report.stored += 1
                    report.item_ids.append(item_id)
                newest[candidate.network] = newer_id(newest.get(candidate.network), candidate.external_id)
            if newest:
                query = session.get(ListeningQuery, query_id)
                assert query is not None
                cursor = dict(query.cursor or {})
                for network, last in newest.items():
                    seen = cursor.get(network)
                    cursor[network] = newer_id(seen if isinstance(seen, str) else None, last)
                query.cursor = cursor
        return report

    # -- X search polling -----------------------------------------------------------------

    def x_search_jobs(self) -> list[XSearchJob]:
        """Every active query that listens on X (whole installation: the poller has no caller)."""
        with reading(self.sessions) as session:
            return x_search.search_jobs(session)

    def save_x_cursor(self, query_id: int, since_id: str) -> None:
        """Move the query's X since-id forward (never back) once a search's posts are stored."""
        with transaction(self.sessions) as session:
            query = session.get(ListeningQuery, query_id, with_for_update=True)
            if query is None:
                return
            cursor = dict(query.cursor or {})
            seen = cursor.get(Network.X.value)
            cursor[Network.X.value] = newer_id(seen if isinstance(seen, str) else None, since_id)
            query.cursor = cursor

    def _judge(self, candidates: list[Candidate]) -> list[tuple[str | None, str | None]]:
        """Language (the source's tag first) and sentiment of each matched post."""
        if not candidates:
            return []
        if self.triage is None:
            return [
                (
                    listening.normalize_language(c.lang)
                    or listening.normalize_language(detect_language(c.text).lang),
                    None,
                )
                for c in candidates
            ]
        inputs = [
            TriageInput(
                text=c.text,
                lang=listening.normalize_language(c.lang),
                channel=c.network,
                author_followers=c.author_followers,
            )
            for c in candidates
        ]
        results = self.triage.triage(inputs, [])
        return [
            (listening.normalize_language(c.lang) or listening.normalize_language(r.lang), r.sentiment)
            for c, r in zip(candidates, results, strict=True)
        ]

    # -- items ----------------------------------------------------------------------------

    def _item_out(self, item: ListeningItem, query_name: str) -> ItemOut:
        return ItemOut(
            id=item.id,
            query=query_name,
            network=item.network,
            external_id=item.external_id,
            author_id=item.author_id,
            author_handle=item.author_handle,
            author_followers=item.author_followers,
            text=item.text,
            url=item.url,
            language=item.language,
            sentiment=item.sentiment,
            status=item.status,
            conversation_id=item.conversation_id,
            posted_at=as_utc(item.posted_at) or item.posted_at,
            created_at=as_utc(item.created_at) or item.created_at,
        )

    def items(
        self,
        scope: Scope,
        *,
        status: str | None = None,
        query: str | None = None,
        language: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> ItemPage:
        if not 1 <= limit <= 200:
            raise UserError("limit: must be between 1 and 200")
        if status is not None and status not in ITEM_STATUSES:
            raise UserError(f"status: one of {', '.join(ITEM_STATUSES)}")
        with reading(self.sessions) as session:
            rows = repo.item_rows(
                session,
                scope,
                status=status,
                query=query,
                language=None if language is None else listening.normalize_language(language),
                before=before,
                limit=limit + 1,
            )
            items = [self._item_out(item, name) for item, name in rows[:limit]]
        return ItemPage(items=items, next_cursor=id_cursor(items[-1].id) if len(rows) > limit else None)

    def dismiss(self, scope: Scope, item_id: int) -> ItemOut:
        scope.require_write()
        with transaction(self.sessions) as session:
            item, query = self._visible_item(session, scope, item_id)
            if item.status == "converted":
                raise Conflict(f"listening item {item_id} is already a conversation ({item.conversation_id})")
            item.status = "dismissed"
            return self._item_out(item, query.name)

    def convert(self, scope: Scope, item_id: int, account_id: int | None = None) -> ItemOut:
        """Turn a public post into a conversation on the post's network account or a listening one.

        Safe to repeat: the pipeline stores the post once per account, so a retry (or two agents
        at once) lands on the same conversation.
        """
        scope.require_write()
        with reading(self.sessions) as session:
            item, query = self._visible_item(session, scope, item_id, lock=False)
            if item.status == "converted" and item.conversation_id is not None:
                return self._item_out(item, query.name)
            account = conversion.target_account(session, scope, item, query, account_id)
            event = conversion.event_for(item, query, account)
            account_pk, network = account.id, account.network
        accepted = self.pipeline.accept(account_pk, event)
        with transaction(self.sessions) as session:
            item, query = self._visible_item(session, scope, item_id)
            item.status = "converted"
            item.conversation_id = accepted.conversation_id
            if not accepted.duplicate:
                user = session.get(User, scope.user_id)
                session.add(
                    TimelineEvent(
                        org_id=item.org_id,
                        conversation_id=accepted.conversation_id,
                        message_id=accepted.message_id,
                        kind="listening",
                        actor_user_id=scope.user_id,
                        reason=(
                            f"started from a public {item.network} post found by listening query "
                            f"'{query.name}'"
                            + (f" by @{user.handle}" if user else "")
                            + f" (on the {network} account)"
                        ),
                        data={"listening_item_id": item.id, "url": item.url},
                    )
                )
            return self._item_out(item, query.name)
