"""Notification destinations for the people who set them up: list, add, replace, switch, test, delete.

Used by the settings page (via "web") and /api/v1/destinations (via "api"); who may do what is
`destination_access.py`. Every change goes through a session acting for the caller, so the audit
log has it in the same transaction, with the URL only as "(secret)". The URL is write-only: sealed
with the SecretBox on the way in and opened only to post to it. Destinations the environment
defines (`RELAYDESK_WEBHOOK_<NAME>`) are listed by name, read-only, and win over a stored one of
the same name (see webhooks.py).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.audit.service import act_as
from relaydesk.auth.crypto import SecretBox
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused
from relaydesk.db import reading
from relaydesk.models import NotificationDestination
from relaydesk.notifications import destination_repository as destinations_db
from relaydesk.notifications import webhooks
from relaydesk.notifications.destination_access import DestinationAction, refusal
from relaydesk.notifications.destination_values import (
    clean_name,
    env_destination_name,
    name_problem,
    url_problem,
)
from relaydesk.notifications.schemas import (
    DestinationIn,
    DestinationList,
    DestinationOut,
    DestinationPatch,
    DestinationTestOut,
    EnvDestinationOut,
)

LIST_LIMIT = 200
TEST_TEXT = "RelayDesk: a test message for the notification destination “{name}”. Nothing needs doing."


def whole_org(scope: Scope) -> bool:
    return scope.location_path is None and scope.location_ids is None


def _overridden_by(name: str) -> str | None:
    return webhooks.env_name(name) if webhooks.webhook_url(name) is not None else None


def _out(row: NotificationDestination) -> DestinationOut:
    return DestinationOut(
        name=row.name,
        active=row.active,
        overridden_by=_overridden_by(row.name),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _checked_url(url: str) -> str:
    problem = url_problem(url.strip())
    if problem is not None:
        raise Refused(problem)
    return url.strip()


class DestinationService:
    """Stateless; every method runs inside the caller's transaction (the caller commits)."""

    def may(self, scope: Scope, action: DestinationAction) -> bool:
        return refusal(scope.role, action, org_wide=whole_org(scope)) is None

    def _require(self, scope: Scope, action: DestinationAction) -> None:
        reason = refusal(scope.role, action, org_wide=whole_org(scope))
        if reason is not None:
            raise Forbidden(reason)

    def _row(
        self, session: Session, scope: Scope, name: str, *, lock: bool = False
    ) -> NotificationDestination:
        row = destinations_db.destination(session, scope.org_id, clean_name(name), lock=lock)
        if row is None:
            raise NotFound(f"no notification destination '{clean_name(name)}'")
        return row

    # -- reading ---------------------------------------------------------------------------

    def list(self, session: Session, scope: Scope, search: str = "") -> DestinationList:
        self._require(scope, DestinationAction.VIEW)
        search = clean_name(search)[:64]
        rows = destinations_db.destinations(session, scope.org_id, search, LIST_LIMIT + 1)
        environment = [
            EnvDestinationOut(name=env_destination_name(v, webhooks.ENV_PREFIX), variable=v)
            for v in webhooks.env_webhooks()
        ]
        return DestinationList(
            stored=[_out(r) for r in rows[:LIST_LIMIT]],
            environment=[e for e in environment if search in e.name],
            capped=len(rows) > LIST_LIMIT,
        )

    def get(self, session: Session, scope: Scope, name: str) -> DestinationOut:
        self._require(scope, DestinationAction.VIEW)
        return _out(self._row(session, scope, name))

    # -- changing --------------------------------------------------------------------------

    def create(
        self, session: Session, scope: Scope, box: SecretBox, body: DestinationIn, via: str = "api"
    ) -> DestinationOut:
        self._require(scope, DestinationAction.CREATE)
        name = clean_name(body.name)
        problem = name_problem(name)
        if problem is not None:
            raise Refused(problem)
        url = _checked_url(body.url)
        if destinations_db.destination(session, scope.org_id, name) is not None:
            raise Conflict(f"name: a destination '{name}' exists already; choose another name")
        if webhooks.webhook_url(name) is not None:
            raise Conflict(
                f"name: the server's environment sets '{name}' ({webhooks.env_name(name)}), "
                "which would always win; choose another name"
            )
        act_as(session, scope, via)
        row = NotificationDestination(
            org_id=scope.org_id, name=name, url_secret=box.seal({"url": url}), active=body.active
        )
        session.add(row)
        session.flush()
        return _out(row)

    def update(
        self,
        session: Session,
        scope: Scope,
        box: SecretBox,
        name: str,
        body: DestinationPatch,
        via: str = "api",
    ) -> DestinationOut:
        self._require(scope, DestinationAction.EDIT)
        row = self._row(session, scope, name, lock=True)
        # An empty "replace" field keeps the stored address, as the page's password field does.
        url = _checked_url(body.url) if body.url is not None and body.url.strip() else None
        act_as(session, scope, via)
        if url is not None and box.open(row.url_secret).get("url") != url:
            row.url_secret = box.seal({"url": url})
        if body.active is not None:
            row.active = body.active
        session.flush()
        return _out(row)

    def delete(self, session: Session, scope: Scope, name: str, via: str = "api") -> None:
        self._require(scope, DestinationAction.DELETE)
        row = self._row(session, scope, name, lock=True)
        act_as(session, scope, via)
        session.delete(row)
        session.flush()

    def test(
        self, sessions: sessionmaker[Session], scope: Scope, box: SecretBox, name: str
    ) -> DestinationTestOut:
        """Post a short test message now, to the address a rule's notice would use; nothing is stored.

        The post is made after the read session is closed: a slow receiver holds no connection.
        """
        self._require(scope, DestinationAction.TEST)
        name = clean_name(name)
        url = webhooks.webhook_url(name)
        source = "environment"
        if url is None:
            with reading(sessions) as session:
                stored = box.open(self._row(session, scope, name).url_secret).get("url")
            if not isinstance(stored, str):
                raise NotFound(f"no address stored for '{name}'")
            url, source = stored, "stored"
        sent = webhooks.send_once(url, TEST_TEXT.format(name=name))
        return DestinationTestOut(name=name, ok=sent.ok, status=sent.status, error=sent.error, source=source)


destination_service = DestinationService()


class StoredDestinations:
    """What webhooks.py asks when a stored destination is to be posted to (no caller: a rule fired)."""

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox) -> None:
        self.sessions = sessions
        self.box = box

    def __call__(self, org_id: int, name: str) -> str | None:
        with reading(self.sessions) as session:
            row = destinations_db.destination(session, org_id, name)
            if row is None or not row.active:
                return None
            url = self.box.open(row.url_secret).get("url")
        return url if isinstance(url, str) else None
