"""Numbers in perspective: what code can derive from an article's amounts, and prove.

Each derivation names its operation, its inputs (amounts the article states, with their spans)
and its result, so anyone can recompute it (``recompute``). Only what an analyst would compute:

- **sum**: parts that add up to a stated whole ($250 M + $95 M + $67 M = $412 M), with each
  part's share; a **discrepancy** when parts that say they complete a whole ("the remaining
  $60 million") do not add up to it;
- **share**: the largest part's share of its whole, and "11 of them" of a count before it;
- **multiple**: two amounts of one kind about one thing (rehabilitation $180 M against the
  replacement's $412 M: 2.3 ×);
- **rate**: a cost per unit it buys (cost per MWh, per MW, per home), and a rate over its
  duration ("$38 a year for twenty years": $760);
- **change**: from one value to another ("fell from 4.75% to 4.5%": −0.25 points), and the value
  before a stated rise ("rose 76% to $1.13bn": $642 million a year before);
- **whole**: what a part and its share imply ("90 jobs - 17% of the staff": about 530).

Amounts are paired only when they measure the same thing: one currency (never dollars against
pounds), one unit after SI prefixes (MW with GW), the same rate basis ("a year" apart from a
lump sum), counts only of the same noun; never years or list numbers (``amounts`` drops those).
A pair must also share a word of what it measures, stand in one sentence, or be linked by the
article's own words ("remaining", "from … to"): two numbers that merely coexist are left alone.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from analyst.text.amounts import Amount, Span
from analyst.text.support import stem


@dataclass(frozen=True)
class _Text:
    """The article's text and its sentences' spans, to read around an amount."""

    text: str
    spans: Sequence[Span]

    def __getitem__(self, index: int) -> str:
        a, b = self.spans[index]
        return self.text[a:b]

    def before(self, amount: Amount) -> str:
        return self.text[self.spans[amount.sentence][0] : amount.start]

    def after(self, amount: Amount) -> str:
        return self.text[amount.end : self.spans[amount.sentence][1]]

    def between(self, a: Amount, b: Amount) -> str:
        return self.text[a.end : b.start]


# Words of a clause that say what an amount is paid for (a rate's numerator).
_COST = frozenset(
    "cost price spend spent invest paid pay budget fund worth valu bill charg".split()
)
# Counts a cost can be divided by: what it buys or serves.
_PER_COUNT = frozenset(
    "hom household job resident staff employee student unit vehicle passenger user customer "
    "patient bed school house flat apartment".split()
)
_PHYSICAL = frozenset({"energy", "power", "length", "area", "volume", "mass"})
_REST = re.compile(r"\b(remaining|rest|balance|remainder)\b", re.IGNORECASE)
_LINK = frozenset("remain rest balanc remainder total combin together split".split())
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
WINDOW = 5  # sentences a set of parts may span


@dataclass(frozen=True)
class Derived:
    """One derivation: its kind, the operation that recomputes it, inputs, result and unit."""

    kind: str  # sum | share | multiple | rate | total | change | before | whole | discrepancy
    operation: str  # sum | ratio | share | difference | product | before_rise | before_fall
    inputs: tuple[Amount, ...]
    result: float
    unit: str  # of the result: "dollar", "percent", "times", "dollar per watt hour", ...
    approx: bool


def recompute(operation: str, values: Sequence[float]) -> float:
    """The result of ``operation`` on the inputs' values, as a derivation computes it."""
    if operation == "sum":
        return sum(values[:-1])  # the last input is the whole the parts are compared with
    if operation == "share":
        return 100 * values[0] / values[1]
    if operation == "ratio":
        return values[0] / values[1]
    if operation == "difference":
        return values[1] - values[0]
    if operation == "relative":
        return 100 * (values[1] - values[0]) / values[0]
    if operation == "product":
        return values[0] * values[1]
    if operation == "implied_whole":
        return values[0] / (values[1] / 100)
    if operation == "before_rise":
        return values[1] / (1 + values[0] / 100)
    if operation == "before_fall":
        return values[1] / (1 - values[0] / 100)
    raise ValueError(f"unknown operation {operation!r}")


def derive(amounts: Sequence[Amount], text: str, spans: Sequence[Span]) -> list[Derived]:
    """Everything worth computing from ``amounts``, found in ``text``'s sentences ``spans``
    (``amounts.find``)."""
    sentences = _Text(text, spans)
    usable = _distinct([a for a in amounts if a.dimension not in ("time",) and a.value != 0])
    found: list[Derived] = []
    sums = _sums(usable, sentences)
    found += sums
    found += _discrepancies(usable, sums, sentences)
    found += _shares_of_sums(sums)
    found += _of_them(amounts, sentences)
    found += _changes(amounts, sentences)
    found += _multiples(usable, sums, found, sentences)
    found += _rates(amounts)
    found += _wholes(amounts, sentences)
    found += _totals(amounts)
    return found


