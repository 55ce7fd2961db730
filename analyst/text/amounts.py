"""The quantities an article states: value, unit, what they measure, and where they are.

quantulum3 finds them (units, number words like "twenty", "1.2 million", ranges, rates like
"$38 a year"); three things it gets wrong in news copy are set right here, each measured on the
BBC dev articles and the examples:

- a scale written as a suffix ("$1.13bn", "£800m") is read by quantulum3 as a unit (barns,
  metres): the suffix is spelled out ("billion") before parsing, and offsets are mapped back;
- "megawatt-hours" is read as megawatts: the hyphen becomes a space (same length);
- an amount in parentheses ("(£600 million)") is read as an accounting negative.

What is not a quantity is dropped: years ("1958", "in 2024"), list and page numbers ("No. 10"),
and words quantulum3 takes for units ("a drop"). Numbers quantulum3 misses (it loses "5%" in
"from 3% in 2003 to 5% in 2004") are added from a plain pattern, as counts or percentages.

English units and scale words; other languages get digits, percentages and currency symbols
(quantulum3 is English-only), which is what the derivations need most.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from analyst.text.amounts_l10n import read as _foreign
from analyst.text.quantity import (
    APPROX,
    EVERY,
    NUMBER_WORDS,
    WORD,
    Amount,
    Span,
    clause,
    clause_words,
    not_a_quantity,
    noun_after,
    qualifier,
)

__all__ = ["Amount", "Span", "find", "normalize"]

# SI prefixes, so that 300 MW and 1.2 GW compare (quantulum3 keeps each unit as written).
_PREFIXES = {"kilo": 1e3, "mega": 1e6, "giga": 1e9, "tera": 1e12, "milli": 1e-3, "centi": 1e-2}
# The dimensions derivations work on; anything else (angles, charge, time) is kept apart.
_PHYSICAL = {"power", "energy", "length", "mass", "area", "volume", "speed"}
_SCALE = re.compile(r"(?<=\d)\s?(bn|tn|trn|mn|m|k)(?![\w%])", re.IGNORECASE)
_SCALE_WORDS = {"bn": " billion", "tn": " trillion", "trn": " trillion", "mn": " million"}
_CURRENCY_BEFORE = re.compile(r"[$£€¥₹]\s?\d[\d,.]*$")
_CURRENCY_AFTER = re.compile(
    r"\s+(?:euros?|dollars?|pounds?|yen|yuan|francs?|rupees?|roubles?|rubles?|pesos?|won)\b",
    re.IGNORECASE,
)
_WATT_HOUR = re.compile(r"(?<=watt)-(?=hour)", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[,.]\d+)*(?:\s?(?:%|per ?cent\b|percent\b))?")
_PER = re.compile(
    r"\s*(?:a|an|per|each|every)\s+(year|month|week|day|hour|household|person|head|home)\b"
    r"|\s*(annually|a year|yearly|monthly|daily)\b",
    re.IGNORECASE,
)
_POINTS = re.compile(r"\s*(?:percentage\s+)?points?\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _parser() -> Any:
    with warnings.catch_warnings():
        # Without scikit-learn it warns that its classifier is off; the rules are what we use.
        warnings.simplefilter("ignore")
        from quantulum3 import parser

    return parser


def normalize(text: str) -> tuple[str, list[Span]]:
    """``text`` with scale suffixes spelled out and "-hour" after watts spaced, and for each
    character of the result the span of ``text`` it comes from."""
    text = _WATT_HOUR.sub(" ", text)
    out: list[str] = []
    origin: list[Span] = []
    last = 0
    for m in _SCALE.finditer(text):
        suffix = m.group(1).lower()
        money = _CURRENCY_BEFORE.search(text, 0, m.start()) or _CURRENCY_AFTER.match(text, m.end())
        if suffix in ("m", "k") and not money:
            continue  # "20m" may be metres; "$20m" and "77m euros" are millions
        out.append(text[last : m.start()])
        origin.extend((i, i + 1) for i in range(last, m.start()))
        word = _SCALE_WORDS.get(suffix, " million" if suffix == "m" else " thousand")
        if suffix == "b":
            word = " billion"
        out.append(word)
        origin.extend((m.start(), m.end()) for _ in word)
        last = m.end()
    out.append(text[last:])
    origin.extend((i, i + 1) for i in range(last, len(text)))
    return "".join(out), origin


# A digit, or a number word that is an amount ("twenty", "a million"): "one" and "a" alone
# are too common to say a sentence holds one.
_MAY_COUNT = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million|billion|trillion|dozen)\b",
    re.IGNORECASE,
)


def find(
    text: str, spans: Sequence[Span], *, language: str | None = None, quick: bool = False
) -> list[Amount]:
    """The amounts stated in each of ``spans`` (sentences of ``text``), in order.

    quantulum3 reads English; in another language, or with ``quick`` (the digest, comparing
    thousands of reports), only digits with the language's decimal mark, percentages, currency
    symbols and names, and scale words are read (``amounts_l10n``)."""
    found: list[Amount] = []
    english = (language or "en").split("-")[0] == "en" and not quick
    for index, (a, b) in enumerate(spans):
        if english:
            # quantulum3 takes some 3 ms a sentence: only those that can hold an amount go to it.
            if _MAY_COUNT.search(text, a, b):
                found.extend(_in_sentence(text, a, b, index))
        else:
            found.extend(_foreign(text, a, b, index, language or "en"))
    return found


def _in_sentence(text: str, a: int, b: int, index: int) -> list[Amount]:
    sentence = text[a:b]
    plain, origin = normalize(sentence)
    found: list[Amount] = []
    handlers = list(logging.root.handlers)
    try:
        parsed = _parser().parse(plain)
    except Exception:  # noqa: BLE001 - a parser's bug on one odd sentence must not end a report
        parsed = []
    finally:
        # quantulum3's parse() calls logging.basicConfig(): the first call would give the root
        # logger a handler on stderr, and every library's warnings (pypdf's, httpx's) would
        # then reach the user's terminal. What it added goes.
        for handler in logging.root.handlers[len(handlers) :]:
            if handler not in handlers:
                logging.root.removeHandler(handler)
    for q, s, e in _split_joined(parsed, plain):
        start, end = origin[s][0], origin[e - 1][1]
        amount = _amount(q, sentence, start, end, plain[s:e], index)
        if amount is not None:
            found.append(amount)
    covered = [(x.start, x.end) for x in found]
    for m in _NUMBER.finditer(sentence):
        if any(s < m.end() and m.start() < e for s, e in covered):
            continue
        extra = _plain_number(sentence, m, index)
        if extra is not None:
            found.append(extra)
    found.sort(key=lambda x: x.start)
    return [_place(x, sentence, a) for x in found]


def _split_joined(parsed: list[Any], plain: str) -> list[tuple[Any, int, int]]:
    """Each quantity with its span; one quantulum3 made of two ("$60 million and two years"
    read as "60000002 dollar year") is parsed again, half by half."""
    out: list[tuple[Any, int, int]] = []
    for q in parsed:
        s, e = q.span
        if e <= s:
            continue
        surface = plain[s:e]
        if " and " not in surface:
            out.append((q, s, e))
            continue
        offset = s
        for part in surface.split(" and "):
            for inner in _parser().parse(part):
                a, b = inner.span
                if b > a and " and " not in part[a:b]:
                    out.append((inner, offset + a, offset + b))
            offset += len(part) + len(" and ")
    return out


def _amount(q: Any, sentence: str, start: int, end: int, surface: str, index: int) -> Amount | None:
    if not any(c.isdigit() for c in surface) and not _has_number_word(surface):
        return None  # "a drop", "a day"
    value = float(q.value)
    if surface.lstrip().startswith("("):
        value = abs(value)  # "(£600 million)": an aside, not an accounting negative
        while start < end and sentence[start] in "( ":
            start += 1
    if sentence[end - 1 : end] == ")" and "(" not in sentence[start:end]:
        end -= 1
    if re.search(r"\d\s?[ap]$", surface) and re.match(r"\.?m\b", sentence[end : end + 3]):
        return None  # "5 p.m." is a time, not five pence
    unit_name = str(q.unit.name)
    entity = str(q.unit.entity.name)
    dimension, unit, scale = _classify(unit_name, entity, sentence, end)
    if dimension is None:
        return None
    digits = sentence[start:end]
    if dimension == "count" and not_a_quantity(sentence, start, digits):
        return None
    low = high = None
    if q.uncertainty:
        low, high = _range_ends(digits, value, float(q.uncertainty))
    per = None
    if "per" in unit_name.split() or " a year" in digits or " a month" in digits:
        per = unit_name.split(" per ")[-1] if " per " in unit_name else digits.split()[-1]
        unit = unit_name.split(" per ")[0] if " per " in unit_name else unit
        unit = _base_unit(unit)[0] if dimension != "currency" else unit
    else:
        rate = _PER.match(sentence, end)
        if rate:
            per = (rate.group(1) or rate.group(2)).lower().removeprefix("a ")
    if per is None:
        every = EVERY.search(clause(sentence, start, end))
        if every:
            per = every.group(1) or "year"
    if dimension == "percent" and _POINTS.match(sentence, end):
        dimension, unit = "points", "percentage point"
    factor = scale
    return Amount(
        value=value * factor,
        unit=unit,
        dimension=dimension,
        start=start,
        end=end,
        sentence=index,
        surface=sentence[start:end],
        approx=bool(APPROX.search(sentence, 0, start)) or low is not None,
        qualifier=qualifier(sentence, start),
        low=None if low is None else low * factor,
        high=None if high is None else high * factor,
        per=per,
        noun=noun_after(sentence, end) if dimension == "count" else None,
        words=clause_words(sentence, start, end),
    )


def _classify(
    unit_name: str, entity: str, sentence: str, end: int
) -> tuple[str | None, str, float]:
    """The dimension, the comparable unit and the factor to it, of a quantulum3 unit."""
    if entity == "currency" or unit_name in ("dollar", "pound sterling", "euro", "penny"):
        return "currency", unit_name, 1.0
    if unit_name in ("percentage", "per cent", "percent"):
        return "percent", "percent", 1.0
    if unit_name == "dimensionless":
        return "count", "", 1.0
    if entity == "time":
        return "time", unit_name, 1.0
    base, factor = _base_unit(unit_name.split(" per ")[0])
    if entity in _PHYSICAL or base in ("watt hour", "watt", "metre", "gram", "tonne", "ton"):
        kind = "energy" if base == "watt hour" else (entity if entity in _PHYSICAL else "power")
        if base == "watt":
            kind = "power"
        return kind, base, factor
    currency = unit_name.split()[0]
    if currency in ("dollar", "euro", "pound") and " per " in unit_name:
        return "currency", "pound sterling" if currency == "pound" else currency, 1.0
    return None, "", 1.0  # angles, charge ("5C"), unknown compounds: not used


def _base_unit(unit: str) -> tuple[str, float]:
    for prefix, factor in _PREFIXES.items():
        if unit.startswith(prefix):
            return unit[len(prefix) :], factor
    return unit, 1.0


def _has_number_word(surface: str) -> bool:
    return any(w.lower() in NUMBER_WORDS for w in WORD.findall(surface))


def _plain_number(sentence: str, m: re.Match[str], index: int) -> Amount | None:
    """A number quantulum3 missed, as a count or a percentage."""
    surface = m.group(0)
    digits = re.match(r"-?\d+(?:[,.]\d+)*", surface)
    if digits is None:
        return None
    if re.match(r"[^\W\d_]", sentence[m.end() : m.end() + 1]):
        return None  # "44.63secs", "35mm": a unit quantulum3 did not read, not a count
    percent = digits.end() < len(surface)
    if not percent and not_a_quantity(sentence, m.start(), digits.group(0)):
        return None
    try:
        value = float(digits.group(0).replace(",", ""))
    except ValueError:
        return None
    return Amount(
        value=value,
        unit="percent" if percent else "",
        dimension="percent" if percent else "count",
        start=m.start(),
        end=m.end(),
        sentence=index,
        surface=surface,
        approx=bool(APPROX.search(sentence, 0, m.start())),
        qualifier=qualifier(sentence, m.start()),
        noun=None if percent else noun_after(sentence, m.end()),
        words=clause_words(sentence, m.start(), m.end()),
    )


def _range_ends(digits: str, value: float, uncertainty: float) -> tuple[float, float]:
    """A range's two ends in the order written ("fell from 4.75% to 4.5%" stays falling)."""
    numbers = re.findall(r"\d+(?:[,.]\d+)*", digits)
    if len(numbers) >= 2:
        try:
            first, second = (float(n.replace(",", "")) for n in numbers[:2])
        except ValueError:
            first = second = 0.0
        middle = (first + second) / 2
        if middle > 0 and value > 0:
            # "$1 to $2 billion": the scale applies to both; a scale is a power of ten
            # (quantulum3 read "£6 to £10 one" as 8.5, not 8).
            factor = 10 ** round(math.log10(value / middle))
            return first * factor, second * factor
    return value - uncertainty, value + uncertainty


def _place(amount: Amount, sentence: str, offset: int) -> Amount:
    """The amount with offsets into the article's text, not its sentence."""
    from dataclasses import replace

    return replace(amount, start=amount.start + offset, end=amount.end + offset)
