"""What every reader of amounts shares: the ``Amount``, what is not a quantity (years, list
numbers), how an amount is hedged ("about", "up to"), what a count counts and what its clause
says it measures. ``amounts`` reads English with quantulum3, ``amounts_l10n`` other languages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyst.text.carries import content_words, stem

Span = tuple[int, int]
YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d|21\d\d)(?:s|'s|’s)?$")
_LIST_BEFORE = re.compile(
    r"(?:\bNo\.?|\bnumber|#|\bpage|\bchapter|\bsection|\barticle|\bversion|\bpart|\bstep|"
    r"\bgrade|\blevel|\bpoint|\broute|\bflight|\bmodel|\bGemini|\biPhone)\s*$",
    re.IGNORECASE,
)
APPROX = re.compile(
    r"(?:\babout|\baround|\broughly|\bapproximately|\bnearly|\balmost|\bsome|\bestimated|"
    r"\bup to|\bmore than|\bover|\bless than|\bunder|\bat least|\bat most|\bfewer than|"
    r"\bclose to|\bjust over|\bjust under)\s*(?:an?\s+)?(?:estimated\s+)?$",
    re.IGNORECASE,
)
WORD = re.compile(r"[^\W\d_][\w'’-]*")
NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred thousand million billion trillion dozen half".split()
)


@dataclass(frozen=True)
class Amount:
    """One quantity the article states."""

    value: float  # in the unit's base (dollars, watts, a count), ranges at their midpoint
    unit: str  # "dollar", "watt hour", "percent", "percentage point", "" (a count)
    dimension: str  # "currency", "count", "percent", "power", "energy", "time", ...
    start: int  # offsets in the article's text
    end: int
    sentence: int  # the index of its sentence in the spans it was found in
    surface: str
    approx: bool = False
    low: float | None = None  # a range's ends, in the order written
    high: float | None = None
    per: str | None = None  # a rate: "$38 a year" is per "year"
    noun: str | None = None  # what a count counts: "homes" in "200,000 homes"
    qualifier: str | None = None  # "about", "up to", "more than": how the article hedges it
    words: frozenset[str] = field(default_factory=frozenset)  # its clause's stemmed words

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What must be equal for two amounts to be compared: dimension, unit, rate."""
        return self.dimension, self.unit, self.per

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.high is not None


def not_a_quantity(sentence: str, start: int, digits: str) -> bool:
    """A year, a list or page number, an ordinal, a time of day or part of a score."""
    plain = digits.strip()
    if YEAR.match(plain) or "/" in plain:
        return True  # a year, or "1958/59"
    if re.search(r"\b[A-Z][\w-]*\s$", sentence[max(0, start - 20) : start]) and not re.search(
        r"\b(?:About|Some|Nearly|Almost|Over|Only|Just|Around|The|A|An|In|At|By|On|Of|To)\s$",
        sentence[max(0, start - 20) : start],
    ):
        return True  # "Fortune 500", "Formula 1", "Boeing 747": part of a name
    if _LIST_BEFORE.search(sentence, 0, start):
        return True
    after = sentence[start + len(digits) : start + len(digits) + 5]
    before = sentence[max(0, start - 1) : start]
    if re.match(r"(?:st|nd|rd|th)\b|[:–/-]\d|\.\d|\s?[ap]\.?m\b", after) or (
        before and before in "–-/:"
    ):
        return True
    return start == 0 and re.match(r"\d+[.)]\s", sentence) is not None  # "1. First item"


_NOT_NOUNS = frozenset(
    "of to in and or for a an the on at by said says was were is are has have had will would "
    "from with than as per each more less".split()
)


def qualifier(sentence: str, start: int) -> str | None:
    m = APPROX.search(sentence, 0, start)
    return " ".join(m.group(0).split()).lower() if m else None


def noun_after(sentence: str, end: int) -> str | None:
    """The word a count counts ("1,400 freight trips" → "trips"): the last of up to two words
    after it that are not function words."""
    after = sentence[end : end + 40]
    if not re.match(r"\s+[^\W\d_]", after):
        return None  # "24," "11 of them": nothing named right after it
    words = [w.lower() for w in WORD.findall(after)[:2]]
    if not words or words[0] in _NOT_NOUNS or words[0].endswith("ly"):
        return None
    # "1,400 freight trips", "24 permanent staff": the second word when the first describes
    # it (not when the first is already plural, nor when the second is a verb: "people died").
    first: str = words[0]
    if len(words) == 2 and not first.endswith("s") and words[1] not in _NOT_NOUNS:
        if not words[1].endswith(("ly", "ed")):
            return str(words[1])
    return first


_CLAUSE = re.compile(r"[,;:()—–]|\band\b|\bbut\b|\bwhile\b|\bwhich\b")


EVERY = re.compile(r"\b(?:each|every|per|a) (year|month|week|day)\b|\bannually\b", re.I)


def clause(sentence: str, start: int, end: int) -> str:
    left = max((m.end() for m in _CLAUSE.finditer(sentence, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE.finditer(sentence, end)), len(sentence))
    return sentence[left:start] + " " + sentence[end:right]


def clause_words(sentence: str, start: int, end: int) -> frozenset[str]:
    """The stemmed content words of the clause the amount stands in: what it measures."""
    around = clause(sentence, start, end)
    # Names say whose figure it is, not what it measures: "TimeWarner" profit and sales
    # are not one thing.
    names = {w.lower() for w in WORD.findall(around) if w[:1].isupper()}
    words = content_words(around) - names
    return frozenset(
        stem(w) for w in words if not any(c.isdigit() for c in w) and w not in NUMBER_WORDS
    )
