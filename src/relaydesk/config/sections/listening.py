"""`listening:`: the brand's listening queries, which public posts are gathered for the team.

The same rules as the settings page and the API (crisis/listening.py `compile_query`), so a query
the file can hold is one the page can save, and back. The poller's position (`cursor`) is runtime
state: an apply never resets it, and the export leaves it out.
"""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import ConfigApplyError, Path_
from relaydesk.config.schemas import ListeningConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, ref
from relaydesk.crisis.listening import QueryError, clean_terms, compile_query
from relaydesk.models import ListeningQuery, Location


def _problem_path(base: Path_, message: str) -> tuple[Path_, str]:
    # "keywords[2]: must not be empty" -> (..., "keywords", 2), "must not be empty"
    where, _, said = message.partition(": ")
    field, _, index = where.partition("[")
    if index.rstrip("]").isdigit():
        return (*base, field, int(index.rstrip("]"))), said
    return (*base, field), said


def check(c: Checker, queries: list[tuple[int, ListeningConfig]], known_locations: set[str]) -> None:
    c.duplicates("listening", [(i, q.name) for i, q in queries], "listening query name", "name")
    for index, query in queries:
        base: Path_ = ("listening", index)
        if query.location is not None and query.location not in known_locations:
            c.problem((*base, "location"), unknown("location", query.location, known_locations))
        try:
            compile_query(query.name, query.keywords, query.exclude, query.languages, query.networks)
        except QueryError as exc:
            c.problem(*_problem_path(base, str(exc)))


def values(query: ListeningConfig, location_id: int | None) -> dict[str, Any]:
    try:
        compiled = compile_query(query.name, query.keywords, query.exclude, query.languages, query.networks)
        keywords, exclude = clean_terms(query.keywords, "keywords"), clean_terms(query.exclude, "exclude")
    except QueryError as exc:
        raise ConfigApplyError(f"listening {query.name!r}: {exc}") from None
    return {
        "name": " ".join(query.name.split()),
        "keywords": keywords,
        "exclude": exclude,
        "languages": sorted(compiled.languages),
        "networks": sorted(compiled.networks),
        "brand_location_id": location_id,
        "active": query.active,
    }


def apply(u: Upserter) -> None:
    if not u.mentions("listening"):
        return
    location_ids = {key: row.id for key, row in u.rows(Location, "key").items()}
    desired = [
        values(q, ref(location_ids, q.location, "location") if q.location else None)
        for q in u.config.listening
    ]
    u.sync_simple("listening", ListeningQuery, "name", desired)


def export(queries: list[ListeningQuery], location_key: dict[int, str]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "name": q.name,
                "keywords": [str(k) for k in q.keywords or []],
                "exclude": [str(e) for e in q.exclude or []],
                "languages": [str(code) for code in q.languages or []],
                "networks": [str(n) for n in q.networks or []],
                "location": location_key.get(q.brand_location_id) if q.brand_location_id else None,
                "active": q.active,
            },
            {"exclude": [], "languages": [], "networks": [], "location": None, "active": True},
        )
        for q in queries
    ]
