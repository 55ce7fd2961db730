"""Comparisons the article itself makes: a change from one value to another, and a multiple
between two amounts it sets side by side (``perspective`` finds the rest)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from analyst.text.amounts import Amount
from analyst.text.derived import Derived, SentenceText, same_noun

_PHYSICAL = frozenset({"energy", "power", "length", "area", "volume", "mass"})
_RISE = re.compile(
    r"\b(rose|risen|rising|up|increased?|grew|grown|jumped|climbed|gained|soared|higher|"
    r"rais\w+|lift\w*|boost\w*|revised)\b",
    re.I,
)
_FALL = re.compile(
    r"\b(fell|fallen|falling|down|decreased?|dropped|declined|slumped|slid|lost|lower\w*|cut|"
    r"reduc\w+|slash\w*)\b",
    re.I,
)
_GENERIC = frozenset("year month week day new last next first time people per".split())
MULTIPLES_PER_ARTICLE = 3


def changes(amounts: Sequence[Amount], sentences: SentenceText) -> list[Derived]:
    found: list[Derived] = []
    for a in amounts:
        if a.is_range and a.dimension in ("percent", "currency", "count", *_PHYSICAL):
            lead = sentences.before(a)
            moved = _RISE.search(lead[-110:]) or _FALL.search(lead[-110:])
            ends = _ends(a)
            if re.search(r"\bfrom\s*$", lead) and moved and ends:
                # "increased this from £6 to £10": one range read as two values, each end an
                # input of its own. Without a verb of change, "from £6 to £10" is a range.
                found.append(_change(*ends, ends[0].value, ends[1].value))
    for a, b in itertools.pairwise(amounts):
        if a.sentence != b.sentence or a.key != b.key or a.is_range or b.is_range:
            continue
        if a.dimension not in ("percent", "currency", "count", *_PHYSICAL):
            continue
        between = sentences.between(a, b)
        lead = sentences.before(a)
        if len(between.split()) > 8 or re.search(r"[;:]|,\s*(?:and|but|while)\b", between):
            continue  # another clause: "…, and inflation slowed to 4.3%" is another measure
        if re.search(r"\bfrom\s*$", lead) and re.search(r"\bto\s*$", between):
            found.append(_change(a, b, a.value, b.value))  # "from X to Y"
        elif re.search(r"\b(?:up|down)\s+from\s*$|\bcompared with\s*$", between):
            found.append(_change(b, a, b.value, a.value))  # "Y, up from X"
    for p, a in itertools.pairwise(amounts):
        # "rose 76% to $1.13bn": the value before the rise.
        if p.sentence != a.sentence or p.dimension != "percent" or p.is_range:
            continue
        if a.dimension not in ("currency", "count", *_PHYSICAL) or a.is_range:
            continue
        lead = sentences.before(p)[-30:]
        between = sentences.between(p, a)
        if not re.fullmatch(r"\s*to\s*", between) or not 0 < p.value < 100:
            continue
        if _RISE.search(lead):
            value = a.value / (1 + p.value / 100)
            found.append(Derived("before", "before_rise", (p, a), value, a.unit, a.approx))
        elif _FALL.search(lead):
            value = a.value / (1 - p.value / 100)
            found.append(Derived("before", "before_fall", (p, a), value, a.unit, a.approx))
    return found


_END = re.compile(r"[^\d]*?-?\d[\d,.]*\s?(?:%|per ?cent|percent|bn|m|million|billion|trillion)?")


def _ends(a: Amount) -> tuple[Amount, Amount] | None:
    """A range's two ends as amounts of their own, with their own text and offsets."""
    parts = re.split(r"\s+(?:to|and)\s+|\s*[-–]\s*", a.surface, maxsplit=1)
    if len(parts) != 2 or a.low is None or a.high is None:
        return None
    first, second = (_END.match(p) for p in parts)
    if first is None or second is None:
        return None
    one = first.group(0).strip()
    two = second.group(0).strip()
    at = a.surface.rfind(parts[1])
    return (
        replace(a, value=a.low, low=None, high=None, surface=one, end=a.start + len(one)),
        replace(
            a, value=a.high, low=None, high=None, surface=two,
            start=a.start + at, end=a.start + at + len(two),
        ),
    )  # fmt: skip


