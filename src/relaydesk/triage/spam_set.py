"""The hand-written multilingual spam set (tests/data/spam_multilingual.yaml, written for RelayDesk).

Its messages alternate, per language and label, between a half the spam cues were extended from
and a half held back: `relaydesk eval` reports the spam signal on the held-back half only.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

from relaydesk.triage.datasets import LabelledText

DEFAULT_SET = Path(__file__).resolve().parents[3] / "tests" / "data" / "spam_multilingual.yaml"


def held_back(path: Path = DEFAULT_SET) -> list[LabelledText]:
    """Every second message of each (language, label), in file order; [] without the file."""
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups: dict[tuple[str, str], list[LabelledText]] = defaultdict(list)
    for item in data.get("messages", []):
        groups[(item["lang"], item["label"])].append(
            LabelledText(item["text"], item["label"], item["lang"], "relaydesk_spam_multilingual")
        )
    return [text for texts in groups.values() for i, text in enumerate(texts) if i % 2 == 1]
