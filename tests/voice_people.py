"""A manager of the whole organisation for the settings tests: the fixture's only managers are a
regional one (Nora, north) and PR's (Petra), and intents and saved replies are changed by managers
whose scope is the whole organisation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.crypto import hash_password
from relaydesk.models import Department, Organization, User, UserDepartment


def add_person(
    sessions: sessionmaker[Session],
    handle: str,
    role: str,
    departments: list[str],
    password: str = "relaydesk",
) -> int:
    with sessions() as session, session.begin():
        org_id = session.scalars(select(Organization.id)).first()
        assert org_id is not None
        user = User(
            org_id=org_id,
            email=f"{handle}@test.example",
            handle=handle,
            name=f"{handle.title()} Manager",
            role=role,
            password_hash=hash_password(password),
            languages=["en"],
        )
        session.add(user)
        session.flush()
        for key in departments:
            department_id = session.scalars(
                select(Department.id).where(Department.org_id == org_id, Department.key == key)
            ).one()
            session.add(UserDepartment(user_id=user.id, department_id=department_id))
        return user.id