def _change(first: Amount, second: Amount, old: float, new: float) -> Derived:
    inputs = (first, second)
    if first.dimension == "percent":
        return Derived("change", "difference", inputs, new - old, "percentage point", False)
    if old == 0:
        return Derived("change", "difference", inputs, new - old, first.unit, False)
    result = 100 * (new - old) / old
    return Derived("change", "relative", inputs, result, "percent", first.approx or second.approx)


def multiples(
    amounts: list[Amount], sums: list[Derived], done: list[Derived], sentences: SentenceText
) -> list[Derived]:
    together = [{id(a) for a in d.inputs} for d in sums]
    compared = [{id(a) for a in d.inputs} for d in done if d.kind in ("change", "before")]
    candidates: list[tuple[int, float, Derived]] = []  # (-score, ratio, the multiple)
    for a, b in itertools.combinations(amounts, 2):
        if a.key != b.key or a.is_range or b.is_range:
            continue
        if a.dimension not in ("currency", *_PHYSICAL, "count"):
            continue
        if a.dimension == "count" and (not same_noun(a, b) or min(a.value, b.value) < 10):
            continue
        if any({id(a), id(b)} <= group for group in together + compared):
            continue
        big, small = (a, b) if a.value >= b.value else (b, a)
        ratio = big.value / small.value
        if not 1.5 <= ratio <= 1000:
            continue
        score = _comparable(a, b, sentences)
        if not score:
            continue
        approx = a.approx or b.approx
        derived = Derived("multiple", "ratio", (big, small), ratio, "times", approx)
        candidates.append((-score, ratio, derived))
    # The best pairs first, and of two pairs as good the closer in size (a comparison, not a
    # part against a whole); each amount is compared once.
    candidates.sort(key=lambda c: (c[0], c[1]))
    chosen: list[Derived] = []
    used: set[int] = set()
    for _, _, d in candidates:
        if used & {id(a) for a in d.inputs}:
            continue
        chosen.append(d)
        used.update(id(a) for a in d.inputs)
    return chosen[:MULTIPLES_PER_ARTICLE]


_COMPARE = re.compile(
    r"\b(than|compared|comparison|against|versus|vs|dwarf\w*|short of|rival\w*|whereas|"
    r"instead|alternative|would have)\b",
    re.IGNORECASE,
)


def _compares(sentence: str) -> bool:
    # "more than $40,000" bounds an amount; it compares nothing.
    plain = re.sub(r"\b(?:more|less|fewer|greater|higher|lower|better|worse) than\b", " ", sentence)
    return _COMPARE.search(plain) is not None


def _comparable(a: Amount, b: Amount, sentences: SentenceText) -> int:
    """Whether the article itself sets two amounts of one kind against each other: its own
    word of comparison ("than", "dwarfed", "short of", "would have") in their sentences, and
    either one sentence or a word of what they measure in common ("cost"), at most three
    sentences apart. Two figures that only share a sentence ("won 200m gold, while … the
    100m") or a word are not compared; the score orders those that are."""
    distance = abs(a.sentence - b.sentence)
    if distance > 3:
        return 0
    if a.sentence == b.sentence:
        first, second = (a, b) if a.start < b.start else (b, a)
        if re.fullmatch(
            r"\s*(?:\([^)]*\)\s*)?(?:and|to|or|-|–)\s*", sentences.between(first, second)
        ):
            return 0  # "between 150 euros and 300 euros" is one range, not two amounts
    cue = _compares(sentences[a.sentence]) or _compares(sentences[b.sentence])
    shared = (a.words & b.words) - _GENERIC
    if not cue or not (shared or a.sentence == b.sentence):
        return 0
    return 1 + min(len(shared), 2) + (a.sentence == b.sentence)
