"""Rule triggers: words that make one message a potential crisis, whatever the volume (food
poisoning, an injury, a lawsuit, a boycott, a data leak, discrimination, the press), in English,
Persian, Arabic, Hebrew and Thai. Pure; written for RelayDesk, no list copied from elsewhere.

Matching is on whole words after the same folding the triage uses for these scripts (case, Arabic
and Persian letter variants, diacritics, tatweel, ZWNJ as a space), with the clitics that glue to a
word allowed in front of it (Arabic و ف ب ل ال, Hebrew ו ה ב ל מ ש כ), so "والتسمم" and "ותביעה"
match. Thai writes no spaces between words, so a Thai phrase matches anywhere: each is chosen
long and specific enough to mean the thing itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

CATEGORIES: dict[str, dict[str, tuple[str, ...]]] = {
    "food_poisoning": {
        "en": ("food poisoning", "got sick after eating", "made me sick", "threw up", "vomiting",
               "diarrhea", "salmonella", "in hospital after eating"),
        "fa": ("مسمومیت غذایی", "مسموم شدم", "مسموم شدیم", "مسموم شد", "اسهال", "استفراغ", "حالم بد شد بعد از خوردن"),
        "ar": ("تسمم غذائي", "تسممت", "تسمم", "استفراغ", "اسهال", "مرضت بعد الاكل"),
        "he": ("הרעלת מזון", "הורעלתי", "הקאתי", "שלשול", "חליתי אחרי האוכל"),
        "th": ("อาหารเป็นพิษ", "ท้องเสีย", "อาเจียน", "ปวดท้องหลังกิน"),
    },
    "injury": {
        "en": ("injured", "injury", "got hurt", "burned my", "burnt my", "ambulance", "broke my arm", "broke my leg"),
        "fa": ("مجروح", "آسیب دیدم", "زخمی شد", "سوختگی", "آمبولانس"),
        "ar": ("اصابة", "جرح", "حروق", "اسعاف"),
        "he": ("נפצעתי", "פציעה", "נכוויתי", "אמבולנס"),
        "th": ("บาดเจ็บ", "รถพยาบาล", "ลื่นล้ม", "น้ำร้อนลวก"),
    },
    "lawsuit": {
        "en": ("lawsuit", "sue you", "suing", "my lawyer", "legal action", "take you to court"),
        "fa": ("شکایت می کنم", "وکیلم", "دادگاه", "شکایت قانونی"),
        "ar": ("دعوى قضائية", "سأقاضي", "محامي", "المحكمة", "اجراء قانوني"),
        "he": ("תביעה", "אתבע", "עורך הדין שלי", "בית משפט"),
        "th": ("ฟ้องร้อง", "ทนายความ", "ดำเนินคดี", "ขึ้นศาล"),
    },
    "boycott": {
        "en": ("boycott", "never buy again", "never buying again", "tell everyone to stop"),
        "fa": ("تحریم", "بایکوت", "دیگر هرگز نمی خرم"),
        "ar": ("مقاطعة", "قاطعوا", "لن اشتري مرة اخرى"),
        "he": ("חרם", "להחרים", "לא אקנה יותר"),
        "th": ("บอยคอต", "เลิกซื้อ", "แบนร้าน"),
    },
    "data_leak": {
        "en": ("data leak", "data breach", "leaked my", "was hacked", "got hacked", "my data was stolen"),
        "fa": ("نشت اطلاعات", "اطلاعاتم لو رفت", "هک شد", "هک شده"),
        "ar": ("تسريب بيانات", "تسريب", "اختراق", "تم اختراق"),
        "he": ("דליפת מידע", "פריצה", "נפרץ", "המידע שלי דלף"),
        "th": ("ข้อมูลรั่วไหล", "ถูกแฮก", "ข้อมูลส่วนตัวหลุด"),
    },
    "discrimination": {
        "en": ("discrimination", "discriminated", "racist", "sexist"),
        "fa": ("تبعیض", "نژادپرست"),
        "ar": ("تمييز", "عنصري", "عنصرية"),
        "he": ("אפליה", "גזענות", "גזעני"),
        "th": ("เลือกปฏิบัติ", "เหยียดเชื้อชาติ", "เหยียดผิว"),
    },
    "press": {
        "en": ("journalist", "journalists", "reporter", "reporters", "press inquiry", "for an article", "for a story"),
        "fa": ("خبرنگار", "روزنامه نگار"),
        "ar": ("صحفي", "صحفية", "مراسل"),
        "he": ("עיתונאי", "עיתונאית", "כתבה על"),
        "th": ("นักข่าว", "สื่อมวลชน"),
    },
}  # fmt: skip

# What one matching message is worth before any volume: harm to a person, the law and data first.
SEVERITY = {
    "food_poisoning": "high",
    "injury": "high",
    "lawsuit": "high",
    "data_leak": "high",
    "boycott": "medium",
    "discrimination": "medium",
    "press": "medium",
    "influencer": "medium",  # crisis/audience.py: a negative post by an author with many followers
}
_ARABIC_CLITICS = "(?:و|ف|ب|ل|ال|وال|فال|بال|لل)?"
_HEBREW_CLITICS = "[והבלמשכ]{0,2}"
_TRANSLATE = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "أ": "ا", "إ": "ا", "آ": "ا", "ؤ": "و", "ئ": "ی",
                            "ـ": None, "\u200c": " ", "\u200d": None, "\u05be": " "})  # fmt: skip
# Arabic harakat, Hebrew points and cantillation; not the maqaf (U+05BE), which joins two words
_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0591-\u05bd\u05bf-\u05c7]")


def fold(text: str) -> str:
    """Case, compatibility forms, Arabic/Persian letter variants, diacritics, tatweel; ZWNJ -> space."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLATE)
    return " ".join(_MARKS.sub("", folded).split())


