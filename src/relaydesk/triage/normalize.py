"""Text normalisation for matching (lexicons, example phrases, keyword rules, banned phrases,
FAQ questions); never for display.

Customers write the same word many ways: with or without Arabic diacritics or Hebrew niqqud,
with Arabic or Persian yeh/kaf, with tatweel, in Thai or Persian digits, stretched ("soooo",
"ههههه"), with zero-width joiners, Thai without spaces. `fold` is the one character-level form
every slice compares words in (triage, routing keywords, guidelines, FAQ); `normalize_for_matching`
adds what triage's word lists need on top of it (placeholders, emoji, squashed letters, Thai
segmentation). Both sides of a comparison always go through the same function.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path

from relaydesk.triage.langid import safe_text

URL_TOKEN = "URL"
USER_TOKEN = "@USER"
EMAIL_TOKEN = "EMAIL"
PLACEHOLDERS = frozenset({URL_TOKEN, USER_TOKEN, EMAIL_TOKEN})
# Clause separators: negation and intensifiers do not reach across them.
CLAUSE_BREAK = "|"

_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|ir|co|me|ly|gl)(?:/\S*)?", re.I
)
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_MENTION_RE = re.compile(r"(?<![\w@])@\w[\w.]*")
# Letters and symbols stretched for emphasis; digits are left alone (1000, Thai laughter 555).
_REPEAT_RE = re.compile(r"([^\d\s])\1{2,}")
_THAI_REPEAT_RE = re.compile(r"([\u0e01-\u0e4e])\1{2,}")
# Gershayim inside a Hebrew abbreviation (צה"ל, בע״מ) is part of the word, not a quotation mark.
_HEBREW_ABBREVIATION_RE = re.compile(r'(?<=[\u05d0-\u05ea])["\u05f4](?=[\u05d0-\u05ea])')
_SPACE_RE = re.compile(r"\s+")
# Emoticons become the emoji with the same meaning, before punctuation is taken apart.
_EMOTICONS: dict[str, str] = {
    ":)": "🙂",
    ":-)": "🙂",
    "(:": "🙂",
    "=)": "🙂",
    ":]": "🙂",
    ":d": "😀",
    ":-d": "😀",
    "xd": "😆",
    ";)": "😉",
    ";-)": "😉",
    ":(": "🙁",
    ":-(": "🙁",
    "):": "🙁",
    ":[": "🙁",
    ":'(": "😢",
    ":/": "😕",
    ":-/": "😕",
    ":@": "😠",
    "<3": "❤",
    "</3": "💔",
}
_EMOTICON_RE = re.compile(
    r"(?:(?<=\s)|^)(?:"
    + "|".join(re.escape(e) for e in sorted(_EMOTICONS, key=len, reverse=True))
    + r")(?=\s|$)"
)
_MAYBE_EMOTICON_RE = re.compile(r"[:;=<]|xd")
# Emoji and pictographs, each made a token of its own.
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff\u3030\u303d\u3297\u3299]"
)
# Skin tones and emoji presentation selectors: 👍🏽 and 👍, ❤️ and ❤ mean the same.
_EMOJI_MODIFIERS_RE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f]")

# Letters customers type interchangeably: Arabic and Persian yeh/kaf, teh marbuta and the
# forms of heh, the hamza seats of alef and waw. One side of each pair is chosen so that a word
# list, a rule keyword and a message meet in the same form.
_ARABIC_UNIFY = {
    "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
    "\u0649": "\u06cc",  # alef maksura
    "\u0626": "\u06cc",  # yeh with hamza
    "\u0643": "\u06a9",  # Arabic kaf -> keheh
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u06c0": "\u0647",  # heh with yeh above (Persian ezafe: خانۀ = خانه)
    "\u06d5": "\u0647",  # ae: what is left of heh-with-yeh-above once its hamza is stripped
    "\u06c1": "\u0647",  # heh goal
    "\u06c2": "\u0647",  # heh goal with hamza above
    "\u0623": "\u0627",  # alef with hamza above
    "\u0625": "\u0627",  # alef with hamza below
    "\u0622": "\u0627",  # alef with madda: آمازون = امازون
    "\u0671": "\u0627",  # alef wasla
    "\u0672": "\u0627",  # alef with wavy hamza above
    "\u0673": "\u0627",  # alef with wavy hamza below
    "\u0624": "\u0648",  # waw with hamza
}
# Digits with a table entry; any other script's decimal digits go through `_OTHER_DIGIT_RE`.
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
_DIGITS |= {0x0E50 + i: str(i) for i in range(10)}
_OTHER_DIGIT_RE = re.compile(r"(?![0-9])\d")  # str patterns: \d is every Unicode decimal digit
_ZWNJ = "\u200c"
_ZERO_WIDTH_REMOVED = (
    "\u200b\u200d\u200e\u200f\u2060\ufeff\u00ad\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _build_table(zwnj: str) -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in _ARABIC_UNIFY.items()}
    table.update(_DIGITS)
    for cp in range(0x064B, 0x0660):  # harakat, tanwin, shadda, sukun, hamza marks
        table[cp] = None
    table[0x0670] = None  # superscript alef
    table[0x0640] = None  # tatweel
    for cp in range(0x06D6, 0x06EE):  # Quranic annotation marks
        table[cp] = None
    for cp in range(0x0591, 0x05C8):  # niqqud and cantillation
        table[cp] = None
    # Maqaf and sof pasuq sit in that block but are punctuation: a hyphen and a full stop.
    table[0x05BE] = " "
    table[0x05C3] = " . "
    for quote in "\u2018\u2019\u02bc\u05f3":  # typographic apostrophes and geresh: part of a word
        table[ord(quote)] = "'"
    # ZWNJ: Persian writes "می‌خواهم" with it, "می خواهم" or "میخواهم" without. Matching that
    # needs both readings (see `fold`), so the table exists in a spaced and a joined version.
    table[ord(_ZWNJ)] = zwnj
    for ch in _ZERO_WIDTH_REMOVED:
        table[ord(ch)] = None
    return table


_TABLE = _build_table(" ")
_TABLE_JOINED = _build_table("")


def _ascii_digit(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match.group(0), 0))


def fold(text: str, *, join_zwnj: bool = False) -> str:
    """The one character-level matching form of RelayDesk (pure): every comparison of words
    (triage lexicons and example phrases, routing keywords, banned phrases, FAQ questions)
    goes through it on both sides.

    NFKC (presentation forms, full-width Latin), case folding, decimal digits of every script ->
    ASCII, Arabic/Persian letter variants unified (ي/ی, ك/ک, ة/ۀ/ە -> ه, آ/أ/إ/ٱ -> ا, ؤ -> و),
    Arabic harakat, tatweel and Quranic marks and Hebrew niqqud removed, typographic apostrophes
    and geresh -> "'", gershayim inside a Hebrew abbreviation removed (צה״ל = צה"ל = צהל), Thai
    sara am kept whole (NFKC would split it) and "เเ" typed for "แ" unified,
    zero-width and bidi controls removed, whitespace runs -> one space. ZWNJ becomes a space,
    or nothing with `join_zwnj` (a matcher that must meet both "می‌خواهم" and "میخواهم" compares
    both forms). Never for display.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TABLE_JOINED if join_zwnj else _TABLE)
    if not text.isascii():
        text = _OTHER_DIGIT_RE.sub(_ascii_digit, text)
        if '"' in text or "\u05f4" in text:
            text = _HEBREW_ABBREVIATION_RE.sub("", text)
        if "\u0e4d\u0e32" in text or "\u0e40\u0e40" in text:
            # NFKC splits sara am (ทำ -> ท + nikhahit + sara aa), which no Thai dictionary spells, so
            # word segmentation then cuts "ทำงาน" apart; and "เเ" (two sara e) is typed for "แ".
            text = text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0e40\u0e40", "\u0e41")
    return " ".join(text.split())


