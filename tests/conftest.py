"""Shared fixtures: every storage test runs on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.db import make_engine, make_session_factory
from relaydesk.models import Base

# No test may depend on how fast the machine is: hypothesis's default 200 ms deadline per example
# fails property tests on a loaded 2-core runner, so every property test runs without one.
hypothesis_settings.register_profile("relaydesk", deadline=None)
hypothesis_settings.load_profile("relaydesk")

PG_URL = os.environ.get("RELAYDESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parents[1]
DEV_DATA = Path(os.environ.get("RELAYDESK_DEV_DATA", REPO.parent / "shared" / "data" / "dev.jsonl.gz"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `--dist loadgroup` see the `xdist_group` marks under pytest 9.

    pytest-xdist 3.8 adds "@<group>" to `item._nodeid`, which pytest 9 no longer reads (the node
    id lives in `item._id`): every test was its own group, so a module-scoped server or model
    was set up again on each worker. Only the scheduling changes; what runs is the same.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        suffixed = item.__dict__.get("_nodeid")
        if isinstance(suffixed, str) and "@" in suffixed and item.nodeid != suffixed:
            item._id = coerce_node_id(suffixed)  # type: ignore[attr-defined]


def _pg_available() -> str | None:
    try:
        engine = make_engine(PG_URL, pool_size=1, max_overflow=0)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


def require_postgres() -> None:
    """Skip (fail in CI) when PostgreSQL at PG_URL does not answer."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL at {PG_URL} unreachable ({problem}); set RELAYDESK_TEST_PG_URL")


@contextlib.contextmanager
def private_schema(prefix: str) -> Iterator[str]:
    """A new empty schema in PG_URL, dropped on the way out: yields the URL whose connections use it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A private schema for this test run, dropped at the end: nothing is left behind."""
    require_postgres()
    with private_schema("rd_test") as url:
        engine = make_engine(url, pool_size=1, max_overflow=0)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


# The sequences the tables own (serial and identity columns): what TRUNCATE ... RESTART IDENTITY restarts.
_OWNED_SEQUENCES = text(
    "SELECT setval(s.oid, 1, false) FROM pg_class s"
    " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
    " WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace"
)


def _truncate_all(engine: Engine) -> None:
    """Every table emptied and every id counter back at 1, as TRUNCATE ... RESTART IDENTITY does.

    DELETE in dependency order rather than TRUNCATE: on tables this small TRUNCATE costs about a
    second (new files for 31 tables and their indexes), twice per PostgreSQL test; DELETE a few ms.
    """
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(_OWNED_SEQUENCES)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with every table, made once per worker: a copy is ~100x cheaper than create_all."""
    path = tmp_path_factory.mktemp("sqlite-template") / "relaydesk.db"
    eng = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(eng)
    eng.dispose()
    # The last connection closed checkpoints the WAL: the file alone holds the schema.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "relaydesk.db"
        eng = make_engine(f"sqlite:///{path}")  # creates the file owner-only; the copy keeps that
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield eng
        eng.dispose()
    else:
        url = request.getfixturevalue("pg_schema_url")
        eng = make_engine(url)
        _truncate_all(eng)
        yield eng
        _truncate_all(eng)
        eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def dev_data() -> Path:
    if not DEV_DATA.exists():
        pytest.skip(f"development data not found at {DEV_DATA} (set RELAYDESK_DEV_DATA)")
    return DEV_DATA


ORG_YAML = Path(__file__).resolve().parent / "fixtures" / "org.yaml"


@functools.cache
def _org_config() -> Any:
    from relaydesk.config.loader import load_config

    result = load_config(ORG_YAML, allow_plain_passwords=True)
    assert result.config is not None, result.problems
    return result.config


def org_config() -> Any:
    """tests/fixtures/org.yaml, loaded and checked once per worker; a private copy for each caller."""
    return _org_config().model_copy(deep=True)


_PASSWORD_HASHES: dict[str, str] = {}


@contextlib.contextmanager
def passwords_hashed_once() -> Iterator[None]:
    """Configured passwords are hashed once per worker, not once per test and agent.

    scrypt is slow on purpose (about 0.1 s a call, more on a loaded machine), and the fixture
    organisation's nine agents made it most of every `container` test's set-up. The hashes
    stored are still real ones from `hash_password` (only their salt is shared), and logging in
    still runs scrypt through `verify_password`; outside this block nothing is replaced.
    """
    from relaydesk.auth import crypto

    real = crypto.hash_password

    def hash_once(password: str) -> str:
        if password not in _PASSWORD_HASHES:
            _PASSWORD_HASHES[password] = real(password)
        return _PASSWORD_HASHES[password]

    # Every module that imported the function by name gets the memo, wherever it moves.
    holders = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("relaydesk.") and getattr(module, "hash_password", None) is real
    ]
    with pytest.MonkeyPatch.context() as patch:
        for module in holders:
            patch.setattr(module, "hash_password", hash_once)
        yield


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Iterator[Any]:
    """A container on the test database with the small test organisation applied."""
    from relaydesk.config.service import apply_config
    from relaydesk.container import build_container
    from relaydesk.db import transaction
    from relaydesk.pipeline.bus.inproc import InProcessBus
    from relaydesk.settings import Settings
    from relaydesk.triage.lexicon import LexiconTriager

    settings = Settings(
        database_url=str(engine.url), data_dir=tmp_path, secret_key="test-secret-key", background_tasks=False
    )
    built = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    with transaction(built.sessions) as session, passwords_hashed_once():
        apply_config(session, org_config(), built.box)
    yield built
    built.bus.close()


@pytest.fixture
def app_client(container: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from relaydesk.app import create_app

    with TestClient(create_app(container.settings, container)) as client:
        yield client
