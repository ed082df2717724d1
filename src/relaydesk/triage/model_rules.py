"""How the model triager reads its probabilities: the sentiment rules that settle an intent, the
signals, and the urgency the model adds to the lexicon's.
"""

from __future__ import annotations

from relaydesk.core.enums import Urgency
from relaydesk.triage import spam_cues
from relaydesk.triage.base import TriageInput, TriageResult
from relaydesk.triage.fewshot import IntentMatch

URGENCY_ORDER = [Urgency.LOW.value, Urgency.NORMAL.value, Urgency.HIGH.value, Urgency.CRITICAL.value]
# A care desk reads a negative message as a complaint unless it clearly is something else:
# with no intent matched, a negative argmax is enough; a question or feedback ("why is my
# flight late AGAIN?") needs this much negative probability. Set a priori, not fitted.
COMPLAINT_FROM_NEGATIVE = 0.60
# sentiment that contradicts a matched built-in intent overrides it above this probability
CONTRADICTION = 0.70
FOLLOWERS_HIGH = 10_000
# built-in intents that are a customer's problem: the `complaint` signal
COMPLAINT_INTENTS = frozenset({"complaint", "order_issue"})


def max_urgency(*levels: str) -> str:
    return max(levels, key=lambda u: URGENCY_ORDER.index(u) if u in URGENCY_ORDER else 1)


def signals(
    builtin_intent: str | None,
    cue: TriageResult | None,
    text: str = "",
    lang: str | None = None,
    reasons: list[str] | None = None,
) -> tuple[bool, bool, bool]:
    """(spam, crisis, complaint) from the built-in reading, the lexicon's crisis words and what spam
    says (`spam_cues`)."""
    crisis = builtin_intent == "crisis" or bool(cue and (cue.crisis or cue.intent == "crisis"))
    spam = builtin_intent == "spam"
    if not spam and text:
        reading = spam_cues.read(text, lang)
        if reading.spam:
            spam = True
            if reasons is not None:
                reasons.append(f"spam: {', '.join(reading.kinds)}")
    return spam, crisis, builtin_intent in COMPLAINT_INTENTS


def adjust_intent(
    intent: str | None, match: IntentMatch, sent: dict[str, float], reasons: list[str]
) -> str | None:
    """Sentiment settles what the examples alone cannot (built-in names only)."""
    neg, pos = sent.get("negative", 0.0), sent.get("positive", 0.0)
    known = set(match.scores)
    if intent == "praise" and neg >= CONTRADICTION and "complaint" in known:
        reasons.append(f"praise contradicted by negative sentiment {neg:.2f}: complaint")
        return "complaint"
    if intent == "complaint" and pos >= CONTRADICTION and "feedback" in known:
        reasons.append(f"complaint contradicted by positive sentiment {pos:.2f}: feedback")
        return "feedback"
    if "complaint" not in known:
        return intent
    if intent is None and neg >= max(sent.values()):
        reasons.append(f"no intent matched but sentiment is negative ({neg:.2f}): complaint")
        return "complaint"
    if intent in ("question", "feedback") and neg >= COMPLAINT_FROM_NEGATIVE:
        reasons.append(f"{intent} with negative sentiment ({neg:.2f}): complaint")
        return "complaint"
    return intent


def cheap_intent(cue_intent: str | None, sent: dict[str, float], reasons: list[str]) -> str | None:
    """The lexicon's intent, with the same sentiment rules the e5 path applies."""
    neg, pos = sent.get("negative", 0.0), sent.get("positive", 0.0)
    reasons.append(f"intent from lexicon cues (cascade): {cue_intent}")
    if cue_intent == "praise" and neg >= CONTRADICTION:
        reasons.append(f"praise contradicted by negative sentiment {neg:.2f}: complaint")
        return "complaint"
    if cue_intent == "complaint" and pos >= CONTRADICTION:
        reasons.append(f"complaint contradicted by positive sentiment {pos:.2f}: feedback")
        return "feedback"
    if cue_intent is None and neg >= max(sent.values()):
        reasons.append(f"no intent cue but sentiment is negative ({neg:.2f}): complaint")
        return "complaint"
    if cue_intent in ("question", "feedback") and neg >= COMPLAINT_FROM_NEGATIVE:
        reasons.append(f"{cue_intent} with negative sentiment ({neg:.2f}): complaint")
        return "complaint"
    return cue_intent


def model_urgency(item: TriageInput, crisis: bool, sent: dict[str, float], reasons: list[str]) -> str:
    neg = sent.get("negative", 0.0)
    if crisis:
        reasons.append("urgency high: crisis signal")
        return Urgency.HIGH.value
    if neg >= 0.6 and (item.author_followers or 0) >= FOLLOWERS_HIGH:
        reasons.append(f"urgency high: negative and {item.author_followers} followers")
        return Urgency.HIGH.value
    if neg >= 0.6 and item.previous_negative >= 2:
        reasons.append(f"urgency high: negative again ({item.previous_negative} before)")
        return Urgency.HIGH.value
    return Urgency.LOW.value  # nothing to raise: the cues (or "normal") stand
