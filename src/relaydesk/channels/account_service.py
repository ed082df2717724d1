"""Channel accounts for the people who connect them: list with status, connect, change, check.

Used by the settings pages (via "web") and /api/v1/accounts (via "api"); who may do what is
`account_access.py`. Every change goes through a session acting for the caller, so the audit log
has it in the same transaction, with the credentials only as "(secret)". Credentials are
write-only: they are sealed on the way in and only their names come back out.

An account is validated as `config apply` validates the `accounts:` section (key, network,
handle, network id) and a network identity belongs to one account of the whole installation
(see models.orgs.NETWORK_IDENTITY_CONSTRAINT): a second holder is refused in words, not a 500.
The status is computed when asked (the check reads only names of credentials, the last event
and the last failed reply are one index step each), so nothing is stored for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.crypto import SecretBox, SecretKeyMissing
from relaydesk.auth.scopes import Scope
from relaydesk.channels import account_repository as accounts_db
from relaydesk.channels import registry, repository
from relaydesk.channels.account_access import AccountAction, refusal
from relaydesk.channels.account_status import LastError, badge, credential_problem, merged_credentials
from relaydesk.channels.check import check_account, sandboxed, shared_verify_token, verify_token_networks
from relaydesk.channels.schemas import AccountIn, AccountOut, AccountPatch, AccountStatusOut, LastErrorOut
from relaydesk.config.schemas import AccountConfig
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.models import ChannelAccount, Location

LIST_LIMIT = 500
# The location choices a form offers (a datalist): a chain's 1,000+ fit; a bigger one types the key.
LOCATION_CHOICES = 2000
IDENTITY_RULE = (
    "a network identity belongs to one account of the installation; "
    "the account holding it must be disconnected first"
)


def _problem_of(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        parts.append(f"{field}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


def _validated(**fields: Any) -> AccountConfig:
    """The fields as `config apply` would take them: the same rules, the same messages."""
    try:
        return AccountConfig(**fields)
    except ValidationError as exc:
        raise Refused(_problem_of(exc)) from None


def _check_credentials(values: dict[str, str]) -> None:
    problems = [p for p in (credential_problem(n, v) for n, v in values.items()) if p is not None]
    if problems:
        raise Refused("; ".join(problems))


class AccountService:
    """Stateless; every method runs inside the caller's transaction (the caller commits)."""

    def _require(self, scope: Scope, action: AccountAction) -> None:
        reason = refusal(scope.role, action)
        if reason is not None:
            raise Forbidden(reason)

    def may(self, scope: Scope, action: AccountAction) -> bool:
        return refusal(scope.role, action) is None

    # -- reading ---------------------------------------------------------------------------

    def accounts(
        self, session: Session, scope: Scope, box: SecretBox, base_url: str, search: str = ""
    ) -> list[AccountOut]:
        """The accounts the caller may see, by key, each with its status."""
        self._require(scope, AccountAction.VIEW)
        rows = accounts_db.accounts(
            session, scope.org_id, scope.location_ids, search.strip()[:200], LIST_LIMIT, scope.account_ids
        )
        return self._out(session, box, base_url, rows)

    def get(self, session: Session, scope: Scope, box: SecretBox, base_url: str, key: str) -> AccountOut:
        self._require(scope, AccountAction.VIEW)
        return self._out(session, box, base_url, [self._row(session, scope, key)])[0]

    def check(self, session: Session, scope: Scope, box: SecretBox, base_url: str, key: str) -> AccountOut:
        """The account's status, worked out again now (nothing is stored, nothing is sent)."""
        self._require(scope, AccountAction.CHECK)
        return self._out(session, box, base_url, [self._row(session, scope, key)])[0]

    def locations(self, session: Session, scope: Scope) -> list[tuple[str, str]]:
        """(key, name) of the locations the caller may attach an account to."""
        self._require(scope, AccountAction.VIEW)
        return accounts_db.locations(session, scope.org_id, scope.location_ids, LOCATION_CHOICES)

    def networks(self) -> list[str]:
        return list(registry.channels())

    def _row(self, session: Session, scope: Scope, key: str) -> tuple[ChannelAccount, Location]:
        found = accounts_db.account_by_key(session, scope.org_id, key)
        if found is None or (
            (scope.location_ids is not None and found[0].location_id not in scope.location_ids)
            or not scope.sees_account(found[0].id)
        ):
            raise NotFound(f"no account '{key}'")
        return found

    # -- changing --------------------------------------------------------------------------

    def connect(
        self, session: Session, scope: Scope, box: SecretBox, base_url: str, body: AccountIn, via: str = "api"
    ) -> AccountOut:
        self._require(scope, AccountAction.CONNECT)
        valid = _validated(
            key=body.key,
            network=body.network,
            handle=body.handle,
            external_id=body.external_id or None,
            name=body.name,
            location=body.location,
        )
        credentials = {n: v for n, v in body.credentials.items() if v != ""}
        _check_credentials(credentials)
        location = self._location(session, scope, body.location)
        if accounts_db.account_by_key(session, scope.org_id, valid.key) is not None:
            raise Conflict(f"key: an account '{valid.key}' exists already; choose another key").saying(
                "account_key_taken", account=valid.key
            )
        self._identity_free(session, scope, valid.network.value, valid.external_id, None)
        act_as(session, scope, via)
        row = ChannelAccount(
            org_id=scope.org_id,
            location_id=location.id,
            key=valid.key,
            network=valid.network.value,
            handle=valid.handle,
            external_id=valid.external_id,
            name=valid.name,
            credentials_encrypted=box.seal(credentials) if credentials else None,
            settings={"sandbox": True} if body.sandbox else {},
            active=body.active,
        )
        session.add(row)
        self._flush(session, row)
        return self._out(session, box, base_url, [(row, location)])[0]

    def update(
        self,
        session: Session,
        scope: Scope,
        box: SecretBox,
        base_url: str,
        key: str,
        body: AccountPatch,
        via: str = "api",
    ) -> AccountOut:
        """Change what `body` names; a change of nothing but `active` needs only the switch right."""
        row, location = self._row(session, scope, key)
        given = body.model_fields_set
        only_switch = given <= {"active"}
        self._require(scope, AccountAction.SWITCH if only_switch else AccountAction.EDIT)
        external_id = (body.external_id or None) if "external_id" in given else row.external_id
        valid = _validated(
            key=row.key,
            network=row.network,
            handle=body.handle if body.handle is not None else row.handle,
            external_id=external_id,
            name=body.name if body.name is not None else row.name,
            location=body.location if body.location is not None else location.key,
        )
        if body.location is not None and body.location != location.key:
            location = self._location(session, scope, body.location)
        _check_credentials(body.credentials)
        if valid.external_id != row.external_id:
            self._identity_free(session, scope, row.network, valid.external_id, row.id)
        sealed = self._sealed(box, row.credentials_encrypted, body.credentials, body.remove_credentials)
        act_as(session, scope, via)
        row.handle = valid.handle
        row.name = valid.name
        row.external_id = valid.external_id
        row.location_id = location.id
        if sealed is not None:
            row.credentials_encrypted = sealed or None
        if body.sandbox is not None:
            settings = {k: v for k, v in (row.settings or {}).items() if k != "sandbox"}
            # Off is no key at all: `config export` then writes nothing for it.
            row.settings = {**settings, "sandbox": True} if body.sandbox else settings
        if body.active is not None:
            row.active = body.active
        self._flush(session, row)
        return self._out(session, box, base_url, [(row, location)])[0]

    def _sealed(
        self, box: SecretBox, token: str | None, entered: dict[str, str], removed: Sequence[str]
    ) -> str | None:
        """The new sealed credentials, "" for none left, None when they do not change.

        Unchanged credentials are not sealed again: a fresh token would read as a change of
        secret in the audit log.
        """
        if not any(v != "" for v in entered.values()) and not removed:
            return None
        stored = box.open(token) if token else {}
        merged = merged_credentials(stored, entered, removed)
        if merged == stored:
            return None
        return box.seal(merged) if merged else ""

    def _location(self, session: Session, scope: Scope, key: str) -> Location:
        location = accounts_db.location_by_key(session, scope.org_id, key.strip())
        if location is None:
            raise Refused(f"location: no location '{key}' in this organisation").saying(
                "account_location_unknown", location=key
            )
        if scope.location_ids is not None and location.id not in scope.location_ids:
            raise Forbidden(f"location: '{key}' is outside your part of the organisation")
        return location

    def _identity_free(
        self, session: Session, scope: Scope, network: str, external_id: str | None, own_id: int | None
    ) -> None:
        if external_id is None:
            return
        holder = accounts_db.identity_holder(session, network, external_id, own_id)
        if holder is None:
            return
        identity = registry.identity_label(network, external_id)
        if holder.org_id == scope.org_id:
            raise Conflict(
                f"external_id: {identity} is already connected to the account '{holder.key}' ({IDENTITY_RULE})"
            ).saying("account_identity_ours", identity=identity, account=holder.key)
        # Which organisation holds it is not the caller's to know.
        raise Conflict(
            f"external_id: {identity} is already connected to another organisation ({IDENTITY_RULE})"
        ).saying("account_identity_elsewhere", identity=identity)

    def _flush(self, session: Session, row: ChannelAccount) -> None:
        # The unique index, which cannot race, has the last word; the savepoint keeps the
        # caller's transaction usable on PostgreSQL after the refusal.
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            identity = registry.identity_label(row.network, row.external_id or "")
            raise Conflict(
                f"the account '{row.key}' or {identity} was connected by someone else meanwhile; "
                "reload and try again"
            ).saying("account_taken_meanwhile") from None

    # -- status ----------------------------------------------------------------------------

    def _out(
        self, session: Session, box: SecretBox, base_url: str, rows: list[tuple[ChannelAccount, Location]]
    ) -> list[AccountOut]:
        ids = [a.id for a, _ in rows]
        events = accounts_db.last_event_times(session, ids)
        errors = accounts_db.last_errors(session, ids)
        meta = verify_token_networks()
        shared = any(a.network in meta for a, _ in rows) and shared_verify_token(
            repository.sealed_credentials(session, meta), box
        )
        now = utcnow()
        out = []
        for account, location in rows:
            notes: list[str] = []
            try:
                opened = box.open(account.credentials_encrypted) if account.credentials_encrypted else {}
            except SecretKeyMissing:
                opened = {}
                notes.append("the stored credentials cannot be opened with this installation's secret key")
            checked = check_account(
                account.key,
                account.network,
                account.id,
                account.external_id,
                {**dict(account.settings or {}), **opened},
                base_url,
                shared_verify_token=shared,
            )
            sandbox = (account.settings or {}).get("sandbox") is True
            if sandbox:
                checked = sandboxed(checked)
            item = errors.get(account.id)
            last_error = (
                LastError(item.last_error or "", item.status, as_utc(item.next_attempt_at))
                if item is not None
                else None
            )
            status = AccountStatusOut(
                ok=checked.ok,
                badge=badge(account.active, checked.ok, last_error, now),
                replies_state=checked.replies_state,
                webhook_state=checked.webhook_state,
                replies=checked.replies,
                webhook=checked.webhook,
                missing=list(checked.missing),
                notes=[*checked.notes, *notes],
                webhook_address=checked.address,
                last_event_at=as_utc(events.get(account.id)),
                last_error=(
                    LastErrorOut(message=last_error.message, status=last_error.status, at=last_error.at)
                    if last_error is not None
                    else None
                ),
                checked_at=now,
            )
            out.append(
                AccountOut(
                    id=account.id,
                    key=account.key,
                    network=account.network,
                    handle=account.handle,
                    external_id=account.external_id,
                    name=account.name,
                    location=location.key,
                    location_name=location.name,
                    active=account.active,
                    sandbox=sandbox,
                    credentials=sorted(opened),
                    status=status,
                )
            )
        return out


account_service = AccountService()