def _distinct(amounts: list[Amount]) -> list[Amount]:
    """One amount per value and kind: a figure repeated later is the same figure."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for a in amounts:
        key = (*a.key, round(a.value, 6), a.low, a.high)
        if key not in seen:
            seen.add(key)
            kept.append(a)
    return kept


def _same_noun(a: Amount, b: Amount) -> bool:
    return bool(a.noun and b.noun and stem(a.noun) == stem(b.noun))


def _close(total: float, whole: float, approx: bool) -> bool:
    return abs(total - whole) <= (0.03 if approx else 0.002) * abs(whole)


def _summable(a: Amount) -> bool:
    return a.dimension in ("currency", "count", *_PHYSICAL) and not a.is_range and a.value > 0


def _sums(amounts: list[Amount], sentences: _Text) -> list[Derived]:
    found: list[Derived] = []
    used: set[int] = set()
    for key in {a.key for a in amounts if _summable(a)}:
        same = [a for a in amounts if a.key == key and _summable(a)]
        for whole in sorted(same, key=lambda a: -a.value):
            if id(whole) in used:
                continue
            parts = [a for a in same if a.value < whole.value and id(a) not in used]
            if key[0] == "count":
                parts = [a for a in parts if a.noun and _same_noun(a, whole)]
            best = _best_subset(whole, parts, sentences)
            if best is not None:
                approx = whole.approx or any(p.approx for p in best)
                total = sum(p.value for p in best)
                found.append(Derived("sum", "sum", (*best, whole), total, whole.unit, approx))
                used.update(id(p) for p in best)
                used.add(id(whole))
    return found


def _best_subset(whole: Amount, parts: list[Amount], sentences: _Text) -> tuple[Amount, ...] | None:
    best: tuple[Amount, ...] | None = None
    nearby = [p for p in parts if abs(p.sentence - whole.sentence) <= 12][:12]
    for size in (4, 3, 2):
        for subset in itertools.combinations(nearby, size):
            span = max(p.sentence for p in subset) - min(p.sentence for p in subset)
            if span > WINDOW:
                continue
            approx = whole.approx or any(p.approx for p in subset)
            if not _close(sum(p.value for p in subset), whole.value, approx):
                continue
            if size == 2 and not _linked(subset, whole):
                continue  # two numbers adding up to a third may be chance
            if best is None or span < _spread(best):
                best = subset
        if best is not None:
            return best
    return None


def _spread(parts: tuple[Amount, ...]) -> int:
    return max(p.sentence for p in parts) - min(p.sentence for p in parts)


def _linked(parts: tuple[Amount, ...], whole: Amount) -> bool:
    """Whether the article's words tie two parts to their whole ("the remaining", "total")."""
    words = set().union(*(p.words for p in parts), whole.words)
    return bool(words & _LINK) or parts[0].sentence == parts[1].sentence == whole.sentence


def _discrepancies(amounts: list[Amount], sums: list[Derived], sentences: _Text) -> list[Derived]:
    """Parts that say they complete a whole ("the remaining $60 million") and do not."""
    found: list[Derived] = []
    summed = {id(a) for d in sums for a in d.inputs}
    for rest in amounts:
        if id(rest) in summed or not _summable(rest):
            continue
        if not _REST.search(sentences[rest.sentence]):
            continue
        same = [
            a
            for a in amounts
            if a.key == rest.key and _summable(a) and id(a) not in summed and a is not rest
        ]
        earlier = [a for a in same if 0 <= rest.sentence - a.sentence <= 12]
        whole = max(earlier, key=lambda a: a.value, default=None)
        if whole is None:
            continue
        before = [
            a
            for a in same
            if a is not whole
            and whole.sentence <= a.sentence
            and 0 <= rest.sentence - a.sentence <= 3
        ]
        if not before:
            continue
        parts = (*before, rest)
        total = sum(p.value for p in parts)
        if whole.value <= max(p.value for p in parts) or _close(total, whole.value, whole.approx):
            continue
        if abs(total - whole.value) / whole.value <= 0.25:
            approx = any(p.approx for p in parts) or whole.approx
            found.append(Derived("discrepancy", "sum", (*parts, whole), total, rest.unit, approx))
    return found


def _shares_of_sums(sums: list[Derived]) -> list[Derived]:
    found = []
    for d in sums:
        *parts, whole = d.inputs
        largest = max(parts, key=lambda p: p.value)
        share = 100 * largest.value / whole.value
        found.append(Derived("share", "share", (largest, whole), share, "percent", d.approx))
    return found


_OF_THEM = re.compile(r"^\s*,?\s*(?:of (?:them|those|these|whom|which)\b)", re.IGNORECASE)


