"""`faq:`: answers agents and the assistant may quote once PR has approved them."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, unknown
from relaydesk.config.schemas import FaqConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter, ref
from relaydesk.models import FaqEntry, Location


def check(c: Checker, faq: list[tuple[int, FaqConfig]], known_locations: set[str]) -> None:
    c.duplicates("faq", [(i, f.key) for i, f in faq], "FAQ key")
    for index, entry in faq:
        if entry.location is not None and entry.location not in known_locations:
            c.problem(("faq", index, "location"), unknown("location", entry.location, known_locations))
        if entry.status is not None and entry.approved is not None:
            expected = "approved" if entry.approved else "draft"
            if entry.status != expected:
                c.problem(
                    ("faq", index, "approved"),
                    f"'approved: {str(entry.approved).lower()}' contradicts 'status: {entry.status}': "
                    "keep only status",
                )
        if entry.valid_from and entry.valid_until and entry.valid_until < entry.valid_from:
            c.problem(("faq", index, "valid_until"), "valid_until is before valid_from")
        repeated = entry.answers.get(entry.language)
        if repeated is not None and repeated != entry.answer:
            c.problem(
                ("faq", index, "answers", entry.language),
                f"{entry.language!r} is the primary language: its answer is 'answer'",
            )


def values(entry: FaqConfig, places: dict[str, Location]) -> dict[str, Any]:
    return {
        "location_id": ref(places, entry.location, "location").id if entry.location else None,
        "key": entry.key,
        "question": entry.question,
        "answer": entry.answer,
        "language": entry.language,
        "status": entry.resolved_status(),
        "variants": list(entry.variants),
        "answers": entry.all_answers(),
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
    }


def apply(u: Upserter) -> None:
    places = u.rows(Location, "key")
    u.sync_simple("faq", FaqEntry, "key", [values(f, places) for f in u.config.faq])


def export(entries: list[FaqEntry], location_key: dict[int, str]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "key": f.key,
                "question": f.question,
                "answer": f.answer,
                "language": f.language,
                "status": f.status,
                "variants": list(f.variants or []),
                "answers": {k: v for k, v in (f.answers or {}).items() if k != f.language},
                "valid_from": f.valid_from.isoformat() if f.valid_from else None,
                "valid_until": f.valid_until.isoformat() if f.valid_until else None,
                "location": location_key.get(f.location_id) if f.location_id is not None else None,
            },
            {
                "status": "approved",
                "variants": [],
                "answers": {},
                "valid_from": None,
                "valid_until": None,
                "location": None,
            },
        )
        for f in entries
    ]