def _script(phrase: str) -> str:
    for ch in phrase:
        if "\u0e00" <= ch <= "\u0e7f":
            return "th"
        if "\u0590" <= ch <= "\u05ff":
            return "he"
        if "\u0600" <= ch <= "\u06ff":
            return "ar"
    return "latin"


def _pattern(phrase: str) -> str:
    body = re.escape(fold(phrase)).replace(r"\ ", r"\s+")
    script = _script(phrase)
    if script == "th":
        return body
    clitics = {"ar": _ARABIC_CLITICS, "he": _HEBREW_CLITICS}.get(script, "")
    return rf"(?<!\w){clitics}{body}(?!\w)"


@dataclass(frozen=True)
class TriggerHit:
    category: str
    phrase: str  # as written in the list
    span: tuple[int, int]  # in the folded text


class TriggerSet:
    """The built-in phrases plus an organisation's own, compiled once."""

    def __init__(self, extra: Mapping[str, Iterable[str]] | None = None) -> None:
        phrases: list[tuple[str, str]] = [
            (category, phrase) for category, by_language in CATEGORIES.items() for items in by_language.values()
            for phrase in items
        ]  # fmt: skip
        for category, items in (extra or {}).items():
            phrases += [(category, p) for p in items if p.strip()]
        self.phrases = phrases
        self._regex = re.compile("|".join(f"(?P<p{i}>{_pattern(p)})" for i, (_, p) in enumerate(phrases)))

    def hits(self, text: str) -> list[TriggerHit]:
        folded = fold(text[:5000])
        found: list[TriggerHit] = []
        for match in self._regex.finditer(folded):
            index = int((match.lastgroup or "p0")[1:])
            category, phrase = self.phrases[index]
            found.append(TriggerHit(category, phrase, match.span()))
        return found

    def categories(self, text: str) -> dict[str, list[str]]:
        """{category: the phrases found}, each category once."""
        out: dict[str, list[str]] = {}
        for hit in self.hits(text):
            out.setdefault(hit.category, [])
            if hit.phrase not in out[hit.category]:
                out[hit.category].append(hit.phrase)
        return out


@lru_cache(maxsize=1)
def builtin() -> TriggerSet:
    return TriggerSet()


def severity_of(category: str, messages: int) -> str:
    if messages >= 5:
        return "high"
    return SEVERITY.get(category, "medium")
