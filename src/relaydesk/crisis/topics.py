"""What a storm is about (pure): messages grouped by meaning across languages, each group named by
its most telling words in each of its languages, so "cold coffee", "قهوه سرد" and "กาแฟเย็นชืด" are
one topic.

Grouping is online and greedy (a leader-follower clustering): messages in arrival order, each joins
the group whose centre it is most like if that similarity reaches `JOIN`, else starts a group; the
centre is the running mean. The vectors are the triage model's, each language's mean taken out
(triage/language_means.py), the same space FAQ retrieval uses across languages. A group's words
are those most frequent in it and rare in the other messages (count × log(N / messages with the
word)), function words and words of two letters or fewer left out; Thai is cut into words by the
caller's tokenizer.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from relaydesk.triage.normalize import fold

JOIN = 0.45
MAX_TERMS = 3
_WORD = re.compile(r"[^\W\d_]{3,}")
_THAI = re.compile(r"[\u0E00-\u0E7F]")
# Words that say nothing of a topic, per language (compared folded; short lists on purpose).
STOPWORDS = frozenset(
    fold(w)
    for w in {
        *"the and for you your are was were this that with have has had not but our from they them what when where why how can will just very really all any about after again also been being did does into more most much only other some such than then there these those too was who would could should its it's i'm don't".split(),
        *"این آن که را با از به در برای هم یک است بود شد شده می نمی ما شما من تو او ها های اما یا تا اگر چرا چه کی همه خیلی".split(),
        *"هذا هذه ذلك التي الذي على الى إلى من في عن مع انا أنا انت أنت نحن هم كان كانت لقد قد لا لم لن ما ماذا لماذا كيف كل جدا".split(),
        *"של את על עם זה זאת הוא היא אני אתה אתם אנחנו הם לא כן גם אבל או כי מה למה איך כל מאוד היה הייתה יש אין".split(),
        *"ที่ และ ของ ใน ให้ ได้ ไม่ มี เป็น กับ จะ ก็ แต่ หรือ คือ นี้ นั้น มาก ครับ ค่ะ คะ นะ จ้า".split(),
    }
)


@dataclass(frozen=True)
class Topic:
    members: tuple[int, ...]  # indexes into the messages given
    terms: dict[str, tuple[str, ...]]  # language -> its most telling words


def group(vectors: np.ndarray, join: float = JOIN) -> list[list[int]]:
    """Indexes grouped online by similarity (rows are unit vectors), largest group first."""
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        best, best_sim = -1, join
        for g, total in enumerate(sums):
            centre = total / (np.linalg.norm(total) or 1.0)
            sim = float(centre @ vector)
            if sim >= best_sim:
                best, best_sim = g, sim
        if best < 0:
            groups.append([i])
            sums.append(np.array(vector, dtype=np.float64))
        else:
            groups[best].append(i)
            sums[best] = sums[best] + vector
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def words(text: str, language: str, thai_words: Callable[[str], list[str]]) -> list[tuple[str, str]]:
    """The content words of one message as (matching form, as written): spelling variants count
    as one word, and the page shows it as people wrote it."""
    if language == "th" or _THAI.search(text):
        found = [w.strip() for w in thai_words(text)]
        found = [w for w in found if len(w) >= 2 and _THAI.search(w)] + _WORD.findall(_THAI.sub(" ", text))
    else:
        found = _WORD.findall(text)
    pairs = [(fold(w), w.casefold()) for w in found]
    return [(key, surface) for key, surface in pairs if key and key not in STOPWORDS]


def label(
    groups: Sequence[Sequence[int]],
    texts: Sequence[str],
    languages: Sequence[str],
    thai_words: Callable[[str], list[str]],
    top: int = MAX_TERMS,
) -> list[Topic]:
    """Each group's most telling words per language it holds."""
    said = [words(t, lang, thai_words) for t, lang in zip(texts, languages, strict=True)]
    bags = [{key for key, _ in pairs} for pairs in said]
    written: dict[str, Counter[str]] = {}
    for pairs in said:
        for key, surface in pairs:
            written.setdefault(key, Counter())[surface] += 1
    documents = Counter(w for bag in bags for w in bag)
    total = max(len(bags), 1)
    topics = []
    for members in groups:
        by_language: dict[str, Counter[str]] = {}
        for i in members:
            by_language.setdefault(languages[i], Counter()).update(bags[i])
        terms = {
            lang: tuple(
                written[w].most_common(1)[0][0]
                for w, _ in sorted(
                    counts.items(), key=lambda kv: (-kv[1] * math.log(1 + total / documents[kv[0]]), kv[0])
                )[:top]
            )
            for lang, counts in sorted(by_language.items())
        }
        topics.append(Topic(tuple(members), {k: v for k, v in terms.items() if v}))
    return topics
