"""Departments (the queues work is routed to) and the agencies that staff some of them.

Managers read them; owners and admins create, change and delete departments
(`location_access.department_refusal`). A department is checked as `config apply` checks the
`departments:` section and written to the same row, so `config export` gives it back. Exactly one
department is the default (where work goes when nothing else decides): making one the default
takes it from the other, and the default itself cannot be unmade or deleted, only replaced.
A department is deleted only when nothing uses it: its people would lose their queue, rules and
intents would route to nothing, and its conversations would lose their department.
Agencies' contracts are an SLA matter edited elsewhere (the file or the API): listed here only.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.config.schemas import DepartmentConfig
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.models import Department
from relaydesk.orgs import department_repository as departments_db
from relaydesk.orgs.department_schemas import AgencyRow, DepartmentIn, DepartmentRow
from relaydesk.orgs.location_access import department_refusal

LIMIT = 500


def _validated(body: DepartmentIn) -> DepartmentConfig:
    try:
        return DepartmentConfig(**body.model_dump())
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "key"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise Refused(f"{field}: {message}", field=field) from None


class DepartmentService:
    """Stateless; every method runs inside the caller's transaction (the caller commits)."""

    def may(self, scope: Scope, *, change: bool) -> bool:
        return department_refusal(scope.role, change=change) is None

    def _require(self, scope: Scope, *, change: bool) -> None:
        reason = department_refusal(scope.role, change=change)
        if reason is not None:
            raise Forbidden(reason)

    def rows(self, session: Session, scope: Scope) -> list[DepartmentRow]:
        self._require(scope, change=False)
        rows = departments_db.departments(session, scope.org_id, LIMIT)
        counts = departments_db.member_counts(session, scope.org_id)
        agencies = {a.id: a for a in departments_db.agencies(session, scope.org_id, LIMIT)}
        out = []
        for d in rows:
            agency = agencies.get(d.agency_id) if d.agency_id else None
            out.append(
                DepartmentRow(
                    key=d.key,
                    name=d.name,
                    is_default=d.is_default,
                    assignment=d.assignment,
                    agency=agency.key if agency else None,
                    agency_name=agency.name if agency else None,
                    spokesperson=d.spokesperson,
                    members=counts.get(d.id, 0),
                )
            )
        return out

    def get(self, session: Session, scope: Scope, key: str) -> DepartmentRow:
        found = next((d for d in self.rows(session, scope) if d.key == key), None)
        if found is None:
            raise NotFound(f"no department '{key}'")
        return found

    def agencies(self, session: Session, scope: Scope) -> list[AgencyRow]:
        self._require(scope, change=False)
        staffed: dict[int, list[str]] = {}
        for d in departments_db.departments(session, scope.org_id, LIMIT):
            if d.agency_id:
                staffed.setdefault(d.agency_id, []).append(d.key)
        return [
            AgencyRow(
                key=a.key, name=a.name, contract=dict(a.contract or {}), departments=staffed.get(a.id, [])
            )
            for a in departments_db.agencies(session, scope.org_id, LIMIT)
        ]

    def uses(self, session: Session, scope: Scope, key: str) -> dict[str, int]:
        self._require(scope, change=False)
        row = self._row(session, scope, key)
        return departments_db.uses(session, scope.org_id, row)

    def _row(self, session: Session, scope: Scope, key: str) -> Department:
        row = departments_db.department_by_key(session, scope.org_id, key)
        if row is None:
            raise NotFound(f"no department '{key}'")
        return row

    def _agency_id(self, session: Session, scope: Scope, key: str | None) -> int | None:
        if not key:
            return None
        agency = departments_db.agency_by_key(session, scope.org_id, key)
        if agency is None:
            raise Refused(f"agency: no agency '{key}'", field="agency")
        return agency.id

    def _make_default(self, session: Session, scope: Scope, row: Department) -> None:
        for other in departments_db.departments(session, scope.org_id, LIMIT):
            if other.id != row.id and other.is_default:
                other.is_default = False
        row.is_default = True

    def create(self, session: Session, scope: Scope, body: DepartmentIn, via: str = "api") -> Department:
        self._require(scope, change=True)
        spec = _validated(body)
        if departments_db.department_by_key(session, scope.org_id, spec.key) is not None:
            raise Refused(f"key: a department with the key '{spec.key}' exists already", field="key")
        agency_id = self._agency_id(session, scope, spec.agency)
        first = not departments_db.departments(session, scope.org_id, 1)
        act_as(session, scope, via)
        row = Department(
            org_id=scope.org_id,
            key=spec.key,
            name=spec.name,
            is_default=False,
            assignment=spec.assignment,
            agency_id=agency_id,
            spokesperson=spec.spokesperson,
        )
        session.add(row)
        if spec.default or first:
            self._make_default(session, scope, row)
        session.flush()
        return row

    def update(self, session: Session, scope: Scope, key: str, body: DepartmentIn, via: str = "api") -> None:
        """Name, assignment, agency, spokesperson and default; the key stays (rules name it)."""
        self._require(scope, change=True)
        row = self._row(session, scope, key)
        spec = _validated(body.model_copy(update={"key": key}))
        if row.is_default and not spec.default:
            raise Refused(
                "default: one department must be the default; make another one the default instead",
                field="default",
            )
        agency_id = self._agency_id(session, scope, spec.agency)
        act_as(session, scope, via)
        row.name = spec.name
        row.assignment = spec.assignment
        row.agency_id = agency_id
        row.spokesperson = spec.spokesperson
        if spec.default and not row.is_default:
            self._make_default(session, scope, row)
        session.flush()

    def delete(self, session: Session, scope: Scope, key: str, via: str = "api") -> None:
        self._require(scope, change=True)
        row = self._row(session, scope, key)
        if row.is_default:
            raise Refused(
                "delete: this is the default department; make another one the default first", field="delete"
            )
        uses = departments_db.uses(session, scope.org_id, row)
        if any(uses.values()):
            said = ", ".join(f"{n} {what}" for what, n in uses.items() if n)
            raise Refused(f"delete: '{key}' still has {said}", field="delete", uses=uses)
        act_as(session, scope, via)
        session.delete(row)


department_service = DepartmentService()
