"""`faq:`: approved answers agents and the assistant may quote."""

from __future__ import annotations

from typing import Any

from relaydesk.config.check import Checker
from relaydesk.config.schemas import FaqConfig
from relaydesk.config.sections import compact
from relaydesk.config.upsert import Upserter
from relaydesk.models import FaqEntry


def check(c: Checker, faq: list[tuple[int, FaqConfig]]) -> None:
    c.duplicates("faq", [(i, f.key) for i, f in faq], "FAQ key")


def apply(u: Upserter) -> None:
    u.sync_simple("faq", FaqEntry, "key", [f.model_dump(mode="json") for f in u.config.faq])


def export(entries: list[FaqEntry]) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "key": f.key,
                "question": f.question,
                "answer": f.answer,
                "language": f.language,
                "approved": f.approved,
            },
            {"approved": True},
        )
        for f in entries
    ]
