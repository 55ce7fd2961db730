"""Find each evidence quote in the article, deterministically: exact, normalized, then fuzzy.

A model's quote is a claim that the article says something; grounding checks it without a model.
Matching tries, in order:

1. **exact** — the quote occurs verbatim;
2. **normalized** — equal after case folding, collapsing whitespace and unifying quote marks,
   dashes and ellipses (a map keeps every normalized character's source offset);
3. **fuzzy** — rapidfuzz locates the best partial alignment, then the whole-word window around
   it with the highest ``fuzz.ratio`` must score at least ``FUZZY_THRESHOLD`` (0–100), for quotes
   of at least ``FUZZY_MIN_CHARS`` characters. 90 accepts a dropped or changed word in a
   sentence-long quote ("has approved" for "has officially approved" scores 90–94) and rejects
   paraphrase (a reworded clause scores below 85). The located source span, snapped to whole
   words, becomes the quote a reader sees.

Only section text is searched: headings, bylines and an existing "AI Analysis" are not evidence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz

FUZZY_THRESHOLD = 90.0
FUZZY_MIN_CHARS = 24

_QUOTES = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "«": '"',
    "»": '"',
}
_DASHES = dict.fromkeys("‐‑‒–—―−", "-")
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_STRIP = " \t\r\n\"'“”‘’«»"


class MatchKind(StrEnum):
    """How a quote was found in the source."""

    EXACT = "exact"
    NORMALIZED = "normalized"
    FUZZY = "fuzzy"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a quote is in the source: ``source[start:end]`` is the matched text."""

    start: int
    end: int
    match: MatchKind
    score: float


