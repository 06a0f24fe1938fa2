"""Is a message something nobody could understand ("asdkj qwpeo zzz", "jjjjjjj", "sdfsdf")?

Decided from word frequencies (the `wordfreq` package: how often each word occurs in large
corpora of many languages), so it needs no training data of ours and reads every language
the widget is used in alike. A word is *known* when its Zipf frequency in any of `LANGUAGES`
is at least `KNOWN_ZIPF` (1.5 is about once in 30 million words: rare words, common typos
and product names of real languages pass; keyboard mash does not). A message is gibberish
when fewer than `MIN_KNOWN_SHARE` of its words are known and at least one word also looks
typed at random (no vowel, a letter held down, or no known word at all).

Only words are judged: order numbers, figures, links, email addresses and emoji are left
out, and a message made only of those is never gibberish (it is a detail, or an answer to
"send me the order number"). One-letter words are left out too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")
KNOWN_ZIPF = 1.5
MIN_KNOWN_SHARE = 0.5
_SKIP = re.compile(
    r"https?://\S+|www\.\S+|[^\s@]+@[^\s@]+\.\w+|\b[A-Z]{2,4}-?\d{3,}\b|\S*\d\S*", re.I
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_VOWELS = set("aeiouyàáâãäåæèéêëìíîïòóôõöøœùúûüÿ")
_HELD_DOWN = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class Reading:
    gibberish: bool
    words: int
    known: int

    @property
    def known_share(self) -> float:
        return self.known / self.words if self.words else 1.0

    def scores(self) -> dict[str, float | int]:
        return {"words": self.words, "known": self.known, "share": round(self.known_share, 3)}


@lru_cache(maxsize=20_000)
def word_zipf(word: str) -> float:
    return max(zipf_frequency(word, lang) for lang in LANGUAGES)


def _random_looking(word: str) -> bool:
    return not (set(word) & _VOWELS) or bool(_HELD_DOWN.search(word)) or word_zipf(word) == 0.0


def read(text: str) -> Reading:
    words = [w.lower() for w in _WORD.findall(_SKIP.sub(" ", text))]
    if not words:
        return Reading(gibberish=False, words=0, known=0)
    known = [w for w in words if word_zipf(w) >= KNOWN_ZIPF and not _HELD_DOWN.search(w)]
    share = len(known) / len(words)
    unknown = [w for w in words if w not in known]
    gibberish = share < MIN_KNOWN_SHARE and any(_random_looking(w) for w in unknown)
    return Reading(gibberish=gibberish, words=len(words), known=len(known))


def is_gibberish(text: str) -> bool:
    return read(text).gibberish