def _of_them(amounts: Sequence[Amount], sentences: _Text) -> list[Derived]:
    """ "24 permanent staff, 11 of them former workers": 11 of 24 is a share."""
    found = []
    for whole, part in itertools.pairwise(amounts):
        if whole.sentence != part.sentence or whole.dimension != "count":
            continue
        if part.dimension != "count" or not 0 < part.value < whole.value:
            continue
        if _OF_THEM.match(sentences.after(part)):
            share = 100 * part.value / whole.value
            found.append(Derived("share", "share", (part, whole), share, "percent", False))
    return found


def _changes(amounts: Sequence[Amount], sentences: _Text) -> list[Derived]:
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


def _multiples(
    amounts: list[Amount], sums: list[Derived], done: list[Derived], sentences: _Text
) -> list[Derived]:
    together = [{id(a) for a in d.inputs} for d in sums]
    compared = [{id(a) for a in d.inputs} for d in done if d.kind in ("change", "before")]
    candidates: list[tuple[int, float, Derived]] = []  # (-score, ratio, the multiple)
    for a, b in itertools.combinations(amounts, 2):
        if a.key != b.key or a.is_range or b.is_range:
            continue
        if a.dimension not in ("currency", *_PHYSICAL, "count"):
            continue
        if a.dimension == "count" and (not _same_noun(a, b) or min(a.value, b.value) < 10):
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


def _comparable(a: Amount, b: Amount, sentences: _Text) -> int:
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


def _rates(amounts: Sequence[Amount]) -> list[Derived]:
    """A cost divided by what it buys: the same paragraph's capacity, length or homes."""
    found = []
    for cost in amounts:
        if cost.dimension != "currency" or cost.per or cost.is_range or not cost.words & _COST:
            continue
        for q in amounts:
            if q.per or q.is_range or q.value <= 0:
                continue
            # Capacity (MW, MWh) is what a plant's cost buys, within its paragraph; a length,
            # a weight or homes only in the cost's own sentence ("a $2bn, 100km railway"): two
            # sentences apart, "$500 million in claims" and "800 miles of pipe" are not one.
            capacity = q.dimension in ("energy", "power") and abs(q.sentence - cost.sentence) <= 2
            physical = q.dimension in _PHYSICAL and q.sentence == cost.sentence
            counted = (
                q.dimension == "count"
                and q.noun
                and stem(q.noun) in _PER_COUNT
                and q.value >= 10
                and q.sentence == cost.sentence
            )
            if not (capacity or physical or counted):
                continue
            if q.dimension == "length" and q.value < 100:
                continue  # "a 35mm print" is a format, not what the cost buys
            unit = f"{cost.unit} per {q.unit or q.noun}"
            rate = cost.value / q.value
            found.append(Derived("rate", "ratio", (cost, q), rate, unit, cost.approx or q.approx))
    return found


# "90 journalist jobs - 17% of", "1,000 jobs, or 10% of", "$5m (2% of": what it counts, then
# a dash, a comma and "or", or a parenthesis, then the share.
_SHARE_OF = re.compile(
    r"^\s*(?:[^\W\d_]+\s*){0,3}?(?:[-–—(]|,\s*or)\s*(?:about\s+|some\s+|nearly\s+)?$"
)


def _wholes(amounts: Sequence[Amount], sentences: _Text) -> list[Derived]:
    """ "90 journalist jobs - 17% of their editorial staff": the whole the share implies."""
    found = []
    for a, p in itertools.pairwise(amounts):
        if a.sentence != p.sentence or p.dimension != "percent" or p.is_range:
            continue
        if a.dimension not in ("count", "currency") or a.is_range or not 0 < p.value < 100:
            continue
        if not _SHARE_OF.match(sentences.between(a, p)):
            continue
        if not re.match(r"\s+of\s", sentences.after(p)):
            continue  # "17% of their editorial staff", not "a rise of 17%"
        whole = a.value / (p.value / 100)
        found.append(Derived("whole", "implied_whole", (a, p), whole, a.unit, True))
    return found


def _totals(amounts: Sequence[Amount]) -> list[Derived]:
    """ "$38 a year … for twenty years": a yearly amount over the years the sentence gives."""
    found = []
    for rate in amounts:
        if rate.dimension != "currency" or rate.per not in ("year", "month") or rate.is_range:
            continue
        for span in amounts:
            if span.sentence != rate.sentence or span.dimension != "time":
                continue
            if (span.unit.rstrip("s") or "") != rate.per or span.is_range or span.value < 2:
                continue
            total = rate.value * span.value
            found.append(Derived("total", "product", (rate, span), total, rate.unit, rate.approx))
    return found


def plain(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits (how results are written)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))
