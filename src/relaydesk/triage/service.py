"""Triage as the pipeline uses it: the loaded backend plus each organisation's own intents."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.core import metrics
from relaydesk.models import Intent
from relaydesk.triage.base import IntentDefinition, TriageInput, Triager, TriageResult

log = logging.getLogger(__name__)


def load_triager(backend: str = "auto") -> Triager:
    """The best backend that loads here: embedding models, else the keyword lexicon."""
    if backend in ("auto", "model"):
        try:
            from relaydesk.triage.model_triager import load_default_triager

            return load_default_triager()
        except Exception as exc:
            if backend == "model":
                raise
            log.warning("embedding triage unavailable (%s); using the lexicon triager", exc)
    from relaydesk.triage.lexicon import LexiconTriager

    return LexiconTriager()


class TriageService:
    """Caches each organisation's intents until they change (no restart, no training run)."""

    def __init__(self, triager: Triager) -> None:
        self.triager = triager
        self._lock = threading.Lock()
        self._intents: dict[int, tuple[tuple[int, datetime | None], list[IntentDefinition]]] = {}

    def org_intents(self, session: Session, org_id: int) -> list[IntentDefinition]:
        stamp_row = session.execute(
            select(func.count(Intent.id), func.max(Intent.updated_at)).where(Intent.org_id == org_id)
        ).one()
        stamp = (int(stamp_row[0]), stamp_row[1])
        with self._lock:
            cached = self._intents.get(org_id)
            if cached and cached[0] == stamp:
                return cached[1]
        rows = session.scalars(select(Intent).where(Intent.org_id == org_id).order_by(Intent.id))
        defs = [
            IntentDefinition(name=row.name, examples=tuple(row.examples or ()), department=row.department_key)
            for row in rows
        ]
        with self._lock:
            self._intents[org_id] = (stamp, defs)
        return defs

    def invalidate(self, org_id: int) -> None:
        with self._lock:
            self._intents.pop(org_id, None)

    def triage(self, items: list[TriageInput], custom: list[IntentDefinition]) -> list[TriageResult]:
        """Organisation intents first; where none fits, the built-in intents answer."""
        backend = metrics.backend_name(self.triager)
        started = time.perf_counter()
        builtin = self.triager.triage(items)
        metrics.TRIAGE_SECONDS.labels(backend=backend, stage="builtin").observe(time.perf_counter() - started)
        if not custom:
            return builtin
        started = time.perf_counter()
        results = self.triager.triage(items, custom)
        metrics.TRIAGE_SECONDS.labels(backend=backend, stage="org_intents").observe(
            time.perf_counter() - started
        )
        merged: list[TriageResult] = []
        for own, base in zip(results, builtin, strict=True):
            if own.intent is None and base.intent is not None:
                base.reasons = [*own.reasons, f"fell back to built-in intent {base.intent}", *base.reasons]
                base.scores = {**base.scores, **{f"org_{k}": v for k, v in own.scores.items()}}
                merged.append(base)
            else:
                merged.append(own)
        return merged