def normalize(text: str) -> tuple[str, list[int]]:
    """Normalized text and, for each of its characters, the offset it came from."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                index.append(i)
            continue
        if ch == "…":
            out.extend("...")
            index.extend((i, i, i))
            continue
        mapped = _QUOTES.get(ch) or _DASHES.get(ch) or ch.lower()
        if len(mapped) != 1:  # e.g. "İ".lower() is two characters; keep offsets one-to-one
            mapped = ch
        out.append(mapped)
        index.append(i)
    return "".join(out), index


class Grounder:
    """Locates quotes within the given regions of one source text."""

    def __init__(self, source: str, regions: Sequence[tuple[int, int]]) -> None:
        self.source = source
        self.regions = list(regions)
        # Normalized on first need: most quotes match exactly, and normalizing is the costly part.
        self._cache: dict[int, tuple[str, list[int]]] = {}

    def _normalized(self, i: int) -> tuple[str, list[int]]:
        if i not in self._cache:
            start, end = self.regions[i]
            norm, index = normalize(self.source[start:end])
            self._cache[i] = (norm, [start + j for j in index])
        return self._cache[i]

    def locate(
        self, quote: str, prefer: int | None = None, *, fuzzy: bool = True
    ) -> Location | None:
        """Find ``quote``; ``prefer`` is the index of the region to try first."""
        quote = quote.strip(_STRIP)
        if quote.endswith(("...", "…")):
            quote = quote.rstrip(".…").rstrip()
        if not quote:
            return None
        order = list(range(len(self.regions)))
        if prefer is not None and 0 <= prefer < len(order):
            order.remove(prefer)
            order.insert(0, prefer)
        for i in order:
            start, end = self.regions[i]
            at = self.source.find(quote, start, end)
            if at >= 0:
                return Location(at, at + len(quote), MatchKind.EXACT, 100.0)
        nquote, _ = normalize(quote)
        nquote = nquote.strip()
        if not nquote:  # only invisible characters: "" is found everywhere, and means nothing
            return None
        for i in order:
            norm, index = self._normalized(i)
            at = norm.find(nquote)
            if at >= 0:
                return Location(
                    index[at], index[at + len(nquote) - 1] + 1, MatchKind.NORMALIZED, 100.0
                )
        # A Chinese or Japanese character carries about what a short word does: count it as 2.
        weight = len(nquote) + sum(1 for c in nquote if _no_space(c))
        if not fuzzy or weight < FUZZY_MIN_CHARS:
            return None
        return self._fuzzy(nquote, order)

    def _fuzzy(self, nquote: str, order: list[int]) -> Location | None:
        best: tuple[float, int, int, int] | None = None  # score, region, start, end
        for i in order:
            norm, _ = self._normalized(i)
            # partial_ratio finds where the quote is; its window has the quote's own length, so
            # a dropped word shifts the end. _refine then scores whole-word windows around it.
            al = fuzz.partial_ratio_alignment(nquote, norm, score_cutoff=FUZZY_THRESHOLD - 15)
            if al is None:
                continue
            found = _refine(nquote, norm, al.dest_start)
            if found and (best is None or found[0] > best[0]):
                best = (found[0], i, found[1], found[2])
        if best is None:
            return None
        score, i, nstart, nend = best
        index = self._normalized(i)[1]
        start, end = self._snap(index[nstart], index[nend - 1] + 1, i)
        return Location(start, end, MatchKind.FUZZY, round(score, 1))

    def _snap(self, start: int, end: int, region: int) -> tuple[int, int]:
        """Widen a fuzzy span to whole words, never past its region."""
        lo, hi = self.regions[region]
        src = self.source
        while start > lo and src[start - 1].isalnum() and not _no_space(src[start - 1]):
            start -= 1
        while end < hi and src[end].isalnum() and not _no_space(src[end]):
            end += 1
        while start < end and src[start].isspace():
            start += 1
        while end > start and (src[end - 1].isspace() or src[end - 1] in ",;:"):
            end -= 1
        return start, end


def _refine(nquote: str, norm: str, around: int) -> tuple[float, int, int] | None:
    """The best-scoring whole-word window of ``norm`` near ``around``: (score, start, end)."""
    n = len(nquote)
    starts = [
        j
        for j in range(max(0, around - 25), min(len(norm), around + 25) + 1)
        if j in (0, len(norm)) or norm[j - 1] == " " or _no_space(norm[j - 1]) or _no_space(norm[j])
    ]
    best: tuple[float, int, int] | None = None
    for j in starts:
        for k in range(j + int(n * 0.75), min(len(norm), j + int(n * 1.35)) + 1):
            if k != len(norm) and norm[k] != " " and not _no_space(norm[k - 1]):
                continue
            score = fuzz.ratio(nquote, norm[j:k], score_cutoff=FUZZY_THRESHOLD)
            if score and (best is None or score > best[0]):
                best = (score, j, k)
    return best


# Scripts written without spaces between words (Chinese, Japanese, Thai...): there every
# character is a word boundary.
_NO_SPACE = re.compile(
    "[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff。、，！？]"
)


def _no_space(char: str) -> bool:
    return _NO_SPACE.match(char) is not None


_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# Thousands separators: comma, point, (narrow) no-break space, space between digits.
_SEPARATORS = re.compile(r"(?<=\d)[,.\u00a0\u202f ](?=\d)")
# Words too common to say anything about support, or to be anyone's name.
STOP = frozenset(
    "a an the and or but of in on at to for from by with as is are was were be been being it its "
    "this that these those he she they we you i his her their our your has have had do does did "
    "not no will would can could may might should said says say also than then there here who "
    "whom which what when where why how all any some more most other such only over after before "
    "into about up out".split()
)
_NAME = re.compile(r"\b[A-Z][\w\-]*(?:['’]s)?")


_SCALED = re.compile(
    r"(\d+(?:[.,]\d+)*)\s?(million|billion|trillion|bn|mn|m|tn|trn)\b", re.IGNORECASE
)
_SCALE_OF = {
    "million": 6, "m": 6, "mn": 6, "billion": 9, "bn": 9, "trillion": 12, "tn": 12, "trn": 12,
}  # fmt: skip


@functools.lru_cache(maxsize=4)
def _scaled(source: str) -> set[tuple[str, int]]:
    """The amounts of ``source`` written with a scale, as (digits, power of ten)."""
    return {
        (_SEPARATORS.sub("", m.group(1)), _SCALE_OF[m.group(2).lower()])
        for m in _SCALED.finditer(source)
    }


@functools.lru_cache(maxsize=4)
def _numbers(source: str) -> set[str]:
    """The numbers of ``source`` as whole tokens, separators removed ("65 000" → "65000")."""
    return {_SEPARATORS.sub("", n) for n in _NUMBER.findall(_SEPARATORS.sub("", source))}


def absent_names(fact: str, source: str, *, names: bool = True) -> list[str]:
    """``absent_terms`` without capitalised stop words: "The" starts a sentence, it names no
    one (the support test and the synthesis gates compare sentences, where that matters)."""
    return [t for t in absent_terms(fact, source, names=names) if t.lower() not in STOP]


def absent_terms(fact: str, source: str, *, names: bool = True) -> list[str]:
    """Numbers and (with ``names``) capitalised names in ``fact`` that never occur in ``source``.

    Numbers are compared as digits, so "65,000" matches "65 000" and "65.000".

    A grounded quote proves the article says something; it does not prove the fact's wording
    does. A number or a name the article never mentions is a sign of invention.
    """
    missing: list[str] = []
    lowered = source.lower()
    # Whole numbers, not substrings: "20%" is not in an article that only says 2022 and 2028.
    numbers = _numbers(source)
    for num in _NUMBER.findall(fact):
        if _SEPARATORS.sub("", num) not in numbers:
            missing.append(num)
    # An amount with its scale is one term: "$1 million" is not in an article whose only
    # "1" is "$1 each" (the 1.5B model wrote a fine the article never gave).
    scaled = _scaled(source)
    for m in _SCALED.finditer(fact):
        number = _SEPARATORS.sub("", m.group(1))
        if number in numbers and (number, _SCALE_OF[m.group(2).lower()]) not in scaled:
            missing.append(f"{m.group(1)} {m.group(2)}")
    for m in _NAME.finditer(fact) if names else ():
        word = re.sub(r"['’]s$", "", m.group(0))
        if word in source:
            continue
        sentence_start = m.start() == 0 or fact[: m.start()].rstrip().endswith((".", "!", "?"))
        if sentence_start and word.lower() in lowered:
            continue  # an ordinary word capitalised because it starts the sentence
        missing.append(word)
    return list(dict.fromkeys(missing))
