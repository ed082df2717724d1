from __future__ import annotations

import pytest

from relaydesk.core.enums import Stage
from relaydesk.routing.stage import (
    DEFAULT_STAGE_DEPARTMENTS,
    default_department_for_stage,
    stage_mapping,
    validate_stage_mapping,
)


@pytest.mark.parametrize(
    ("stage", "intent", "expected"),
    [
        ("pre_purchase", "question", "sales"),
        ("pre_purchase", None, "sales"),
        ("purchase", "order_issue", "sales"),
        ("post_purchase", "complaint", "service"),
        ("post_purchase", None, "service"),
        ("post_purchase", "technical_issue", "support"),
        ("pre_purchase", "technical_issue", "sales"),  # technical only matters after the purchase
        ("unknown", "complaint", None),
        (None, "complaint", None),
        ("", None, None),
        (Stage.PURCHASE, None, "sales"),
    ],
)
def test_defaults(stage: str | None, intent: str | None, expected: str | None) -> None:
    assert default_department_for_stage(stage, intent) == expected


def test_overrides_are_laid_over_defaults() -> None:
    mapping = {"post_purchase": "care", "post_purchase:technical_issue": None, "unknown": "triage"}
    assert default_department_for_stage("post_purchase", "technical_issue", mapping) is None
    assert default_department_for_stage("post_purchase", "complaint", mapping) == "care"
    assert default_department_for_stage("pre_purchase", None, mapping) == "sales"  # default kept
    assert default_department_for_stage("unknown", None, mapping) == "triage"


def test_intent_specific_key_wins_over_stage_key() -> None:
    mapping = {"purchase:order_issue": "logistics"}
    assert default_department_for_stage("purchase", "order_issue", mapping) == "logistics"
    assert default_department_for_stage("purchase", "question", mapping) == "sales"


def test_stage_mapping_does_not_mutate_defaults() -> None:
    merged = stage_mapping({"pre_purchase": "leads"})
    assert merged["pre_purchase"] == "leads"
    assert DEFAULT_STAGE_DEPARTMENTS["pre_purchase"] == "sales"


def test_validate_stage_mapping() -> None:
    depts = {"sales", "service", "support"}
    assert validate_stage_mapping(DEFAULT_STAGE_DEPARTMENTS, depts) == []
    found = validate_stage_mapping({"browsing": "sales", "purchase": "nope", "purchase:": None}, depts)
    assert len(found) == 3
    assert "unknown stage 'browsing'" in found[0]
    assert "unknown department 'nope'" in found[1]
    assert "missing the intent" in found[2]
