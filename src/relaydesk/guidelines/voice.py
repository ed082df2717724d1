"""Tone of a draft reply (pure): shouting, piled-up exclamation marks, blaming the customer,
sarcasm, and promises the brand cannot keep, in English, Persian, Arabic, Hebrew and Thai.

The phrase lists are short, hand-written and deliberately conservative: a tone finding is a
warning the agent reads, so a phrase that is often innocent ("definitely") stays out. Phrases are
matched as whole words in the shared folded form (`triage.phrases`), so Arabic and Persian letter
variants, Hebrew and Arabic clitics and Thai word boundaries are handled as in banned phrases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from relaydesk.triage.phrases import SearchText, phrase_spans

TONES = ("all_caps", "exclamation", "blame", "sarcasm", "promise")

BLAME = (
    # en
    "your fault", "you should have", "you should've", "you didn't read", "you did not read",
    "as i already said", "as we already said", "as we already told you", "not our fault",
    "not our problem", "you failed to", "read the instructions",
    # fa
    "تقصیر خودتان", "تقصیر خودته", "تقصیر شماست", "مشکل از شماست", "باید دقت می‌کردید",
    "قبلا گفته بودیم", "مشکل ما نیست", "خودتان اشتباه کردید",
    # ar
    "خطأك", "غلطتك", "كان عليك", "ليست مشكلتنا", "ليس خطأنا", "كما قلنا سابقا", "أنت المسؤول",
    # he
    "באשמתך", "זו אשמתך", "היית צריך", "היית צריכה", "כמו שכבר אמרנו", "זו לא הבעיה שלנו",
    "לא באשמתנו",
    # th
    "ความผิดของคุณ", "คุณผิดเอง", "ไม่ใช่ความผิดของเรา", "ไม่ใช่ปัญหาของเรา", "บอกไปแล้ว",
)  # fmt: skip

SARCASM = (
    # en
    "yeah right", "good luck with that", "as if", "thanks a lot", "wow just wow", "/s",
    # fa
    "آره جون خودت", "چه عجب", "دست شما درد نکنه واقعا",
    # ar
    "يا سلام عليك", "برافو عليك", "طبعا طبعا",
    # he
    "בטח בטח", "ברור ברור", "כל הכבוד לך באמת",
    # th
    "เก่งจังเลยนะ", "เชิญตามสบาย", "ก็แล้วแต่คุณ",
)  # fmt: skip
# Eye-rolling and unamused faces read as sarcasm in any language.
SARCASM_SIGNS = ("🙄", "😒", "🙃")

PROMISE = (
    # en
    "we guarantee", "i guarantee", "guaranteed", "we promise", "i promise", "never happen again",
    "100% sure", "will never happen", "within the hour",
    # fa
    "تضمین می‌کنیم", "تضمین میکنیم", "قول می‌دهیم", "قول میدم", "قول می‌دهم", "دیگر تکرار نمی‌شود",
    "صد در صد",
    # ar
    "نضمن لك", "نعدك", "أعدك", "لن يتكرر أبدا", "لن يتكرر ذلك", "مئة بالمئة",
    # he
    "אנחנו מבטיחים", "אני מבטיח", "אני מבטיחה", "מובטח לך", "זה לא יקרה שוב", "מאה אחוז",
    # th
    "รับประกันว่า", "สัญญาว่า", "ไม่เกิดขึ้นอีกแน่นอน", "ร้อยเปอร์เซ็นต์",
)  # fmt: skip

# Letters with case: Latin, Greek, Cyrillic. Arabic, Hebrew and Thai have none, so never "shout".
_CASED_WORD = re.compile(r"[^\W\d_]{3,}")
_EXCLAIM = re.compile(r"[!！¡]{2,}|[!！?？؟]{3,}")
MAX_EXCLAMATIONS = 3


@dataclass(frozen=True)
class ToneHit:
    tone: str
    spans: tuple[tuple[int, int], ...]
    example: str  # what was found, for the agent


def _shouting(text: str) -> tuple[tuple[int, int], ...]:
    """Runs of two or more all-capital words of three letters or more ("PLEASE STOP"), or a
    whole reply in capitals; a lone acronym ("FAQ", "USA") is not shouting."""
    words = [m for m in _CASED_WORD.finditer(text) if m.group(0).lower() != m.group(0).upper()]
    if not words:
        return ()
    caps = [m for m in words if m.group(0).isupper()]
    if len(words) >= 3 and len(caps) == len(words):
        return ((words[0].start(), words[-1].end()),)
    spans: list[tuple[int, int]] = []
    run: list[re.Match[str]] = []
    for m in words:
        if m.group(0).isupper() and (not run or text[run[-1].end() : m.start()].strip(" ,.!?-") == ""):
            run.append(m)
            continue
        if len(run) >= 2:
            spans.append((run[0].start(), run[-1].end()))
        run = [m] if m.group(0).isupper() else []
    if len(run) >= 2:
        spans.append((run[0].start(), run[-1].end()))
    return tuple(spans)


def _exclaiming(text: str) -> tuple[tuple[int, int], ...]:
    piled = tuple(m.span() for m in _EXCLAIM.finditer(text))
    if piled:
        return piled
    marks = [i for i, ch in enumerate(text) if ch in "!！"]
    if len(marks) > MAX_EXCLAMATIONS:
        return tuple((i, i + 1) for i in marks)
    return ()


def _phrases(
    text: str, searchable: SearchText, phrases: Iterable[str]
) -> tuple[tuple[tuple[int, int], ...], str]:
    spans: list[tuple[int, int]] = []
    first = ""
    for phrase in phrases:
        found = phrase_spans(text, phrase, searchable)
        if found:
            spans.extend(found)
            first = first or phrase
    return tuple(sorted(set(spans))), first


def tone_hits(text: str, tones: Iterable[str] = TONES, searchable: SearchText | None = None) -> list[ToneHit]:
    """What each asked-for tone finds in `text` (tones that find nothing are left out)."""
    wanted = set(tones)
    hits: list[ToneHit] = []
    if "all_caps" in wanted and (spans := _shouting(text)):
        hits.append(ToneHit("all_caps", spans, text[spans[0][0] : spans[0][1]][:40]))
    if "exclamation" in wanted and (spans := _exclaiming(text)):
        hits.append(ToneHit("exclamation", spans, text[spans[0][0] : spans[0][1]]))
    phrase_tones = [("blame", BLAME), ("sarcasm", SARCASM), ("promise", PROMISE)]
    if wanted & {t for t, _p in phrase_tones}:
        searchable = searchable or SearchText.of(text)
        for tone, phrases in phrase_tones:
            if tone not in wanted:
                continue
            spans, first = _phrases(text, searchable, phrases)
            if tone == "sarcasm":
                signs = tuple((i, i + 1) for i, ch in enumerate(text) if ch in SARCASM_SIGNS)
                spans = tuple(sorted(set(spans) | set(signs)))
                first = first or (text[signs[0][0]] if signs else "")
            if spans:
                hits.append(ToneHit(tone, spans, first))
    return hits
