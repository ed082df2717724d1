"""Triage as the pipeline uses it: the loaded backend plus each organisation's own intents."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.core import metrics
from relaydesk.models import Conversation, TriageCorrection
from relaydesk.triage import repository
from relaydesk.triage.base import IntentDefinition, TriageInput, Triager, TriageResult, org_vocabulary

log = logging.getLogger(__name__)


def load_triager(backend: str = "auto", models: Path | None = None) -> Triager:
    """The best backend that loads here: embedding models, else the keyword lexicon. `models`:
    the folder where a sentiment head learned from the team's corrections is kept, if any."""
    if backend in ("auto", "model"):
        try:
            from relaydesk.triage.model_triager import load_default_triager

            triager = load_default_triager()
            if models is not None:
                use_learned_head(triager, models)
            return triager
        except Exception as exc:
            if backend == "model":
                raise
            log.warning("embedding triage unavailable (%s); using the lexicon triager", exc)
    from relaydesk.triage.lexicon import LexiconTriager

    return LexiconTriager()


def use_learned_head(triager: Any, models: Path) -> bool:
    """Put the head learned from corrections (kept in `models`) into a model triager; False when
    there is none, or the triager has no sentiment head to replace (the keyword lexicon)."""
    from relaydesk.triage.learning_service import learned_head

    if not hasattr(triager, "use_sentiment_head"):
        return False
    head = learned_head(models)
    if head is None:
        return False
    try:
        triager.use_sentiment_head(head)
    except ValueError as exc:
        log.warning("the learned sentiment head does not fit this triager (%s); keeping the shipped one", exc)
        return False
    return True


class LazyTriager:
    """A triager loaded on first use: the embedded web server triages only for a rule's dry run
    (its worker process triages the messages), and the model costs ~150 MB resident."""

    def __init__(self, backend: str, models: Path | None = None) -> None:
        self.backend = backend
        self.models = models
        self._loaded: Triager | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> Triager:
        with self._lock:
            if self._loaded is None:
                self._loaded = load_triager(self.backend, self.models)
            return self._loaded

    def triage(
        self, items: list[TriageInput], intents: list[IntentDefinition] | None = None
    ) -> list[TriageResult]:
        return self.loaded.triage(items, intents)


class TriageService:
    """Caches each organisation's intents until they change (no restart, no training run)."""

    def __init__(self, triager: Triager) -> None:
        from relaydesk.triage.builtin_intents import builtin_intent_definitions

        self.triager = triager
        self.builtin = builtin_intent_definitions()
        self._lock = threading.Lock()
        self._intents: dict[int, tuple[tuple[int, datetime | None], list[IntentDefinition]]] = {}

    def embedder(self) -> Any:
        """The triage model's embedder (loading a lazy triager), None for the keyword lexicon."""
        triager: Any = self.triager
        if isinstance(triager, LazyTriager):
            triager = triager.loaded
        return getattr(triager, "embedder", None)

    def org_intents(self, session: Session, org_id: int) -> list[IntentDefinition]:
        stamp = repository.intents_stamp(session, org_id)
        with self._lock:
            cached = self._intents.get(org_id)
            if cached and cached[0] == stamp:
                return cached[1]
        rows = repository.org_intents(session, org_id)
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
        """An organisation that teaches intents by example has its intents as the vocabulary
        (`org_vocabulary`): the intent is one of them or None, never a built-in one it did not
        list; spam, crisis and complaint come as signals. A department an organisation gives a
        listed intent is the one routing sees."""
        backend = metrics.backend_name(self.triager)
        started = time.perf_counter()
        results = self.triager.triage(items, org_vocabulary(custom, self.builtin))
        metrics.TRIAGE_SECONDS.labels(backend=backend, stage="org_intents" if custom else "builtin").observe(
            time.perf_counter() - started
        )
        departments = {it.name: it.department for it in custom if it.department}
        for result in results:
            if result.intent in departments:
                result.department = departments[result.intent]
        return results


def correction_examples(session: Session, org_id: int | None = None) -> list[tuple[str, str, str]]:
    """Agents' triage corrections as training rows (`relaydesk models train`)."""
    return repository.correction_examples(session, org_id)


def record_correction(
    session: Session, conversation: Conversation, message_id: int, user_id: int, field: str, value: str | None
) -> TriageCorrection:
    """An agent's correction of the triage, kept as a training example (joins the caller's commit)."""
    return repository.record_correction(session, conversation, message_id, user_id, field, value)
