"""Ingest: verify a delivery, parse it, accept each event idempotently, keep the rest raw.

Webhooks (`endpoints.py`) and pollers (`polling.py`) both end here. What each flow does with bad
or odd input is described in `endpoints.py`; a refusal is a `WebhookRefused` carrying the status
code and text the endpoint answers with.

An edit of a customer message keeps the original row and adds a message of kind ``edit``
(``reply_to_external_id`` = the original's id, external id ``<original>#edit:<digest>``), so the
timeline shows both versions and a redelivered edit is still one row.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from relaydesk.auth.crypto import SecretKeyMissing
from relaydesk.auth.scopes import Scope
from relaydesk.channels import deliveries, graph, ignored, mentions, meta, plain, registry, repository, x
from relaydesk.channels.base import (
    NEEDS_DETAILS,
    ParsedEvent,
    ParseResult,
    SignatureError,
    StatusUpdate,
    storable_event,
)
from relaydesk.channels.deliveries import Accounts, WebhookRefused
from relaydesk.channels.ignored import IgnoredRow
from relaydesk.channels.outbox import confirm_by_key
from relaydesk.channels.schemas import IgnoredEventOut, IgnoredEventPage
from relaydesk.container import Container
from relaydesk.core.errors import Forbidden
from relaydesk.db import reading, transaction
from relaydesk.models import ChannelAccount
from relaydesk.pipeline.staging import StagingTimeout

log = logging.getLogger(__name__)

STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}

Outcome = dict[str, Any]

# The database or its pool is away: every event after this one would fail the same way, so the
# whole delivery is answered 503 and the network retries it (what was stored maps onto its rows).
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, SecretKeyMissing, StagingTimeout)


def _outbox_key_of_echo(item: ParsedEvent) -> str | None:
    # Messenger hands back the metadata we sent (our idempotency key) in the echo.
    message = item.event.raw.get("message") if isinstance(item.event.raw, dict) else None
    key = message.get("metadata") if isinstance(message, dict) else None
    return key if isinstance(key, str) and key else None


class IngestService:
    """Accepts what the networks deliver, for one container (its sessions, box and pipeline)."""

    def __init__(self, container: Container) -> None:
        self.container = container

    # -- accepting parsed events -------------------------------------------------------------

    def accept_parsed(
        self, account_id: int, parsed: ParseResult, failed: list[IgnoredRow] | None = None
    ) -> Outcome:
        """Accept each event on its own: one that cannot be stored costs only itself.

        It is reported under ``errors`` and, when `failed` is given, added there as a row to keep
        raw in ``ignored_events``; the events before and after it are stored as usual.
        """
        container = self.container
        accepted: list[dict[str, Any]] = []
        pending: list[dict[str, Any]] = []
        errors: list[str] = []
        confirmed = 0
        to_stage: list[ParsedEvent] = []
        for item in parsed.events:
            item.event = storable_event(item.event)
            if item.action == NEEDS_DETAILS:
                try:
                    held = mentions.hold(container.sessions, account_id, item)
                except UNAVAILABLE:
                    raise
                except Exception as exc:  # noqa: BLE001 - one mention that cannot be kept costs only itself
                    reason = f"not held: could not be stored ({type(exc).__name__})"
                    log.error("webhook event %s for account %s %s", item.event.kind, account_id, reason)
                    errors.append(
                        f"event {item.event.external_id}: could not be stored ({type(exc).__name__})"
                    )
                    if failed is not None:
                        network = item.event.network
                        kind = f"{network}:{item.event.kind}"
                        failed.append(
                            IgnoredRow(network, kind, reason, item.event.raw, account_id=account_id)
                        )
                    continue
                (pending if held.get("pending") else accepted).append(held)
                continue
            if item.action == "echo":
                key = _outbox_key_of_echo(item)
                if key is not None:
                    with transaction(container.sessions) as session:
                        confirmed += confirm_by_key(session, account_id, key, item.event.external_id)
                # Our own sends seen back don't start work for an agent.
                parsed.ignored.append(f"echo of {item.event.external_id}")
                continue
            if item.action in ("reaction", "delete"):
                parsed.ignored.append(f"{item.action} of {item.event.reply_to_id or item.event.external_id}")
                continue
            if item.action == "edit":
                plain.edit_of(item)
            to_stage.append(item)
        accepted += self._stage(account_id, to_stage, errors, failed)
        if parsed.ignored or parsed.errors or errors:
            # Counts only: each part is logged by kind when it is kept (see `ignored.store`).
            log.info(
                "webhook for account %s: %d ignored, %d not parsed, %d not stored",
                account_id,
                len(parsed.ignored),
                len(parsed.errors),
                len(errors),
            )
        return {
            "accepted": accepted,
            "pending": pending,
            "ignored": parsed.ignored,
            "errors": parsed.errors + errors,
            "confirmed": confirmed,
        }

    def _stage(
        self,
        account_id: int,
        items: list[ParsedEvent],
        errors: list[str],
        failed: list[IgnoredRow] | None,
    ) -> list[dict[str, Any]]:
        """Append the events to the intake queue in one commit (each alone if that fails)."""
        if not items:
            return []
        pipeline = self.container.pipeline
        org_id = plain.org_of(self.container, account_id)
        try:
            results = pipeline.stage(org_id, account_id, [item.event for item in items])
        except UNAVAILABLE:
            raise
        except Exception as exc:  # noqa: BLE001 - one event that cannot be stored costs only itself
            if len(items) > 1:
                # One event the database refuses costs only itself.
                out: list[dict[str, Any]] = []
                for item in items:
                    out += self._stage(account_id, [item], errors, failed)
                return out
            event = items[0].event
            # The type only: a database error's message quotes the customer's text.
            reason = f"not accepted: could not be stored ({type(exc).__name__})"
            log.error("webhook event %s for account %s %s", event.kind, account_id, reason)
            errors.append(f"event {event.external_id}: could not be stored ({type(exc).__name__})")
            if failed is not None:
                kind = f"{event.network}:{event.kind}"
                failed.append(IgnoredRow(event.network, kind, reason, event.raw, account_id=account_id))
            return []
        return plain.accepted_entries(results)

    def apply_statuses(self, statuses: list[StatusUpdate], account_ids: Mapping[str, int]) -> int:
        """Delivery receipts move our outbound messages forward (sent -> delivered -> read, or failed).

        `account_ids` maps a status's ``account_ref`` to our account: a receipt only touches
        messages of the account it was addressed to.
        """
        updated = 0
        if not statuses:
            return 0
        with transaction(self.container.sessions) as session:
            for status in statuses:
                account_id = account_ids.get(str(status.account_ref))
                if account_id is None:
                    continue
                message = repository.outbound_message(session, account_id, status.external_id)
                if message is None:
                    continue
                current = STATUS_RANK.get(message.delivery_status or "queued", 0)
                if STATUS_RANK.get(status.status, 0) >= current:
                    message.delivery_status = status.status
                    message.delivery_error = status.error
                    updated += 1
        return updated

    def accept_routed(
        self,
        parsed: ParseResult,
        accounts: Accounts,
        callback_keys: list[tuple[str, str, str]] | None = None,
        failed: list[IgnoredRow] | None = None,
    ) -> Outcome:
        """Accept each event on the account it was addressed to; events for unknown accounts are reported."""
        outcome: Outcome = {
            "accepted": [],
            "pending": [],
            "ignored": list(parsed.ignored),
            "errors": list(parsed.errors),
            "confirmed": 0,
        }
        by_account: dict[int, ParseResult] = {}
        for item in parsed.events:
            key = (item.event.network, str(item.account_ref))
            if key not in accounts:
                outcome["errors"].append(f"no active {item.event.network} account {item.account_ref}")
                continue
            by_account.setdefault(accounts[key][0], ParseResult()).events.append(item)
        for account_id, part in by_account.items():
            result = self.accept_parsed(account_id, part, failed)
            outcome["accepted"] += result["accepted"]
            outcome["pending"] += result["pending"]
            outcome["ignored"] += result["ignored"]
            outcome["errors"] += result["errors"]
            outcome["confirmed"] += result["confirmed"]
        for ref, external_id, outbox_key in callback_keys or []:
            found = accounts.get(("whatsapp", ref))
            if found is not None:
                with transaction(self.container.sessions) as session:
                    outcome["confirmed"] += confirm_by_key(session, found[0], outbox_key, external_id)
        by_ref = {ref: account_id for (network, ref), (account_id, _) in accounts.items()}
        outcome["statuses_updated"] = self.apply_statuses(parsed.statuses, by_ref)
        return outcome

    # -- what is not accepted is kept raw (ignored_events) ---------------------------------------

    def _single_org(self, networks: tuple[str, ...], name: str, secret: str) -> int | None:
        """The org whose accounts hold the secret that signed the body, when exactly one does."""
        box = self.container.box
        with reading(self.container.sessions) as session:
            orgs = {
                row.org_id
                for row in repository.active_accounts(session, networks)
                if str((box.open(row.credentials_encrypted) or {}).get(name) or "") == secret
            }
        return orgs.pop() if len(orgs) == 1 else None

    def keep_ignored(
        self, rows: list[IgnoredRow], signer: tuple[tuple[str, ...], str, str] | None = None
    ) -> list[int]:
        """Store the rows; rows of no known account go to the one org that owns the signing secret.

        `signer` = (networks, credential name, secret that verified the body). Never raises.
        """
        if not rows:
            return []
        if signer is not None and any(r.account_id is None and r.org_id is None for r in rows):
            try:
                org_id = self._single_org(*signer)
            except Exception as exc:  # noqa: BLE001 - the ignored parts must never fail the webhook
                log.error("could not find the org of ignored webhook parts: %s", type(exc).__name__)
                org_id = None
            for row in rows:
                if row.account_id is None and row.org_id is None:
                    row.org_id = org_id
        return ignored.store(self.container.sessions, rows)

    def webhook_events(
        self, scope: Scope, network: str | None, limit: int, before: int | None
    ) -> IgnoredEventPage:
        """Webhook events of the caller's organisation that were not acted on, newest first (admins)."""
        if not scope.can_configure:
            # Raw events carry customer text of every department: not for agents' eyes by default.
            raise Forbidden("only owners and admins can see the webhook events kept raw")
        with reading(self.container.sessions) as session:
            rows = repository.ignored_for_org(
                session,
                scope.org_id,
                network=network,
                limit=limit,
                before=before,
                # An admin limited to a part of the org reads that part's accounts only.
                location_ids=scope.location_ids
                if scope.location_ids is not None
                else (frozenset() if scope.location_path else None),
            )
            items = [
                IgnoredEventOut(
                    id=row.id,
                    account_id=row.account_id,
                    network=row.network,
                    kind=row.kind,
                    reason=row.reason,
                    raw=row.raw,
                    received_at=row.received_at,
                )
                for row in rows
            ]
        return IgnoredEventPage(items=items, next_before=items[-1].id if len(items) == limit else None)

    # -- accounts and their secrets ------------------------------------------------------------

    def account(
        self, account_id: int, network: str, *, fresh: bool = False
    ) -> tuple[ChannelAccount, dict[str, Any]]:
        """The active account a per-account webhook names, with its opened credentials
        (read at most once a second per process: `plain.cached_account`)."""
        account = plain.cached_account(self.container, account_id, fresh=fresh)
        if account is None or not account.active:
            raise WebhookRefused(404, f"no active account {account_id}")
        if account.network != network:
            raise WebhookRefused(404, f"account {account_id} is a {account.network} account, not {network}")
        return account, deliveries.opened(self.container.box, account.credentials_encrypted)

    def accounts_by_ref(self, networks: set[str], refs: set[str]) -> Accounts:
        if not refs:
            return {}
        with reading(self.container.sessions) as session:
            rows = repository.active_accounts_by_ref(session, networks, refs)
            return {
                (row.network, str(row.external_id)): (
                    row.id,
                    deliveries.opened(self.container.box, row.credentials_encrypted),
                )
                for row in rows
            }

    def any_secret(self, networks: tuple[str, ...], name: str) -> list[str]:
        with reading(self.container.sessions) as session:
            sealed = repository.sealed_credentials(session, networks)
        found = [str(deliveries.opened(self.container.box, value).get(name) or "") for value in sealed]
        return [secret for secret in dict.fromkeys(found) if secret]

    # -- Meta: Facebook Pages, Instagram, WhatsApp Cloud API -----------------------------------

    def meta_handshake(self, params: dict[str, str]) -> str:
        """Meta's subscription check: hub.challenge when hub.verify_token is one of ours."""
        for token in self.any_secret(meta.NETWORKS, "verify_token"):
            try:
                return meta.verify_handshake(params, token)
            except SignatureError:
                continue
        raise WebhookRefused(403, "hub.verify_token does not match any Meta account")

    def meta_delivery(self, body: bytes, headers: Mapping[str, str]) -> Outcome:
        if not deliveries.has_header(headers, meta.SIGNATURE_HEADER):
            raise WebhookRefused(401, f"missing {meta.SIGNATURE_HEADER} header")

        def check(secret: str) -> None:
            meta.verify_signature(headers, body, secret)

        # The signature first, against every app secret we hold: nothing parses an unsigned body.
        secret = deliveries.matching_secret(check, self.any_secret(meta.NETWORKS, "app_secret"))
        if secret is None:
            raise WebhookRefused(403, "X-Hub-Signature-256 does not match the app secret")
        parsed, payload = deliveries.read(body, meta.parse)
        network = meta.OBJECTS.get(str(payload.get("object")), "meta")
        parts = ignored.skipped_parts(network, payload, parsed.ignored, parsed.errors)
        part_refs = {part.path: graph.account_ref_of_part(payload, part.steps) for part in parts}
        refs = deliveries.refs(parsed) | {ref for ref in part_refs.values() if ref}
        accounts = self.accounts_by_ref(set(meta.NETWORKS), refs)
        # The accounts a payload names share one app secret in practice: a body signed with
        # another app's secret is not for them.
        candidates = {str(c.get("app_secret")) for _, c in accounts.values() if c.get("app_secret")}
        if candidates and secret not in candidates:
            raise WebhookRefused(403, "X-Hub-Signature-256 does not match the app secret")
        signed = deliveries.signed_with(accounts, "app_secret", secret)
        keys = graph.whatsapp_callback_keys(body) if parsed.statuses else []

        def account_of_part(part: ignored.SkippedPart) -> int | None:
            found = signed.get((network, str(part_refs.get(part.path))))
            return found[0] if found else None

        def account_of_event(item: ParsedEvent) -> int | None:
            found = signed.get((item.event.network, str(item.account_ref)))
            return found[0] if found else None

        rows = deliveries.part_rows(parts, network, account_of_part) + deliveries.dropped_rows(
            parsed, account_of_event
        )
        failed: list[IgnoredRow] = []
        outcome = self.accept_routed(parsed, signed, keys, failed)
        outcome["ignored_events"] = self.keep_ignored(rows + failed, (meta.NETWORKS, "app_secret", secret))
        return outcome

    # -- X (Account Activity API) ----------------------------------------------------------------

    def x_crc(self, crc_token: str) -> dict[str, str]:
        """The CRC check: base64 HMAC-SHA256 of crc_token with the consumer secret."""
        if not crc_token:
            raise WebhookRefused(400, "crc_token is required")
        secrets = self.any_secret(("x",), "consumer_secret")
        if not secrets:
            raise WebhookRefused(404, "no X account with a consumer_secret is configured")
        return x.crc_response(crc_token, secrets[0])

    def x_delivery(self, body: bytes, headers: Mapping[str, str]) -> Outcome:
        if not any(k.lower() == x.SIGNATURE_HEADER for k in headers):
            raise WebhookRefused(401, f"missing {x.SIGNATURE_HEADER} header")
        secrets = self.any_secret(("x",), "consumer_secret")
        secret = deliveries.matching_secret(lambda s: x.verify(body, headers, s), secrets)
        if secret is None:
            raise WebhookRefused(403, "signature does not match the consumer secret")
        parsed, payload = deliveries.read(body, x.parse)
        parts = ignored.skipped_parts("x", payload, parsed.ignored, parsed.errors)
        # Every part of one delivery is for the user it names.
        for_user = graph.id_str(payload.get("for_user_id"))
        refs = deliveries.refs(parsed) | ({for_user} if for_user else set())
        signed = deliveries.signed_with(self.accounts_by_ref({"x"}, refs), "consumer_secret", secret)
        owner = signed.get(("x", str(for_user)))

        def account_of_event(item: ParsedEvent) -> int | None:
            found = signed.get(("x", str(item.account_ref)))
            return found[0] if found else None

        rows = deliveries.part_rows(parts, "x", lambda _part: owner[0] if owner else None)
        rows += deliveries.dropped_rows(parsed, account_of_event)
        failed: list[IgnoredRow] = []
        outcome = self.accept_routed(parsed, signed, None, failed)
        outcome["ignored_events"] = self.keep_ignored(rows + failed, (("x",), "consumer_secret", secret))
        return outcome

    # -- one webhook URL per account: Telegram, LINE, the generic signed webhook ----------------

    def account_delivery(
        self, account_id: int, network: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int | None, Outcome]:
        """(status, outcome): status None is the endpoint's success status."""
        channel = registry.channel(network)
        assert channel is not None and channel.verify is not None and channel.parse is not None
        parse, spec = channel.parse, channel.spec
        name = spec.webhook_credentials[0]
        for fresh in (False, True):
            account, secrets = self.account(account_id, network, fresh=fresh)
            secret = registry.credential(secrets, spec, name)
            if not secret:
                raise WebhookRefused(403, f"this account has no {name} configured")
            try:
                channel.verify(body, headers, str(secret))
                break
            except SignatureError as exc:
                if fresh:
                    raise WebhookRefused(exc.status_code, str(exc)) from exc
        ref = account.external_id if channel.parse_with_account_ref else None
        parsed, payload = deliveries.read(body, lambda raw: parse(raw, ref))
        parts = ignored.skipped_parts(network, payload, parsed.ignored, parsed.errors)
        rows = deliveries.part_rows(parts, network, lambda _part: account_id)
        rows += deliveries.drop_foreign(parsed, channel, account.external_id, account_id)
        rows += deliveries.dropped_rows(parsed, lambda _item: account_id)
        if channel.refuse_unparsed and parsed.errors and not parsed.events:
            kept = self.keep_ignored(rows)
            return 422, {
                "detail": "nothing in the payload was valid",
                "errors": parsed.errors,
                "ignored": parsed.ignored,
                "ignored_events": kept,
            }
        failed: list[IgnoredRow] = []
        outcome = self.accept_parsed(account_id, parsed, failed)
        outcome["ignored_events"] = self.keep_ignored(rows + failed)
        if parsed.statuses:
            ref_of = {str(s.account_ref): account_id for s in parsed.statuses}
            outcome["statuses_updated"] = self.apply_statuses(parsed.statuses, ref_of)
        return None, outcome
