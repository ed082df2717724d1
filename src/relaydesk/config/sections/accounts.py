"""`accounts:`: the channel accounts (pages, bots, mailboxes), their network identity and secrets.

A network identity (page id, bot id...) belongs to one account of the whole installation:
webhooks are routed by it, so a second holder would take the first one's traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from relaydesk.auth.crypto import SecretBox
from relaydesk.channels.registry import identity_label
from relaydesk.config import repository
from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import ConfigApplyError, IdentityTaken, Path_
from relaydesk.config.schemas import REDACTED, AccountConfig, env_references
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, ref
from relaydesk.guidelines import auto_answer_rules
from relaydesk.models import ChannelAccount, Location
from relaydesk.models.orgs import NETWORK_IDENTITY_CONSTRAINT

# Account settings RelayDesk writes itself (the pollers' cursors): not configuration, so an
# apply keeps them and an export leaves them out; a file that names one (e.g. `poll_cursor:
# null` to read a mailbox again) still wins.
RUNTIME_SETTINGS = frozenset({"poll_cursor"})

Identity = tuple[str, str]  # (network, external_id)

# How many conflicts one error message lists before it says "and N more".
LISTED_CONFLICTS = 5

# Said once after the conflicts: what the rule is and how to get past it.
TAKEN_HINT = (
    " (a network identity belongs to one account of the installation; "
    "the account holding it must be disconnected first)"
)

_KEEP = object()


def check(c: Checker, accounts: list[tuple[int, AccountConfig]], known_locations: set[str]) -> None:
    c.duplicates("accounts", [(i, a.key) for i, a in accounts], "account key")
    by_ref: dict[tuple[str, str], int] = {}
    has_location = bool(c.raw_keys("locations"))
    for index, account in accounts:
        base: Path_ = ("accounts", index)
        if account.location is None:
            if not has_location:
                c.problem((*base, "location"), "no location given and no locations declared")
        elif account.location not in known_locations:
            c.problem((*base, "location"), unknown("location", account.location, known_locations))
        if account.external_id is not None:
            identity = (account.network.value, account.external_id)
            if identity in by_ref:
                c.problem(
                    (*base, "external_id"),
                    f"accounts[{by_ref[identity]}] already uses {identity[0]} id {identity[1]!r}",
                )
            else:
                by_ref[identity] = index
        if "auto_answers" in account.settings:
            # The page's rules: a file cannot turn on an away message without its text.
            for problem in auto_answer_rules.clean(account.settings["auto_answers"])[1]:
                c.problem((*base, "settings", "auto_answers"), problem)
        if isinstance(account.credentials, dict):
            for name, value in account.credentials.items():
                for variable in env_references(value):
                    if variable not in c.env:
                        c.problem((*base, "credentials", name), f"environment variable {variable} is not set")


def resolve_credentials(
    credentials: Mapping[str, str], env: Mapping[str, str], where: str = "credentials"
) -> dict[str, str]:
    """`${NAME}` replaced from `env`; a missing variable is an error, never an empty secret."""
    resolved: dict[str, str] = {}
    for name, value in credentials.items():
        text = value
        for variable in env_references(value):
            if variable not in env:
                raise ConfigApplyError(f"{where}.{name}: environment variable {variable} is not set")
            text = text.replace("${" + variable + "}", env[variable])
        resolved[name] = text
    return resolved


def resolve_all(u: Upserter) -> dict[str, Any]:
    """Every account's credentials, resolved before the first write: a missing variable aborts cleanly."""
    return {
        account.key: (
            account.credentials
            if isinstance(account.credentials, str)
            else resolve_credentials(account.credentials, u.env, f"accounts.{account.key}.credentials")
        )
        for account in u.config.accounts
    }


def _taken_message(key: str, identity: Identity) -> str:
    return f"accounts.{key}.external_id: {identity_label(*identity)} is already connected to another organisation"


def _is_identity_clash(exc: IntegrityError) -> bool:
    """Whether the database refused a second holder of a network identity (not another constraint)."""
    # PostgreSQL names the constraint; SQLite names its columns.
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        return str(constraint) == NETWORK_IDENTITY_CONSTRAINT
    return "channel_accounts.network, channel_accounts.external_id" in str(exc.orig)


def apply(u: Upserter, locations: dict[str, Location], credentials: dict[str, Any]) -> None:
    existing = u.rows(ChannelAccount, "key")
    claims = identity_claims(u)
    refuse_foreign_claims(u, claims)
    release_moved_identities(u, existing, claims)
    # A concurrent apply of another organisation may commit an identity between the check
    # above and our write: the unique index, which cannot race, refuses ours. The savepoint
    # keeps the transaction usable so the check can run again and name what was taken.
    try:
        with u.session.begin_nested():
            _write(u, locations, credentials, existing)
    except IntegrityError as exc:
        if not _is_identity_clash(exc):
            raise
        with u.session.no_autoflush:
            refuse_foreign_claims(u, claims)
        raise IdentityTaken(
            "a network identity of this file was connected to another account meanwhile; "
            "apply again to see which" + TAKEN_HINT
        ) from exc


