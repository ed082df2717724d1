"""`guidelines:`: the checks a reply must pass before it is sent (banned phrases, length...)."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import GuidelineConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, ref
from relaydesk.models import Guideline, Location

# Kinds the guidelines checker is known to understand; another kind is a warning, not an error,
# so a newer checker can add kinds without this file rejecting them.
KNOWN_GUIDELINE_KINDS = frozenset({"banned_phrase", "max_length", "require_greeting", "pii", "language"})


def check(c: Checker, guidelines: list[tuple[int, GuidelineConfig]], known_locations: set[str]) -> None:
    c.duplicates("guidelines", [(i, g.name) for i, g in guidelines], "guideline name", "name")
    for index, guideline in guidelines:
        base: Path_ = ("guidelines", index)
        if guideline.location is not None and guideline.location not in known_locations:
            c.problem((*base, "location"), unknown("location", guideline.location, known_locations))
        if guideline.kind not in KNOWN_GUIDELINE_KINDS:
            c.warn((*base, "kind"), unknown("guideline kind", guideline.kind, KNOWN_GUIDELINE_KINDS))
        if guideline.kind == "banned_phrase":
            phrases = guideline.params.get("phrases")
            if (
                not isinstance(phrases, list)
                or not phrases
                or not all(isinstance(p, str) and p.strip() for p in phrases)
            ):
                c.problem((*base, "params", "phrases"), "banned_phrase needs a non-empty list of phrases")


def apply(u: Upserter) -> None:
    places = u.rows(Location, "key")
    desired = [
        {
            "name": g.name,
            "kind": g.kind,
            "params": dict(g.params),
            "message": g.message,
            "location_id": ref(places, g.location, "location").id if g.location else None,
        }
        for g in u.config.guidelines
    ]
    u.sync_simple("guidelines", Guideline, "name", desired)


def export(guidelines: list[Guideline], location_key: dict[int, str]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "name": g.name,
                "kind": g.kind,
                "params": dict(g.params or {}),
                "message": g.message,
                "location": location_key.get(g.location_id) if g.location_id is not None else None,
            },
            {"location": None},
        )
        for g in guidelines
    ]
