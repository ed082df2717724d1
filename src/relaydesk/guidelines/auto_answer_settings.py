"""An account's automatic answers, read and changed by the people who speak for the brand.

Owners, admins and the members of a spokesperson department (PR) turn them on and write the away
texts; everyone else who answers customers reads them (to know what a customer was told). Stored
in the account's settings (`auto_answers`), as `config apply` writes them, so the file and the page
agree; the change is audited with the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.guidelines import repository
from relaydesk.guidelines.auto_answer_rules import AutoAnswerSettings, clean
from relaydesk.guidelines.auto_answer_service import SETTINGS_KEY
from relaydesk.models import ChannelAccount


@dataclass(frozen=True)
class AccountAnswers:
    key: str
    name: str
    network: str
    settings: AutoAnswerSettings
    may_edit: bool


class AutoAnswerSettingsService:
    def _may_edit(self, session: Session, scope: Scope) -> bool:
        if scope.role in (Role.OWNER, Role.ADMIN):
            return True
        return repository.speaks_for_brand(session, scope.org_id, scope.department_ids)

    def _account(self, session: Session, scope: Scope, key: str) -> ChannelAccount:
        if not scope.can_write:
            raise Forbidden("automatic answers are for the people who answer customers")
        account = repository.account_by_key(session, scope.org_id, key)
        if account is None:
            raise NotFound(f"no account '{key}'")
        return account

    def all(self, session: Session, scope: Scope) -> list[AccountAnswers]:
        """Every account of the organisation with its automatic answers (the first 500 by key)."""
        if not scope.can_write:
            raise Forbidden("automatic answers are for the people who answer customers")
        may_edit = self._may_edit(session, scope)
        return [
            AccountAnswers(
                a.key, a.name or a.key, a.network, clean((a.settings or {}).get(SETTINGS_KEY))[0], may_edit
            )
            for a in repository.accounts(session, scope.org_id, 500)
        ]

    def get(self, session: Session, scope: Scope, key: str) -> AccountAnswers:
        account = self._account(session, scope, key)
        settings, _problems = clean((account.settings or {}).get(SETTINGS_KEY))
        return AccountAnswers(
            account.key,
            account.name or account.key,
            account.network,
            settings,
            self._may_edit(session, scope),
        )

    def put(
        self, session: Session, scope: Scope, key: str, raw: dict[str, Any], via: str = "api"
    ) -> AccountAnswers:
        account = self._account(session, scope, key)
        if not self._may_edit(session, scope):
            raise Forbidden("only PR, admins and owners change an account's automatic answers")
        settings, problems = clean(raw)
        if problems:
            refused = Refused(problems[0], field=problems[0].split(":")[0], problems=problems)
            if problems[0].startswith("away.texts"):
                raise refused.saying("auto_answers_away_text")
            raise refused.saying("auto_answers")
        act_as(session, scope, via)
        account.settings = {**dict(account.settings or {}), SETTINGS_KEY: settings.as_dict()}
        session.flush()
        return AccountAnswers(account.key, account.name or account.key, account.network, settings, True)


auto_answer_settings = AutoAnswerSettingsService()
