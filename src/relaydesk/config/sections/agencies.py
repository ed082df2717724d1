"""`agencies:`: outside teams and their contracts (which intents they answer, how fast)."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker, not_in_vocabulary, unknown
from relaydesk.config.schemas import AgencyConfig
from relaydesk.config.upsert import Upserter
from relaydesk.models import Agency


def check(
    c: Checker, agencies: list[tuple[int, AgencyConfig]], known_intents: set[str], vocabulary: set[str]
) -> None:
    c.duplicates("agencies", [(i, a.key) for i, a in agencies], "agency key")
    for index, agency in agencies:
        for j, intent in enumerate(agency.contract.intents):
            if intent not in known_intents:
                c.problem(
                    ("agencies", index, "contract", "intents", j), unknown("intent", intent, known_intents)
                )
            elif intent not in vocabulary:
                c.warn(("agencies", index, "contract", "intents", j), not_in_vocabulary(intent))


def apply(u: Upserter) -> dict[str, Agency]:
    desired = [
        {"key": a.key, "name": a.name, "contract": a.contract.model_dump(mode="json")}
        for a in u.config.agencies
    ]
    kept = u.sync_simple("agencies", Agency, "key", desired)
    u.session.flush()
    return kept


def export(agencies: list[Agency]) -> list[dict[str, Any]]:
    return [{"key": a.key, "name": a.name, "contract": dict(a.contract or {})} for a in agencies]
