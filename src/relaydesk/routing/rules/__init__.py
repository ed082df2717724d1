"""Ordered, declarative routing rules: validated when an org saves them, evaluated per message.

A rule is ``{"name": "leads", "when": {...}, "then": {...}, "stop": false}``. Every key of
``when`` must match (a list value means any-of; a missing key means no constraint). Rules run
in order: the first matching rule that sets a department / assignee / team wins, priority
becomes the highest asked for, tags / notify / approvers accumulate, require_approval is ORed
(naming ``approvers`` — roles such as ``manager`` or people such as ``@hannah`` — implies it), and a
matching rule with ``stop: true`` ends evaluation. With no department from any rule, the
intent's department applies, then the purchase stage's, then the org's default.

`intent` is one of the organisation's intents (the built-in ones when it defines none); triage's
signals are conditions of their own (`spam: true`, `crisis: true`, `complaint: true`), and
`intent: spam` / `intent: crisis` match the signal too, so rules written for the built-in
intents keep working for an organisation with its own vocabulary. Spam (either way) is tagged
and kept out of assignment unless a rule routes it.

Every decision carries human reasons and a per-rule trace, because a routing decision a
team lead cannot explain is a decision they cannot fix.

Keywords are matched in the shared matching form of every slice (`triage.normalize.fold`: letter
variants, digits of every script, diacritics). Only the rule's own
keywords, passed through `re.escape`, ever become a regex; customer text never does.

The package holds one job per module: `vocabulary` (the words a rule may use), `keywords`,
`records` (input and decision), `conditions`, `rule`, `problems`, `compiler`, `validate`,
`evaluate` and `explain`. Import from the package; the module layout may change.
"""

from relaydesk.routing.rules.conditions import (
    AnyCheck,
    Check,
    CheckResult,
    Condition,
    ContactAtLeastCheck,
    ContactAttributeCheck,
    ContactVipCheck,
    KeywordsCheck,
    LocationCheck,
    MemberCheck,
    NotCheck,
    SignalCheck,
    TimeCheck,
    UrgencyAtLeastCheck,
)
from relaydesk.routing.rules.evaluate import evaluate
from relaydesk.routing.rules.explain import explain
from relaydesk.routing.rules.keywords import Keyword
from relaydesk.routing.rules.problems import RuleError, RuleProblem
from relaydesk.routing.rules.records import RouteDecision, RouteInput, RuleTrace
from relaydesk.routing.rules.rule import Actions, Rule
from relaydesk.routing.rules.validate import compile_rules, validate_rules
from relaydesk.routing.rules.vocabulary import (
    CONTACT_FIELDS,
    DAYS,
    PRIORITY_RANK,
    RULE_FIELDS,
    THEN_FIELDS,
    TIME_FIELDS,
    URGENCY_ORDER,
    WHEN_FIELDS,
)

__all__ = [
    "CONTACT_FIELDS",
    "DAYS",
    "PRIORITY_RANK",
    "RULE_FIELDS",
    "THEN_FIELDS",
    "TIME_FIELDS",
    "URGENCY_ORDER",
    "WHEN_FIELDS",
    "Actions",
    "AnyCheck",
    "Check",
    "CheckResult",
    "Condition",
    "ContactAtLeastCheck",
    "ContactAttributeCheck",
    "ContactVipCheck",
    "Keyword",
    "KeywordsCheck",
    "LocationCheck",
    "MemberCheck",
    "NotCheck",
    "RouteDecision",
    "RouteInput",
    "Rule",
    "RuleError",
    "RuleProblem",
    "RuleTrace",
    "SignalCheck",
    "TimeCheck",
    "UrgencyAtLeastCheck",
    "compile_rules",
    "evaluate",
    "explain",
    "validate_rules",
]
