"""The purchase stage's default department, used when no rule and no intent chose one.

The product brief: questions before buying (products, prices, availability) and the purchase
itself (checkout, payment, delivery) go to sales, because a lost answer there is a lost sale;
after the purchase (complaints, returns, technical problems) the conversation goes to
customer service, except technical problems, which go to support.

"Technical" is read from the intent (the stage alone cannot tell a broken product from a
late parcel): `post_purchase` with intent `technical_issue` maps to support. An org that names
its technical intent differently, or has no support department, overrides the mapping.

Mapping keys are a stage (``"post_purchase"``) or a stage and an intent
(``"post_purchase:technical_issue"``); the stage-and-intent key wins. An org's mapping is laid
over the defaults; a value of None removes a default (that stage then has no department).
"""

from __future__ import annotations

from collections.abc import Mapping

from relaydesk.core.enums import Stage

DEFAULT_STAGE_DEPARTMENTS: Mapping[str, str | None] = {
    Stage.PRE_PURCHASE.value: "sales",
    Stage.PURCHASE.value: "sales",
    Stage.POST_PURCHASE.value: "service",
    f"{Stage.POST_PURCHASE.value}:technical_issue": "support",
}


def stage_mapping(overrides: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """The defaults with an org's overrides laid over them."""
    merged = dict(DEFAULT_STAGE_DEPARTMENTS)
    if overrides:
        merged.update(overrides)
    return merged


def default_department_for_stage(
    stage: str | None,
    intent: str | None = None,
    mapping: Mapping[str, str | None] | None = None,
) -> str | None:
    """The department a conversation at `stage` belongs to, or None when the stage says nothing.

    `unknown` (and a missing stage) map to nothing by default, so routing falls through to
    the org's default department.
    """
    if not stage:
        return None
    table = stage_mapping(mapping)
    stage_key = str(stage)
    if intent:
        combined = f"{stage_key}:{intent}"
        if combined in table:
            return table[combined]
    return table.get(stage_key)


def validate_stage_mapping(
    mapping: Mapping[str, str | None], departments: set[str] | frozenset[str]
) -> list[str]:
    """Problems with an org's stage mapping, as sentences; empty when it is fine."""
    problems: list[str] = []
    stages = {s.value for s in Stage}
    for key, department in mapping.items():
        stage_key, _, intent = str(key).partition(":")
        if stage_key not in stages:
            problems.append(
                f"{key!r}: unknown stage {stage_key!r}; expected one of {', '.join(sorted(stages))}"
            )
        elif ":" in str(key) and not intent:
            problems.append(f"{key!r}: missing the intent after ':'")
        if department is not None and department not in departments:
            problems.append(f"{key!r}: unknown department {department!r}")
    return problems
