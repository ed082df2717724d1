"""Rule keywords in the shared matching form; only the rule's own words ever become a regex."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from relaydesk.triage.normalize import fold

# A Latin-script keyword is a whole word: not next to another Latin letter or digit. Thai, Arabic
# or Hebrew letters around it are a word boundary ("refundค่ะ", "خطای404"), as Thai writes
# without spaces and glues digits and English words to its own.
_LATIN_WORD = r"0-9a-z_\u00c0-\u024f\u1e00-\u1eff"


def _is_latin_script(keyword: str) -> bool:
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in keyword)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class Keyword:
    """One rule keyword in the shared matching form (`triage.normalize.fold`), prepared once.

    Latin-script keywords match whole words only; other scripts match anywhere (Thai has no
    spaces and Arabic/Persian/Hebrew attach clitics). `joined` is the keyword with ZWNJ removed
    rather than spaced, so "میخواهم" and "می‌خواهم" find each other.
    """

    raw: str
    normalized: str
    pattern: re.Pattern[str] | None
    joined: str = ""

    @classmethod
    def parse(cls, raw: str) -> Keyword:
        norm = fold(raw)
        pattern = None
        if norm and _is_latin_script(norm):
            # Boundaries only where the keyword itself starts/ends with a word character,
            # so "c++" or "!!!" still match next to letters.
            head = f"(?<![{_LATIN_WORD}])" if _is_word_char(norm[0]) else ""
            tail = f"(?![{_LATIN_WORD}])" if _is_word_char(norm[-1]) else ""
            pattern = re.compile(head + re.escape(norm) + tail)
        return cls(raw, norm, pattern, fold(raw, join_zwnj=True))

    def found_in(self, normalized_text: str, joined_text: str | None = None) -> bool:
        """`normalized_text` is `fold(text)`; `joined_text` is `fold(text, join_zwnj=True)`."""
        if self.pattern is not None:
            return self.pattern.search(normalized_text) is not None
        # Thai has no spaces and Arabic/Persian/Hebrew attach clitics: substring is the right unit.
        if self.normalized in normalized_text:
            return True
        return joined_text is not None and bool(self.joined) and self.joined in joined_text
