"""`relaydesk bench guidelines`: checking a 1,000-character reply against a brand's guidelines.

Every kind of guideline at once (200 banned phrases in five languages, tone, greeting, the agent's
name, personal data, language, the network's length, allowed links, an own pattern, a length
limit) on replies of 1,000 characters in English, Persian, Arabic, Hebrew and Thai, each reply new
(so no cache answers), timed per reply. The baseline, in the same run, is the simplest checker
there is: a case-folded substring test of the same banned phrases. The issue's target: under
20 ms per reply.

Last line: `guidelines ratio=R value=V unit=ms_p99` with V the p99 of RelayDesk's check over every
language and R = V / the baseline's p99.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from relaydesk.guidelines.checks import Guideline, check_reply
from relaydesk.triage.langid import detect_language

SENTENCES = {
    "en": "Hello, thanks for writing to us. Your order left our warehouse today and should reach you soon.",
    "fa": "سلام، ممنون که با ما تماس گرفتید. سفارش شما امروز از انبار ارسال شد و به زودی می‌رسد.",
    "ar": "مرحبا، شكرا لتواصلك معنا. تم شحن طلبك اليوم من المستودع وسيصلك قريبا إن شاء الله.",
    "he": "שלום, תודה שפניתם אלינו. ההזמנה שלכם יצאה היום מהמחסן ותגיע אליכם בקרוב.",
    "th": "สวัสดีค่ะ ขอบคุณที่ติดต่อเรา สินค้าของคุณส่งออกจากคลังวันนี้แล้ว และจะถึงมือคุณเร็วๆ นี้ค่ะ",
}
PHRASE_WORDS = {
    "en": ["free forever", "cheap", "lawsuit", "stupid", "refund guaranteed"],
    "fa": ["رایگان برای همیشه", "ارزان", "شکایت", "احمق", "تضمینی"],
    "ar": ["مجانا للأبد", "رخيص", "دعوى", "غبي", "مضمون"],
    "he": ["בחינם לתמיד", "זול", "תביעה", "טיפש", "מובטח"],
    "th": ["ฟรีตลอดไป", "ถูกมาก", "ฟ้องร้อง", "โง่", "รับประกันคืนเงิน"],
}


def guideline_set() -> list[Guideline]:
    phrases = [f"{w} {i}" if i else w for i in range(8) for ws in PHRASE_WORDS.values() for w in ws][:200]
    return [
        Guideline("banned", "banned_phrase", {"phrases": phrases}),
        Guideline("tone", "tone", {}),
        Guideline("greeting", "require_greeting", {}),
        Guideline("signed", "require_name", {}),
        Guideline("private", "pii", {}),
        Guideline("language", "language", {}),
        Guideline("fits", "network_length", {}),
        Guideline("links", "allowed_links", {"domains": ["shop.example"]}),
        Guideline("own", "pattern", {"pattern": r"refund\s+in\s+\d+\s+days"}),
        Guideline("length", "max_length", {"max_chars": 2000}),
    ]


def replies(language: str, count: int, rng: random.Random) -> list[str]:
    """`count` distinct 1,000-character replies in `language` (a number makes each one new)."""
    out = []
    for _ in range(count):
        text = f"{SENTENCES[language]} {rng.randrange(10**5, 10**6)} "
        while len(text) < 1000:
            text += SENTENCES[language] + " "
        out.append(text[:1000])
    return out


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_bench(repeats: int = 200, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    rules = guideline_set()
    phrases = [p.casefold() for p in rules[0].params["phrases"]]

    def language_of(text: str) -> str:
        return detect_language(text).lang

    # Loading the language detector and Thai word segmentation is once per process, not per reply.
    for language, sentence in SENTENCES.items():
        check_reply(
            sentence, rules, language=language, detect_language=language_of, network="x", agent_name="Sam"
        )
    per_language: dict[str, Any] = {}
    ours_all: list[float] = []
    base_all: list[float] = []
    for language in SENTENCES:
        ours: list[float] = []
        base: list[float] = []
        for text in replies(language, repeats, rng):
            start = time.perf_counter()
            folded = text.casefold()
            _ = [p for p in phrases if p in folded]
            base.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            check_reply(
                text, rules, language=language, detect_language=language_of, network="x", agent_name="Sam"
            )
            ours.append((time.perf_counter() - start) * 1000)
        per_language[language] = {
            "p50_ms": round(statistics.median(ours), 2),
            "p99_ms": round(_p(ours, 0.99), 2),
            "baseline_p99_ms": round(_p(base, 0.99), 3),
        }
        ours_all += ours
        base_all += base
    p99 = _p(ours_all, 0.99)
    base_p99 = _p(base_all, 0.99)
    return {
        "reply_chars": 1000,
        "guidelines": len(rules),
        "banned_phrases": len(phrases),
        "replies_per_language": repeats,
        "per_language": per_language,
        "p50_ms": round(statistics.median(ours_all), 2),
        "p99_ms": round(p99, 2),
        "baseline_p99_ms": round(base_p99, 3),
        "target_ms": 20,
        "line": f"guidelines ratio={p99 / max(base_p99, 1e-6):.1f} value={p99:.2f} unit=ms_p99",
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run_bench(), indent=2))
