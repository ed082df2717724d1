"""Run the polling fallbacks (`pollers.py`) for accounts and keep their cursors across restarts.

Polled: X and Telegram accounts whose settings say ``poll: true`` (no Account Activity access, no
public webhook URL), and every e-mail account (IMAP). The cursor (X since_id, Telegram offset,
IMAP UID) lives in the account's settings under ``poll_cursor``. It is written only after the
polled events are accepted, in its own transaction: a crash in between repeats that batch (each
message is stored once per (account, external id)) and never skips one; a restarted process
reads the cursor back. A failed poll leaves the cursor where it was.

Listening: every active listening query that listens on X (``networks`` empty or naming ``x``) is
searched with X recent search, using an active, non-sandbox X account of its organisation that
has an access token (one inside the query's brand first). The posts go through the query's own
matching into listening items; the since-id is the query's ``cursor.x``, moved the same way.

E-mail: the IMAP cursor is only valid while the folder's UIDVALIDITY stays the same; after a
mailbox migration set ``poll_cursor: null`` in the account's settings (config apply) to read the folder again.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from relaydesk.channels import email, pollers, registry, repository, telegram, x
from relaydesk.channels.base import ParseResult
from relaydesk.channels.channel import ALWAYS
from relaydesk.channels.service import IngestService
from relaydesk.container import Container
from relaydesk.db import transaction

if TYPE_CHECKING:
    from relaydesk.crisis.service import ListeningService, XSearchJob

log = logging.getLogger(__name__)

CURSOR = "poll_cursor"
ImapFactory = Callable[[dict[str, Any]], pollers.ImapClient]


@dataclass
class PollReport:
    account_id: int
    network: str
    accepted: int = 0
    duplicates: int = 0
    cursor: Any = None
    error: str | None = None
    query: str | None = None  # a listening query's search, rather than the account's own inbox
    skipped: int = 0  # listening: posts the query's matching left out


def default_imap(credentials: dict[str, Any]) -> pollers.ImapClient:
    """An IMAP4-over-TLS session from ``imap_host`` (default ``host``), ``username``, ``password``."""
    host = credentials.get("imap_host") or credentials.get("host")
    if not host:
        raise pollers.PollError("email account needs 'imap_host' (or 'host') to poll", retryable=False)
    client = imaplib.IMAP4_SSL(str(host), int(credentials.get("imap_port") or 993), timeout=30)
    client.login(str(credentials.get("username") or ""), str(credentials.get("password") or ""))
    return client


class Poller:
    def __init__(
        self,
        container: Container,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        x_base_url: str = x.API_BASE,
        telegram_base_url: str = telegram.API_BASE,
        imap_factory: ImapFactory = default_imap,
        long_poll: int = 0,
    ) -> None:
        self.container = container
        self.transport = transport
        self.x_base_url = x_base_url
        self.telegram_base_url = telegram_base_url
        self.imap_factory = imap_factory
        self.long_poll = long_poll  # Telegram getUpdates `timeout` (seconds held open)

    def due_accounts(self) -> list[int]:
        polled = {name: c.spec.polled for name, c in registry.channels().items() if c.spec.polled}
        with self.container.sessions() as session:
            rows = repository.active_accounts(session, tuple(polled))
            return [
                row.id for row in rows if polled[row.network] == ALWAYS or (row.settings or {}).get("poll")
            ]

    async def poll_all(self) -> list[PollReport]:
        reports = []
        for account_id in self.due_accounts():
            try:
                reports.append(await self.poll(account_id))
            except Exception as exc:  # noqa: BLE001 - one account's failure must not stop the others
                # The cursor is written last, so it stays where it was. The type only: the message
                # of an unexpected error can quote credentials or customer text.
                log.error("poll of account %s failed: %s", account_id, type(exc).__name__)
                reports.append(PollReport(account_id, "?", error=f"poll failed ({type(exc).__name__})"))
        reports.extend(await self.poll_listening())
        return reports

    def _listening(self) -> ListeningService:
        # Deferred import: the crisis slice imports channel modules at its top.
        from relaydesk.crisis.service import ListeningService

        container = self.container
        return ListeningService(container.sessions, container.pipeline, container.triage)

    async def poll_listening(self) -> list[PollReport]:
        """Search X for every listening query that listens there; one report per query."""
        service = self._listening()
        reports = []
        for job in await asyncio.to_thread(service.x_search_jobs):
            try:
                report = await self.search_x(service, job)
            except Exception as exc:  # noqa: BLE001 - one query's failure must not stop the others
                log.error("X search of listening query %s failed: %s", job.query_id, type(exc).__name__)
                report = PollReport(0, "x", query=job.name, error=f"search failed ({type(exc).__name__})")
            if report is not None:
                reports.append(report)
        return reports

    def _x_token(self, account_ids: tuple[int, ...]) -> tuple[int, str] | None:
        with self.container.sessions() as session:
            for account_id in account_ids:
                account = repository.account(session, account_id)
                if account is None:
                    continue
                credentials = self.container.box.open(account.credentials_encrypted) or {}
                token = credentials.get("access_token")
                if isinstance(token, str) and token:
                    return account_id, token
        return None

    async def search_x(self, service: ListeningService, job: XSearchJob) -> PollReport | None:
        """One query's X recent search from its since-id; None when it has no X account to use.

        A query that names x but has no usable account is reported (someone expects results);
        one that listens everywhere is skipped quietly, as most organisations have no X account.
        """
        from relaydesk.crisis.candidates import candidates_from_x_events
        from relaydesk.crisis.service import MAX_BATCH

        found = await asyncio.to_thread(self._x_token, job.account_ids)
        if found is None:
            if not job.names_x:
                return None
            return PollReport(
                0,
                "x",
                query=job.name,
                cursor=job.since_id,
                error="no active X account with an access_token to search with (sandbox ones are not used)",
            )
        account_id, token = found
        report = PollReport(account_id, "x", query=job.name, cursor=job.since_id)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with httpx.AsyncClient(
                transport=self.transport, base_url=self.x_base_url, headers=headers, timeout=30
            ) as client:
                try:
                    events, since_id = await pollers.poll_x_search(client, job.search, job.since_id)
                except pollers.PollError as exc:
                    if exc.code != "since_id_too_old":
                        raise
                    # Not searched for over a week: X keeps only the last 7 days, so start there
                    # rather than failing every round from now on.
                    log.warning("listening query %s: since_id older than X search keeps", job.query_id)
                    events, since_id = await pollers.poll_x_search(client, job.search, None)
        except pollers.PollError as exc:
            report.error = str(exc)
            log.warning("X search of listening query %s failed: %s", job.query_id, exc.code or "error")
            return report
        candidates = candidates_from_x_events(events)
        # Oldest first, in batches the store takes: a crash between batches repeats newer posts
        # (stored once per query and post) and never skips one.
        for start in range(0, len(candidates), MAX_BATCH):
            stored = await asyncio.to_thread(
                service.store, job.query_id, candidates[start : start + MAX_BATCH]
            )
            report.accepted += stored.stored
            report.duplicates += stored.duplicates
            report.skipped += stored.skipped
        if since_id is not None and since_id != job.since_id:
            await asyncio.to_thread(service.save_x_cursor, job.query_id, since_id)
            report.cursor = since_id
        return report

    async def poll(self, account_id: int) -> PollReport:
        with self.container.sessions() as session:
            account = repository.account(session, account_id)
            if account is None or not account.active:
                return PollReport(account_id, "?", error=f"no active account {account_id}")
            network, external_id = account.network, account.external_id
            cursor = (account.settings or {}).get(CURSOR)
            settings = dict(account.settings or {})
            credentials = self.container.box.open(account.credentials_encrypted) or {}
        report = PollReport(account_id, network, cursor=cursor)
        try:
            parsed, next_cursor = await self._fetch(network, external_id, cursor, settings, credentials)
        except pollers.PollError as exc:
            # PollError messages carry no credentials (pollers.py redacts them).
            report.error = str(exc)
            log.warning("poll of account %s (%s) failed: %s", account_id, network, exc.code or "error")
            return report
        ingest = IngestService(self.container)
        outcome = ingest.accept_parsed(account_id, parsed)
        if parsed.statuses:
            ingest.apply_statuses(parsed.statuses, {str(s.account_ref): account_id for s in parsed.statuses})
        report.accepted = sum(not a["duplicate"] for a in outcome["accepted"])
        report.duplicates = sum(bool(a["duplicate"]) for a in outcome["accepted"])
        if next_cursor is not None and next_cursor != cursor:
            with transaction(self.container.sessions) as session:
                repository.save_cursor(session, account_id, CURSOR, next_cursor)
            report.cursor = next_cursor
        return report

    async def _fetch(
        self,
        network: str,
        external_id: str | None,
        cursor: Any,
        settings: dict[str, Any],
        credentials: dict[str, Any],
    ) -> tuple[ParseResult, Any]:
        fetchers = {
            x.NETWORK: self._fetch_x,
            telegram.NETWORK: self._fetch_telegram,
            email.NETWORK: self._fetch_email,
        }
        fetch = fetchers.get(network)
        if fetch is None:
            raise pollers.PollError(f"{network} accounts are not polled", retryable=False)
        return await fetch(external_id, cursor, settings, credentials)

    async def _fetch_x(
        self, external_id: str | None, cursor: Any, settings: dict[str, Any], credentials: dict[str, Any]
    ) -> tuple[ParseResult, Any]:
        del settings
        token = credentials.get("access_token")
        if not token or not external_id:
            raise pollers.PollError("X account needs access_token and external_id to poll", retryable=False)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=self.transport, base_url=self.x_base_url, headers=headers, timeout=30
        ) as client:
            events, since_id = await pollers.poll_x_mentions(
                client, external_id, cursor if isinstance(cursor, str) else None
            )
        return ParseResult(events=events), since_id

    async def _fetch_telegram(
        self, external_id: str | None, cursor: Any, settings: dict[str, Any], credentials: dict[str, Any]
    ) -> tuple[ParseResult, Any]:
        del external_id, settings
        token = credentials.get("bot_token") or credentials.get("token")
        if not token:
            raise pollers.PollError("Telegram account needs bot_token to poll", retryable=False)
        async with httpx.AsyncClient(
            transport=self.transport, base_url=self.telegram_base_url, timeout=self.long_poll + 30
        ) as client:
            return await pollers.poll_telegram(
                client, str(token), cursor if isinstance(cursor, int) else None, timeout=self.long_poll
            )

    async def _fetch_email(
        self, external_id: str | None, cursor: Any, settings: dict[str, Any], credentials: dict[str, Any]
    ) -> tuple[ParseResult, Any]:
        del external_id
        address = credentials.get("from_address") or credentials.get("username")
        mailbox = str(settings.get("mailbox") or "INBOX")

        def fetch() -> tuple[ParseResult, Any]:
            try:
                client = self.imap_factory(credentials)
                return pollers.poll_imap(
                    client, mailbox, cursor if isinstance(cursor, int) else None, address=address
                )
            except (OSError, imaplib.IMAP4.error) as exc:
                # The type only: an IMAP error can quote the login it refused.
                raise pollers.PollError(f"IMAP failed ({type(exc).__name__})") from None

        return await asyncio.to_thread(fetch)
