"""Learning from the team's corrections: refit the sentiment head, keep it only when it is better.

`learn` is what `relaydesk train --from-corrections` and the worker's schedule run. The refit
starts from the shipped head every time (not from the last refit, so corrections do not compound
drift), learns from the corrections not held back (`learning.split`), and is kept — written to
`<data_dir>/models/sentiment.npz/.json` — only when it scores at least as well as the head in use on
the held-back ones. Every run, kept or not, is one line of `learning.jsonl` there, and a log line
with both scores.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from relaydesk.triage import learning
from relaydesk.triage.embed import Embedder
from relaydesk.triage.heads import LinearHead, load_sentiment_head
from relaydesk.triage.train import refit_head

log = logging.getLogger(__name__)

LOG_FILE = "learning.jsonl"
HEAD_STEM = "sentiment"


def models_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "models"


def learned_head(folder: Path) -> LinearHead | None:
    """The refitted head kept by an earlier run, if any (a damaged file is left unused, logged)."""
    if not (folder / f"{HEAD_STEM}.npz").is_file():
        return None
    try:
        return LinearHead.load(folder / HEAD_STEM)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("the learned sentiment head in %s does not load (%s); using the shipped one", folder, exc)
        return None


def learn(
    examples: Sequence[tuple[str, str, str]],
    embedder: Embedder,
    folder: Path,
    *,
    shipped: LinearHead | None = None,
    now: datetime | None = None,
) -> learning.Outcome:
    """Refit on the sentiment corrections of `(text, field, label)` and keep the better head."""
    base = shipped or load_sentiment_head()
    in_use = learned_head(folder) or base
    pairs = [
        (t, lab) for t, f, lab in examples if f == "sentiment" and t and t.strip() and lab in base.classes
    ]
    to_learn, held = learning.split(pairs)
    refitted: LinearHead | None = None
    if to_learn and len(held) >= learning.MIN_HELD_BACK:
        x = embedder.embed_queries([t for t, _ in to_learn])
        refitted = refit_head(base, x, [lab for _, lab in to_learn])
        held_x = embedder.embed_queries([t for t, _ in held])
        outcome = learning.judge(
            len(to_learn), [lab for _, lab in held], in_use.predict(held_x), refitted.predict(held_x)
        )
    else:
        outcome = learning.judge(len(to_learn), [lab for _, lab in held], [], [])
    folder.mkdir(parents=True, exist_ok=True)
    if refitted is not None and outcome.kept == "refitted":
        _save_atomically(refitted, folder)
    record = {"at": (now or datetime.now(UTC)).isoformat(timespec="seconds"), **outcome.as_dict()}
    with (folder / LOG_FILE).open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(record) + "\n")
    log.info(
        "learning from %d correction(s): in use %s, refitted %s on %d held back; kept the %s head (%s)",
        outcome.corrections,
        outcome.score_in_use,
        outcome.score_refitted,
        outcome.held_back,
        outcome.kept,
        outcome.reason,
    )
    return outcome


def history(folder: Path, limit: int = 20) -> list[dict[str, object]]:
    """The last learning runs, newest first."""
    path = folder / LOG_FILE
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[-limit:]:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows[::-1]


def _save_atomically(head: LinearHead, folder: Path) -> None:
    """Written beside, then renamed: a worker reloading meanwhile sees the old head or the new one."""
    staging = folder / ".staging"
    npz, js = head.save(staging / HEAD_STEM)
    os.replace(js, folder / f"{HEAD_STEM}.json")
    os.replace(npz, folder / f"{HEAD_STEM}.npz")
