"""The worker's schedule for learning from corrections (`Settings.learn_every_hours`).

Every few minutes a worker (1) takes up a head another worker (or `relaydesk train
--from-corrections`) has just kept, and (2) when the last learning run is older than the schedule's
period and agents have corrected sentiment since, runs `learning_service.learn` itself — one worker
at a time, under a file lock, so two processes never refit at once.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from relaydesk.triage import learning_service
from relaydesk.triage.service import use_learned_head

log = logging.getLogger(__name__)

CHECK_EVERY_S = 300.0


def period_over(runs: Sequence[dict[str, Any]], every: timedelta, now: datetime) -> bool:
    """Whether the schedule allows a run: it is on, and the last run (if any) is a period old."""
    if every <= timedelta(0):
        return False
    try:
        return not runs or now - datetime.fromisoformat(str(runs[0]["at"])) >= every
    except (KeyError, ValueError):
        return True


def due(runs: Sequence[dict[str, Any]], corrections: int, every: timedelta, now: datetime) -> bool:
    """Whether to learn now: never learned, or the period has passed and corrections have grown."""
    if corrections == 0 or not period_over(runs, every, now):
        return False
    return not runs or corrections > int(runs[0].get("corrections", 0))


class LearningSchedule:
    def __init__(
        self,
        triager: Any,
        folder: Path,
        every: timedelta,
        examples: Callable[[], list[tuple[str, str, str]]],
    ) -> None:
        self.triager = triager
        self.folder = folder
        self.every = every
        self.examples = examples
        self._seen = self._stamp()

    def _stamp(self) -> float:
        path = self.folder / f"{learning_service.HEAD_STEM}.npz"
        return path.stat().st_mtime if path.is_file() else 0.0

    def _model(self) -> Any:
        return getattr(self.triager, "loaded", self.triager)

    def round(self, now: datetime | None = None) -> str:
        """One check: "learned", "reloaded" or "" (nothing to do)."""
        model = self._model()
        if not hasattr(model, "use_sentiment_head"):
            return ""  # the keyword lexicon has no head to learn
        done = ""
        now = now or datetime.now(UTC)
        runs = learning_service.history(self.folder, 1)
        # the corrections are read only when the period allows a run, not every few minutes
        examples = self.examples() if period_over(runs, self.every, now) else []
        sentiment = sum(1 for _, field, _ in examples if field == "sentiment")
        if due(runs, sentiment, self.every, now):
            self.folder.mkdir(parents=True, exist_ok=True)
            with (self.folder / ".learning.lock").open("w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return ""  # another worker is learning; its head is taken up next round
                learning_service.learn(examples, model.embedder, self.folder, now=now)
                done = "learned"
        stamp = self._stamp()
        if stamp != self._seen:
            self._seen = stamp
            if use_learned_head(model, self.folder):
                log.info("took up the sentiment head learned from corrections")
                done = done or "reloaded"
        return done

    def run(self, gone: threading.Event) -> None:
        while not gone.wait(CHECK_EVERY_S):
            try:
                self.round()
            except Exception:
                log.warning("learning from corrections failed; trying again later", exc_info=True)
