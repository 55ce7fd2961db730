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
import re
from collections.abc import Sequence

from analyst.text.amounts import Amount, Span
from analyst.text.carries import stem
from analyst.text.comparisons import changes, multiples
from analyst.text.derived import Derived, SentenceText, plain, recompute, same_noun

__all__ = ["Derived", "derive", "plain", "recompute"]


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
_GENERIC = frozenset("year month week day new last next first time people per".split())
WINDOW = 5  # sentences a set of parts may span


def derive(amounts: Sequence[Amount], text: str, spans: Sequence[Span]) -> list[Derived]:
    """Everything worth computing from ``amounts``, found in ``text``'s sentences ``spans``
    (``amounts.find``)."""
    sentences = SentenceText(text, spans)
    usable = _distinct([a for a in amounts if a.dimension not in ("time",) and a.value != 0])
    found: list[Derived] = []
    sums = _sums(usable, sentences)
    found += sums
    found += _discrepancies(usable, sums, sentences)
    found += _shares_of_sums(sums)
    found += _of_them(amounts, sentences)
    found += changes(amounts, sentences)
    found += multiples(usable, sums, found, sentences)
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


def _close(total: float, whole: float, approx: bool) -> bool:
    return abs(total - whole) <= (0.03 if approx else 0.002) * abs(whole)


def _summable(a: Amount) -> bool:
    return a.dimension in ("currency", "count", *_PHYSICAL) and not a.is_range and a.value > 0


def _sums(amounts: list[Amount], sentences: SentenceText) -> list[Derived]:
    found: list[Derived] = []
    used: set[int] = set()
    for key in {a.key for a in amounts if _summable(a)}:
        same = [a for a in amounts if a.key == key and _summable(a)]
        for whole in sorted(same, key=lambda a: -a.value):
            if id(whole) in used:
                continue
            parts = [a for a in same if a.value < whole.value and id(a) not in used]
            if key[0] == "count":
                parts = [a for a in parts if a.noun and same_noun(a, whole)]
            best = _best_subset(whole, parts, sentences)
            if best is not None:
                approx = whole.approx or any(p.approx for p in best)
                total = sum(p.value for p in best)
                found.append(Derived("sum", "sum", (*best, whole), total, whole.unit, approx))
                used.update(id(p) for p in best)
                used.add(id(whole))
    return found


def _best_subset(
    whole: Amount, parts: list[Amount], sentences: SentenceText
) -> tuple[Amount, ...] | None:
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


def _discrepancies(
    amounts: list[Amount], sums: list[Derived], sentences: SentenceText
) -> list[Derived]:
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


def _of_them(amounts: Sequence[Amount], sentences: SentenceText) -> list[Derived]:
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


def _wholes(amounts: Sequence[Amount], sentences: SentenceText) -> list[Derived]:
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
