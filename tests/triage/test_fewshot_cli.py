"""The few-shot suites' runner drives the real `relaydesk triage --config` command."""

from __future__ import annotations

from relaydesk.triage.datasets import FewShotTask, LabelledText
from relaydesk.triage.fewshot_cli import config_of, run_task


def _task() -> FewShotTask:
    shots = {
        "refund": ["I want my money back", "please refund my order", "give me a refund for this"],
        "opening_hours": ["when are you open?", "what time do you close today", "are you open on sunday"],
        "delivery": ["where is my parcel", "my package has not arrived yet", "track my delivery please"],
    }
    return FewShotTask(
        "tiny",
        [LabelledText(text, label, "en", "hand") for label, texts in shots.items() for text in texts],
        [
            LabelledText("can I get my money back for the broken kettle", "refund", "en", "hand"),
            LabelledText("what time do you open tomorrow morning", "opening_hours", "en", "hand"),
            LabelledText("the parcel still has not arrived", "delivery", "en", "hand"),
            LabelledText("what is the capital of mongolia", "oos", "en", "hand"),
        ],
    )


def test_the_config_holds_one_intent_per_label_with_its_shots() -> None:
    config = config_of(_task())
    assert [intent["name"] for intent in config["intents"]] == ["delivery", "opening_hours", "refund"]
    assert config["intents"][2]["examples"][0] == "I want my money back"


def test_the_command_answers_only_with_the_configs_intents() -> None:
    found = run_task(_task())
    assert found["names_only"] is True
    assert (found["n_in_scope"], found["n_oos"]) == (3, 1)
    # clear paraphrases of three distinct intents: the command gets most of them (the null rule
    # may hold back a close call), and a question about geography is no intent at all
    assert found["in_scope_acc"] >= 2 / 3
    assert found["oos_recall"] == 1.0