_THAI_RUN_RE = re.compile(r"[\u0e00-\u0e7f]+")
_thai_lock = threading.Lock()
_thai_tokenize: Callable[[str], list[str]] | None = None


def _thai_data_dir() -> str:
    # pythainlp writes into its data dir on import; a read-only home or a container must not break it.
    home = Path.home() / ".cache" / "relaydesk" / "pythainlp"
    for candidate in (home, Path(tempfile.gettempdir()) / "relaydesk-pythainlp"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return str(candidate)
        except OSError:
            continue
    return tempfile.gettempdir()


def _get_thai_tokenizer() -> Callable[[str], list[str]]:
    """pythainlp is imported on first Thai text only: it is slow to import and most text is not Thai."""
    global _thai_tokenize
    if _thai_tokenize is None:
        with _thai_lock:
            if _thai_tokenize is None:
                os.environ.setdefault("PYTHAINLP_DATA_DIR", _thai_data_dir())
                from pythainlp.tokenize import word_tokenize

                def tokenize(text: str) -> list[str]:
                    return list(word_tokenize(text, engine="newmm", keep_whitespace=False))

                tokenize("ทดสอบ")  # loads the dictionary trie under the lock
                _thai_tokenize = tokenize
    return _thai_tokenize


def segment_thai(text: str) -> str:
    """Put spaces between Thai words (newmm, pythainlp's bundled dictionary); other text unchanged."""
    if not _THAI_RUN_RE.search(text):
        return text
    tokenize = _get_thai_tokenizer()
    return _THAI_RUN_RE.sub(lambda m: " " + " ".join(tokenize(m.group(0))) + " ", text)


def thai_word_ends(text: str) -> list[int]:
    """Offsets of `text` where a Thai word ends (newmm), inside every run of Thai letters."""
    if not _THAI_RUN_RE.search(text):
        return []
    tokenize = _get_thai_tokenizer()
    ends: list[int] = []
    for run in _THAI_RUN_RE.finditer(text):
        words = tokenize(run.group(0))
        if "".join(words) != run.group(0):
            continue  # cannot be lined up with the text: the run's own edges are all we know
        offset = run.start()
        for word in words:
            offset += len(word)
            ends.append(offset)
    return ends


def _is_word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LMN" or ch == "'"


def normalize_for_matching(text: str, lang: str | None = None) -> str:
    """The triage matching form of `text`: `fold`, then placeholders, spaced emoji, squashing.

    URLs become " URL ", @mentions " @USER ", e-mail addresses " EMAIL "; emoticons become
    emoji; each emoji stands apart; letters stretched three times or more are cut to two (Thai:
    to one, as Thai doubles letters in ordinary words); letters and digits are unified by `fold`;
    Thai is segmented into words. Punctuation is kept. `lang` is accepted for symmetry with the
    other backends; Thai segmentation depends on Thai letters being present, not on a hint that
    may be wrong.
    """
    del lang
    text = safe_text(text, limit=len(text) if isinstance(text, str) else 0)
    if not text:
        return ""
    text = fold(text)
    # The guards only skip regexes that cannot match: most messages have no link or emoticon.
    if "@" in text:
        text = _EMAIL_RE.sub(f" {EMAIL_TOKEN} ", text)
    if "." in text:
        text = _URL_RE.sub(f" {URL_TOKEN} ", text)
    if "@" in text:
        text = _MENTION_RE.sub(f" {USER_TOKEN} ", text)
    if _MAYBE_EMOTICON_RE.search(text):
        text = _EMOTICON_RE.sub(lambda m: f" {_EMOTICONS[m.group(0)]} ", text)
    text = _EMOJI_MODIFIERS_RE.sub("", text)
    text = _EMOJI_RE.sub(lambda m: f" {m.group(0)} ", text)
    text = _THAI_REPEAT_RE.sub(r"\1", text)
    text = _REPEAT_RE.sub(r"\1\1", text)
    text = segment_thai(text)
    return _SPACE_RE.sub(" ", text).strip()


def _split_chunk(chunk: str) -> list[str]:
    """Words (letters, marks, digits, inner apostrophes), single emoji/symbols; clause breaks kept."""
    if chunk in PLACEHOLDERS:
        return [chunk]
    out: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            token = "".join(word).strip("'")
            if token:
                out.append(token)
            word.clear()

    for ch in chunk:
        if _is_word_char(ch):
            word.append(ch)
            continue
        flush()
        cat = unicodedata.category(ch)
        if cat in ("So", "Sk", "Sm") or _EMOJI_RE.match(ch):
            out.append(ch)
        elif ch in ".!?;,:\u060c\u061b\u061f\u06d4\u0964" and (not out or out[-1] != CLAUSE_BREAK):
            out.append(CLAUSE_BREAK)
    flush()
    return out


def clauses(text: str, lang: str | None = None) -> list[list[str]]:
    """Tokens of `text` grouped by clause (split at . , ! ? ; : and their Arabic forms)."""
    result: list[list[str]] = [[]]
    for chunk in normalize_for_matching(text, lang).split():
        for token in _split_chunk(chunk):
            if token == CLAUSE_BREAK:
                if result[-1]:
                    result.append([])
            else:
                result[-1].append(token)
    return [c for c in result if c]


def tokens(text: str, lang: str | None = None) -> list[str]:
    """The matching tokens of `text`: words, emoji and placeholders, punctuation dropped."""
    return [token for clause in clauses(text, lang) for token in clause]


def thai_words(text: str) -> list[str]:
    """Thai text cut into words (newmm); other text comes back whole."""
    if not _THAI_RUN_RE.search(text):
        return [text]
    return _get_thai_tokenizer()(text)