def identity_claims(u: Upserter) -> dict[Identity, str]:
    """The network identities the file gives its accounts, each to one account key."""
    claims: dict[Identity, str] = {}
    for spec in u.config.accounts:
        if spec.external_id is None:
            continue
        identity = (spec.network.value, spec.external_id)
        if identity in claims:
            # The loader reports this with its line; this guards configs built in code.
            raise ConfigApplyError(
                f"accounts.{spec.key}.external_id: {identity_label(*identity)} is also given to "
                f"account {claims[identity]!r}"
            )
        claims[identity] = spec.key
    return claims


def refuse_foreign_claims(u: Upserter, claims: Mapping[Identity, str]) -> None:
    """Refuse identities another organisation's account holds (active or not), before writing.

    The unique constraint refuses them anyway; this names every conflict in words. It does
    not say which organisation holds them: that is not the caller's to know.
    """
    by_network: dict[str, list[str]] = {}
    for network, external_id in claims:
        by_network.setdefault(network, []).append(external_id)
    if not by_network:
        return
    taken = sorted(repository.identities_held_elsewhere(u.session, u.org.id, by_network))
    if not taken:
        return
    listed = [_taken_message(claims[identity], identity) for identity in taken[:LISTED_CONFLICTS]]
    more = f" (and {len(taken) - LISTED_CONFLICTS} more)" if len(taken) > LISTED_CONFLICTS else ""
    raise IdentityTaken("; ".join(listed) + more + TAKEN_HINT)


def release_moved_identities(
    u: Upserter, existing: Mapping[str, ChannelAccount], claims: Mapping[Identity, str]
) -> None:
    """Free the identities this organisation moves or changes, before anything claims them.

    One identity has one holder at every moment, so an identity moved from one account key to
    another (or two accounts swapping theirs) is first taken off its old holder. An account
    the file no longer lists keeps its identity (it is only deactivated) unless another
    account of the file claims it.
    """
    wanted = {
        spec.key: (spec.network.value, spec.external_id) if spec.external_id is not None else None
        for spec in u.config.accounts
    }
    released = False
    for row in existing.values():
        if row.external_id is None:
            continue
        identity = (row.network, row.external_id)
        if row.key in wanted:
            release = wanted[row.key] != identity
        else:
            release = identity in claims
            if release:
                u.summary.warnings.append(
                    f"account {row.key!r} is no longer in the file: its {identity_label(*identity)} "
                    f"moved to account {claims[identity]!r}"
                )
                u.mark("accounts", row)
        if release:
            row.external_id = None
            released = True
    if released:
        u.session.flush()


def _write(
    u: Upserter,
    locations: dict[str, Location],
    credentials: dict[str, Any],
    existing: dict[str, ChannelAccount],
) -> None:
    fallback = next(iter(locations.values()), None)
    for spec in u.config.accounts:
        location = ref(locations, spec.location, "location") if spec.location else fallback
        if location is None:
            raise ConfigApplyError(f"accounts.{spec.key}: no location to attach the account to")
        values = {
            "key": spec.key,
            "network": spec.network.value,
            "handle": spec.handle,
            "external_id": spec.external_id,
            "name": spec.name,
            "location_id": location.id,
            "settings": dict(spec.settings),
            "active": spec.active,
        }
        row = existing.pop(spec.key, None)
        if row is not None:
            # State RelayDesk keeps for itself survives an apply unless the file names it.
            kept = {k: v for k, v in (row.settings or {}).items() if k in RUNTIME_SETTINGS}
            values["settings"] = {**kept, **dict(spec.settings)}
        sealed = _sealed_credentials(u.box, row, credentials[spec.key])
        if sealed is not _KEEP:
            values["credentials_encrypted"] = sealed
        u.upsert("accounts", row, ChannelAccount, values)
    for row in existing.values() if u.mentions("accounts") else ():
        if row.active:
            row.active = False
            u.count(u.summary.deactivated, "accounts")
    u.session.flush()


def _sealed_credentials(box: SecretBox, row: ChannelAccount | None, wanted: Any) -> Any:
    """The encrypted value to store, or _KEEP when what is stored already says the same."""
    if wanted == REDACTED:
        return _KEEP
    stored = box.open(row.credentials_encrypted) if row is not None else {}
    # A single "***" value (from a redacted export) keeps that stored secret.
    merged = {
        name: stored[name] if value == REDACTED else value
        for name, value in wanted.items()
        if value != REDACTED or name in stored
    }
    if row is not None and merged == stored:
        return _KEEP
    return box.seal(merged) if merged else None


def _redacted(token: str | None, box: SecretBox | None) -> dict[str, str] | str:
    if not token:
        return {}
    if box is None:
        return REDACTED
    return dict.fromkeys(sorted(box.open(token)), REDACTED)


def export(
    accounts: list[ChannelAccount], location_key: dict[int, str], box: SecretBox | None
) -> list[dict[str, Any]]:
    """Credentials come out as "***" (see `export_config`); removed accounts with `active: false`."""
    return [
        compact(
            {
                "key": a.key,
                "network": a.network,
                "handle": a.handle,
                "external_id": a.external_id,
                "name": a.name,
                "location": location_key.get(a.location_id),
                "credentials": _redacted(a.credentials_encrypted, box),
                "settings": {k: v for k, v in (a.settings or {}).items() if k not in RUNTIME_SETTINGS},
                "active": a.active,
            },
            {"external_id": None, "name": "", "active": True, "settings": {}, "credentials": {}},
        )
        for a in accounts
    ]
