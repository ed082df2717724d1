"""`guidelines:`: the checks a reply must pass before it is sent (banned phrases, length...)."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import GuidelineConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, ref
from relaydesk.guidelines.checks import KINDS
from relaydesk.guidelines.guideline_kinds import clean_params
from relaydesk.models import Guideline, Location

# Kinds the guidelines checker understands; another kind is a warning, not an error, so a file
# written for a newer RelayDesk still applies (the checker reports the kind it does not know).
KNOWN_GUIDELINE_KINDS = frozenset(KINDS)


def check(c: Checker, guidelines: list[tuple[int, GuidelineConfig]], known_locations: set[str]) -> None:
    c.duplicates("guidelines", [(i, g.name) for i, g in guidelines], "guideline name", "name")
    for index, guideline in guidelines:
        base: Path_ = ("guidelines", index)
        if guideline.location is not None and guideline.location not in known_locations:
            c.problem((*base, "location"), unknown("location", guideline.location, known_locations))
        if guideline.kind not in KNOWN_GUIDELINE_KINDS:
            c.warn((*base, "kind"), unknown("guideline kind", guideline.kind, KNOWN_GUIDELINE_KINDS))
        if guideline.kind in KNOWN_GUIDELINE_KINDS:
            # The settings page's rules: a file cannot save what the form would refuse.
            for problem in clean_params(guideline.kind, guideline.params)[1]:
                c.problem((*base, "params", problem.field), f"{guideline.kind}: {problem.message}")


def apply(u: Upserter) -> None:
    places = u.rows(Location, "key")
    desired = [
        {
            "name": g.name,
            "kind": g.kind,
            "params": clean_params(g.kind, g.params)[0]
            if g.kind in KNOWN_GUIDELINE_KINDS
            else dict(g.params),
            "message": g.message,
            "severity": g.severity,
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
                "severity": g.severity,
            },
            {"location": None, "severity": None},
        )
        for g in guidelines
    ]
