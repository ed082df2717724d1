"""The few-shot suites run the way an integrator runs them: through `relaydesk triage --config`.

Each task's shots become an organisation config (`intents:`, one intent per label, its shots as
examples); its queries become the JSONL input; the command's `intent` (one of the config's names
or null) is scored. Nothing of the built-in intent set can answer, so this measures exactly what
an organisation gets from its own few examples (`relaydesk eval --sections fewshot_cli`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from relaydesk.triage import datasets as ds


def config_of(task: ds.FewShotTask) -> dict[str, Any]:
    """The org config a team would write for this task: one intent per label, its shots as examples."""
    by_label: dict[str, list[str]] = {}
    for shot in task.shots:
        by_label.setdefault(shot.label, []).append(shot.text)
    return {"intents": [{"name": name, "examples": examples} for name, examples in sorted(by_label.items())]}


def _command() -> list[str]:
    found = shutil.which("relaydesk", path=str(Path(sys.executable).parent))
    if found:
        return [found]
    return [sys.executable, "-c", "from relaydesk.cli.main import run; run()"]


def run_task(task: ds.FewShotTask) -> dict[str, Any]:
    """In-scope accuracy (the right intent, not null), null rate and out-of-scope recall of the
    command's answers; `names_only` checks no answer is outside the config's intents."""
    names = {shot.label for shot in task.shots}
    with tempfile.TemporaryDirectory(prefix="relaydesk-fewshot-") as folder:
        base = Path(folder)
        (base / "org.yaml").write_text(yaml.safe_dump(config_of(task), allow_unicode=True), encoding="utf-8")
        with (base / "in.jsonl").open("w", encoding="utf-8") as sink:
            for i, query in enumerate(task.queries):
                sink.write(json.dumps({"id": i, "text": query.text}, ensure_ascii=False) + "\n")
        argv = [*_command(), "triage", "--config", str(base / "org.yaml"), "--backend", "model"]
        argv += ["--input", str(base / "in.jsonl"), "--output", str(base / "out.jsonl")]
        # our own executable and our own temporary files: no outside input reaches the argv
        subprocess.run(argv, check=True, capture_output=True)  # noqa: S603
        answers = [json.loads(line) for line in (base / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    intents = [a.get("intent") for a in answers]
    in_scope = [i for i, q in enumerate(task.queries) if q.label != "oos"]
    oos = [i for i, q in enumerate(task.queries) if q.label == "oos"]
    n = max(len(in_scope), 1)
    return {
        "n_in_scope": len(in_scope),
        "n_oos": len(oos),
        "in_scope_acc": round(sum(intents[i] == task.queries[i].label for i in in_scope) / n, 4),
        "null_rate_in_scope": round(sum(intents[i] is None for i in in_scope) / n, 4),
        "oos_recall": round(sum(intents[i] is None for i in oos) / len(oos), 4) if oos else None,
        "names_only": all(intent is None or intent in names for intent in intents),
    }
