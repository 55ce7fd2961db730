"""Does a quote say its fact? A deterministic test, no model: grounding proves the quote exists;
this checks that the sentences it stands in carry the fact's words, numbers and names.

A fact is *supported* by its passage — the article's sentences that its quote overlaps — when

- at least ``SUPPORT_AT`` (0.6) of the fact's content words occur in the passage (lower-cased,
  stop words left out, a plural or past-tense ending ignored: "voted" meets "vote"), and
- every number and every capitalised name of the fact occurs in the passage.

The 1.5B model writes "The battery was built by a team of engineers" over a quote about 24
permanent staff: 1 content word of 6 is in the passage. A faithful restatement keeps most of
them; an invention, or a name carried over from another paragraph, does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyst.text.quotes import STOP, absent_names
from analyst.text.split import spans

SUPPORT_AT = 0.6
_WORD = re.compile(r"\w+", re.UNICODE)
_ENDING = re.compile(r"(ies|es|ed|ing|s)$")


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` that carry meaning (no stop words, no single letters)."""
    return {w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in STOP}


def stem(word: str) -> str:
    """``word`` without a plural or past-tense ending (words over four letters)."""
    return _ENDING.sub("", word) if len(word) > 4 else word


def overlap(claim: str, context: str) -> float:
    """Share of the claim's content words found in ``context`` (1.0 for a claim without any)."""
    words = content_words(claim)
    return len(words & content_words(context)) / len(words) if words else 1.0


def stemmed_overlap(claim: str, context: str) -> float:
    """``overlap`` with plural and past-tense endings ignored on both sides."""
    words = {stem(w) for w in content_words(claim)}
    found = {stem(w) for w in content_words(context)}
    return len(words & found) / len(words) if words else 1.0


def passage(source: str, start: int, end: int, *, language: str | None = None) -> str:
    """The sentences of ``source`` that ``source[start:end]`` overlaps, joined."""
    found = spans(source, language=language)
    inside = [source[a:b] for a, b in found if a < end and b > start]
    return " ".join(inside) or source[start:end]


@dataclass(frozen=True)
class Support:
    """What the passage of a quote says of its fact."""

    share: float  # of the fact's content words found in the passage
    missing: list[str]  # numbers and names of the fact the passage lacks
    passage: str

    @property
    def supported(self) -> bool:
        """Most of the fact's words, and all its numbers and names, are in the passage."""
        return self.share >= SUPPORT_AT and not self.missing


def check(
    claim: str,
    source: str,
    start: int,
    end: int,
    *,
    names: bool = True,
    language: str | None = None,
) -> Support:
    """How well the sentences around ``source[start:end]`` support ``claim``."""
    around = passage(source, start, end, language=language)
    missing = absent_names(claim, around, names=names)
    return Support(share=round(stemmed_overlap(claim, around), 4), missing=missing, passage=around)
