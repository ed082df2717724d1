"""The layout the design promises, checked on every run (issue 11).

Each rule has an allow-list of today's exceptions. The lists may only shrink: a new offender fails
its test, and so does an allow-listed file that is no offender any more (delete its line). After a
refactor, `python tests/test_architecture.py --print-current` prints the lists as they stand.
"""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "relaydesk"
IMPORT_CONTRACTS = SRC.parents[1] / ".importlinter"

# Folders that are no slice: shared code, the entry points and the schema.
NOT_SLICES = frozenset({"cli", "core", "migrations", "models", "web"})
MAX_LINES = 500
# Data, not code: long by nature, split only if the data is.
DATA_TABLES = frozenset({"triage/builtin_intents.py"})

# ---- today's exceptions: these lists may only shrink --------------------------------------------
QUERIES_OUTSIDE_REPOSITORIES: frozenset[str] = frozenset()
OVERSIZED: frozenset[str] = frozenset()
SLICES_WITHOUT_SERVICE: frozenset[str] = frozenset()
# --------------------------------------------------------------------------------------------------

_QUERY = re.compile(
    r"(?<![\w.])(?<!def )(?:select|insert|update|delete|text)\("  # sqlalchemy's constructs, imported bare
    r"|\b(?:sa|sqlalchemy)\.(?:select|insert|update|delete|text)\("
    r"|\.execute\("
)


def _sources() -> Iterator[Path]:
    yield from sorted(SRC.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _may_query(name: str) -> bool:
    return name.endswith("repository.py") or name.startswith(("models/", "migrations/")) or name in {"db.py"}


def _has_query(path: Path) -> bool:
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#") and _QUERY.search(line):
            return True
    return False


def current_query_offenders() -> set[str]:
    return {_name(p) for p in _sources() if not _may_query(_name(p)) and _has_query(p)}


def current_oversized() -> set[str]:
    return {
        _name(p)
        for p in _sources()
        if not _name(p).startswith("migrations/")
        and _name(p) not in DATA_TABLES
        and len(p.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }


def current_slices_without_service() -> set[str]:
    return {
        folder.name
        for folder in sorted(SRC.iterdir())
        if folder.is_dir()
        and (folder / "__init__.py").exists()
        and folder.name not in NOT_SLICES
        and not (folder / "service.py").exists()
    }


def contract_slices() -> list[str]:
    """The slices: the containers of the layers contract in .importlinter."""
    parser = configparser.ConfigParser()
    parser.read(IMPORT_CONTRACTS, encoding="utf-8")
    containers = parser["importlinter:contract:layers"]["containers"].split()
    return [name.removeprefix("relaydesk.") for name in containers]


def _defines_router(path: Path) -> bool:
    return any(
        "APIRouter(" in line and not line.lstrip().startswith("#")
        for line in path.read_text(encoding="utf-8").splitlines()
    )


def missing_vocabulary() -> list[str]:
    """Each slice's missing vocabulary file, with the reason the slice needs it."""
    missing = []
    for slice_name in contract_slices():
        folder = SRC / slice_name
        modules = sorted(folder.rglob("*.py"))
        needed = {"service.py": "every slice has one"}
        querying = [_name(p) for p in modules if _has_query(p)]
        if querying:
            needed["repository.py"] = f"its modules run queries: {', '.join(querying)}"
        routing = [_name(p) for p in modules if _defines_router(p)]
        if routing:
            why = f"it defines an APIRouter: {', '.join(routing)}"
            needed["endpoints.py"] = needed["schemas.py"] = why
        missing += [
            f"{slice_name}/{file} ({why})" for file, why in needed.items() if not (folder / file).exists()
        ]
    return missing


def _check(current: set[str], allowed: frozenset[str], what: str) -> None:
    new = sorted(current - allowed)
    gone = sorted(allowed - current)
    assert not new, f"new {what} (fix them; the allow-list may only shrink): {new}"
    assert not gone, f"no longer {what}: delete them from the allow-list in {__file__}: {gone}"


def test_only_repositories_run_queries() -> None:
    _check(
        current_query_offenders(), QUERIES_OUTSIDE_REPOSITORIES, "files with queries outside repository.py"
    )


def test_no_source_file_over_500_lines() -> None:
    _check(current_oversized(), OVERSIZED, f"files over {MAX_LINES} lines")


def test_every_slice_has_a_service() -> None:
    _check(current_slices_without_service(), SLICES_WITHOUT_SERVICE, "slices without service.py")


def test_every_slice_has_the_vocabulary() -> None:
    slices = contract_slices()
    packages = sorted(
        folder.name
        for folder in SRC.iterdir()
        if (folder / "__init__.py").exists() and folder.name not in NOT_SLICES
    )
    assert sorted(slices) == packages, (
        f"the layers contract in {IMPORT_CONTRACTS.name} lists {sorted(slices)}, the slice packages are "
        f"{packages}: list each slice there"
    )
    missing = missing_vocabulary()
    assert not missing, "slices missing a file of the vocabulary:\n  " + "\n  ".join(missing)


def _print_current() -> None:
    for title, found in (
        ("QUERIES_OUTSIDE_REPOSITORIES", current_query_offenders()),
        ("OVERSIZED", current_oversized()),
        ("SLICES_WITHOUT_SERVICE", current_slices_without_service()),
    ):
        print(f"{title} = frozenset(\n    {{")
        for name in sorted(found):
            print(f'        "{name}",')
        print("    }\n)")
    for missing in missing_vocabulary():
        print(f"missing: {missing}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--print-current"]:
        _print_current()
    else:
        sys.exit("usage: python tests/test_architecture.py --print-current")
