"""Crisis playbooks for the people who write them (PR, admins, owners): read and changed per brand
or for the whole organisation, checked (crisis/playbook.py), written to the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Forbidden, Refused
from relaydesk.crisis import playbook
from relaydesk.crisis import playbook_repository as repo
from relaydesk.crisis.alert_access import AlertAction, refusal
from relaydesk.crisis.schemas import PlaybookIn, PlaybookOut
from relaydesk.guidelines.service import speaks_for_brand
from relaydesk.models import CrisisPlaybook
from relaydesk.notifications import webhooks
from relaydesk.notifications.destination_values import env_destination_name


class PlaybookService:
    def _may_edit(self, session: Session, scope: Scope, brand_path: str | None = None) -> bool:
        """PR, admins and owners; the organisation's playbook only people of the whole organisation,
        a brand's also the people placed at that brand."""
        spokesperson = speaks_for_brand(session, scope.org_id, scope.department_ids)
        if refusal(scope.role, spokesperson, AlertAction.STATEMENT) is not None:
            return False
        return scope.location_path is None or (brand_path is not None and scope.location_path == brand_path)

    def _place(
        self, session: Session, scope: Scope, key: str | None
    ) -> tuple[int | None, str | None, str | None]:
        """(id, name, path) of the brand with this key; all None for the whole organisation."""
        if not key:
            return None, None, None
        found = repo.brand_by_key(session, scope.org_id, key)
        if found is None:
            raise Refused(f"place: no brand with the key '{key}'", field="place")
        return found.id, found.name, found.path

    def brands(self, session: Session, scope: Scope) -> list[tuple[str, str]]:
        return [(b.key, b.name) for b in repo.brands(session, scope.org_id)]

    def choices(self, session: Session, scope: Scope) -> tuple[list[tuple[str, str]], list[str]]:
        """(department key, name) and destination names a playbook may name."""
        from_env = [env_destination_name(v, webhooks.ENV_PREFIX) for v in webhooks.env_webhooks()]
        names = sorted({*repo.destination_names(session, scope.org_id), *from_env})
        return repo.department_choices(session, scope.org_id), names

    def get(self, session: Session, scope: Scope, place: str | None = None) -> PlaybookOut:
        if scope.role == "viewer":
            raise Forbidden("viewers do not see crisis playbooks")
        place_id, name, path = self._place(session, scope, place)
        row = repo.playbook(session, scope.org_id, place_id)
        fallback = (
            repo.playbook(session, scope.org_id, None) if row is None and place_id is not None else None
        )
        values = playbook.of_row(row or fallback) if (row or fallback) else playbook.Playbook()
        return PlaybookOut(
            notify_departments=list(values.notify_departments),
            notify_destinations=list(values.notify_destinations),
            hold_replies=values.hold_replies,
            approvers=list(values.approvers),
            holding_statements=dict(values.holding_statements),
            triggers={k: list(v) for k, v in values.triggers.items()},
            place=place or None,
            place_name=name,
            own=row is not None,
            editable=self._may_edit(session, scope, path),
        )

    def put(
        self, session: Session, scope: Scope, place: str | None, body: PlaybookIn, via: str = "api"
    ) -> PlaybookOut:
        place_id, _name, path = self._place(session, scope, place)
        if not self._may_edit(session, scope, path):
            raise Forbidden(
                "crisis playbooks are written by PR (the spokesperson), admins and owners: the "
                "organisation's by those of the whole organisation, a brand's also by those of the brand"
            )
        statements = {k.strip().lower(): v.strip() for k, v in body.holding_statements.items() if v.strip()}
        triggers = {
            k.strip().lower(): [p.strip() for p in v if p.strip()]
            for k, v in body.triggers.items()
            if k.strip()
        }
        approvers = [a.strip().lower() for a in body.approvers if a.strip()] or list(
            playbook.DEFAULT_APPROVERS
        )
        found = playbook.problems(approvers, triggers, statements)
        handles = [a[1:] for a in approvers if a.startswith("@")]
        known = repo.active_handles(session, scope.org_id, handles)
        # a held reply nobody can release would wait for ever
        found += [("approvers", f"nobody active has the handle @{h}") for h in handles if h not in known]
        departments, destinations = self.choices(session, scope)
        known = {key for key, _ in departments}
        found += [
            ("notify_departments", f"no department '{d}'") for d in body.notify_departments if d not in known
        ]
        found += [
            ("notify_destinations", f"no destination '{d}'")
            for d in body.notify_destinations
            if d not in destinations
        ]
        if found:
            field, message = found[0]
            raise Refused(f"{field}: {message}", field=field, problems=[f"{f}: {m}" for f, m in found])
        act_as(session, scope, via)
        row = repo.playbook(session, scope.org_id, place_id)
        if row is None:
            row = CrisisPlaybook(org_id=scope.org_id, place_id=place_id)
            session.add(row)
        row.notify_departments = list(dict.fromkeys(body.notify_departments))
        row.notify_destinations = list(dict.fromkeys(body.notify_destinations))
        row.hold_replies = body.hold_replies
        row.approvers = approvers
        row.holding_statements = statements
        row.triggers = triggers
        session.flush()
        return self.get(session, scope, place)


playbook_service = PlaybookService()
