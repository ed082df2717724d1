"""The channel accounts a person is limited to, set from their page (account-level access).

Empty means "every account their departments and location allow"; listing accounts narrows what
they see and are given to those accounts (auth/scopes.py applies it in every read's SQL).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Forbidden, Refused
from relaydesk.orgs import person_accounts_repository as db
from relaydesk.orgs.people_access import account_in_reach, may_limit_accounts, may_view
from relaydesk.orgs.people_service import editor_of, people_service

CHOICES = 2000  # suggested in the form; a bigger organisation types the key


@dataclass(frozen=True)
class AccountLimits:
    current: list[tuple[str, str]]  # (key, name) the person is limited to; empty: not limited
    editable: bool
    choices: list[tuple[str, str]]


class PersonAccountsService:
    def get(self, session: Session, scope: Scope, user_id: int) -> AccountLimits:
        editor = editor_of(scope)
        _, person = people_service.person_row(session, scope, user_id)
        if not may_view(editor, person):
            raise Forbidden("this person is outside your part of the organisation")
        current = [(a.key, a.name or a.key) for a in db.limits_of(session, user_id)]
        editable = may_limit_accounts(editor, person)
        choices = db.account_choices(session, scope.org_id, editor.location_ids, CHOICES) if editable else []
        return AccountLimits(current, editable, choices)

    def set(
        self, session: Session, scope: Scope, user_id: int, keys: list[str], via: str = "api"
    ) -> AccountLimits:
        """Limit the person to exactly these accounts (none: no limit)."""
        editor = editor_of(scope)
        _, person = people_service.person_row(session, scope, user_id)
        if not may_limit_accounts(editor, person):
            raise Forbidden("you may not change which accounts this person answers")
        wanted = sorted({k.strip() for k in keys if k.strip()})
        found = db.accounts_by_key(session, scope.org_id, wanted)
        missing = [k for k in wanted if k not in found]
        if missing:
            raise Refused(
                f"accounts: no account {', '.join(repr(k) for k in missing)} in this organisation",
                errors=[{"field": "accounts", "message": f"no account {', '.join(missing)}"}],
            )
        outside = [k for k, a in found.items() if not account_in_reach(editor, a.location_id)]
        if outside:
            raise Forbidden(
                f"accounts: {', '.join(outside)} belong to places outside your part of the organisation"
            )
        have = {a.id for a in db.limits_of(session, user_id)}
        want = {a.id for a in found.values()}
        if have != want:
            act_as(session, scope, via)
            db.remove(session, user_id, have - want)
            db.add(session, user_id, want - have)
            session.flush()
        return self.get(session, scope, user_id)


person_accounts = PersonAccountsService()
