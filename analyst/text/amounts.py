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

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from analyst.text.support import content_words, stem

Span = tuple[int, int]

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
_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d|21\d\d)(?:s|'s|’s)?$")
_LIST_BEFORE = re.compile(
    r"(?:\bNo\.?|\bnumber|#|\bpage|\bchapter|\bsection|\barticle|\bversion|\bpart|\bstep|"
    r"\bgrade|\blevel|\bpoint|\broute|\bflight|\bmodel|\bGemini|\biPhone)\s*$",
    re.IGNORECASE,
)
_APPROX = re.compile(
    r"(?:\babout|\baround|\broughly|\bapproximately|\bnearly|\balmost|\bsome|\bestimated|"
    r"\bup to|\bmore than|\bover|\bless than|\bunder|\bat least|\bat most|\bfewer than|"
    r"\bclose to|\bjust over|\bjust under)\s*(?:an?\s+)?(?:estimated\s+)?$",
    re.IGNORECASE,
)
_PER = re.compile(
    r"\s*(?:a|an|per|each|every)\s+(year|month|week|day|hour|household|person|head|home)\b"
    r"|\s*(annually|a year|yearly|monthly|daily)\b",
    re.IGNORECASE,
)
_POINTS = re.compile(r"\s*(?:percentage\s+)?points?\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NUMBER_WORDS = frozenset(
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


def find(text: str, spans: Sequence[Span], *, language: str | None = None) -> list[Amount]:
    """The amounts stated in each of ``spans`` (sentences of ``text``), in order.

    quantulum3 reads English; in another language only digits with the language's decimal
    mark, percentages, currency symbols and names, and scale words are read (``_foreign``)."""
    found: list[Amount] = []
    english = (language or "en").split("-")[0] == "en"
    for index, (a, b) in enumerate(spans):
        if english:
            found.extend(_in_sentence(text, a, b, index))
        else:
            found.extend(_foreign(text, a, b, index, language or ""))
    return found


# Decimal commas ("12,5 %", "1.200 Euro"), and the scale words and currencies of the languages
# the dev data and the examples have; other languages get digits and symbols.
_COMMA_DECIMAL = frozenset("de fr es it pt nl pl cs sk da sv nb no fi ru uk tr ro hu id".split())
_FOREIGN_SCALES = {
    "mio": 1e6, "millionen": 1e6, "million": 1e6, "millions": 1e6, "millones": 1e6,
    "milioni": 1e6, "milhões": 1e6, "mrd": 1e9, "milliarden": 1e9, "milliarde": 1e9,
    "milliards": 1e9, "milliard": 1e9, "miliardi": 1e9, "bio": 1e12, "billionen": 1e12,
}  # fmt: skip
_FOREIGN_CURRENCY = {
    "€": "euro", "euro": "euro", "euros": "euro", "eur": "euro", "$": "dollar",
    "dollar": "dollar", "dollars": "dollar", "dólares": "dollar", "usd": "dollar",
    "£": "pound sterling",
}  # fmt: skip
_FOREIGN = re.compile(
    r"(?P<pre>[€$£]\s?)?(?<![\d.,])"
    r"(?P<num>-?\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?!\d)|-?\d+(?:[.,]\d+)?)"
    r"(?:\s?(?P<scale>Mio\.?|Millionen|Millions?|millions?|millones|milioni|milhões|Mrd\.?|"
    r"Milliarden?|milliards?|miliardi|Bio\.?|Billionen))?"
    r"(?:\s?(?P<unit>%|Prozent|pour cent|por ciento|per cento|€|Euros?|euros?|EUR|Dollars?|"
    r"dollars?|dólares|USD))?"
)


def _foreign(text: str, a: int, b: int, index: int, language: str) -> list[Amount]:
    sentence = text[a:b]
    comma = language.split("-")[0] in _COMMA_DECIMAL
    found = []
    for m in _FOREIGN.finditer(sentence):
        raw = m.group("num")
        if _YEAR.match(raw) and not (m.group("unit") or m.group("pre")):
            continue
        if _not_a_quantity(sentence, m.start("num"), raw) and not m.group("unit"):
            continue
        value = _foreign_number(raw, comma)
        if value is None:
            continue
        scale = m.group("scale")
        if scale:
            value *= _FOREIGN_SCALES.get(scale.rstrip(".").lower(), 1.0)
        unit_word = (m.group("unit") or "").lower()
        currency = _FOREIGN_CURRENCY.get((m.group("pre") or "").strip()) or _FOREIGN_CURRENCY.get(
            unit_word
        )
        if unit_word in ("%", "prozent", "pour cent", "por ciento", "per cento"):
            dimension, unit = "percent", "percent"
        elif currency:
            dimension, unit = "currency", currency
        else:
            dimension, unit = "count", ""
        end = m.end()
        while end > m.start() and sentence[end - 1] == " ":
            end -= 1
        found.append(
            Amount(
                value=value,
                unit=unit,
                dimension=dimension,
                start=a + m.start(),
                end=a + end,
                sentence=index,
                surface=sentence[m.start() : end],
                words=_clause_words(sentence, m.start(), end),
            )
        )
    return found


def _foreign_number(raw: str, comma_decimal: bool) -> float | None:
    """A number as a language with a decimal comma ("1.200,5") or point ("1,200.5") writes it."""
    digits = re.sub(r"[\u00a0\u202f ]", "", raw)
    thousands, decimal = (".", ",") if comma_decimal else (",", ".")
    if comma_decimal and re.fullmatch(r"-?\d{1,3}(?:\.\d{3})+", digits):
        digits = digits.replace(".", "")
    digits = digits.replace(thousands, "").replace(decimal, ".")
    try:
        return float(digits)
    except ValueError:
        return None


def _in_sentence(text: str, a: int, b: int, index: int) -> list[Amount]:
    sentence = text[a:b]
    plain, origin = normalize(sentence)
    found: list[Amount] = []
    try:
        parsed = _parser().parse(plain)
    except Exception:  # noqa: BLE001 - a parser's bug on one odd sentence must not end a report
        parsed = []
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
    if dimension == "count" and _not_a_quantity(sentence, start, digits):
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
        clause = _clause(sentence, start, end)
        every = _EVERY.search(clause)
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
        approx=bool(_APPROX.search(sentence, 0, start)) or low is not None,
        qualifier=_qualifier(sentence, start),
        low=None if low is None else low * factor,
        high=None if high is None else high * factor,
        per=per,
        noun=_noun_after(sentence, end) if dimension == "count" else None,
        words=_clause_words(sentence, start, end),
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
    return any(w.lower() in _NUMBER_WORDS for w in _WORD.findall(surface))


def _not_a_quantity(sentence: str, start: int, digits: str) -> bool:
    """A year, a list or page number, an ordinal, a time of day or part of a score."""
    plain = digits.strip()
    if _YEAR.match(plain) or "/" in plain:
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


def _plain_number(sentence: str, m: re.Match[str], index: int) -> Amount | None:
    """A number quantulum3 missed, as a count or a percentage."""
    surface = m.group(0)
    digits = re.match(r"-?\d+(?:[,.]\d+)*", surface)
    if digits is None:
        return None
    if re.match(r"[^\W\d_]", sentence[m.end() : m.end() + 1]):
        return None  # "44.63secs", "35mm": a unit quantulum3 did not read, not a count
    percent = digits.end() < len(surface)
    if not percent and _not_a_quantity(sentence, m.start(), digits.group(0)):
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
        approx=bool(_APPROX.search(sentence, 0, m.start())),
        qualifier=_qualifier(sentence, m.start()),
        noun=None if percent else _noun_after(sentence, m.end()),
        words=_clause_words(sentence, m.start(), m.end()),
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


_NOT_NOUNS = frozenset(
    "of to in and or for a an the on at by said says was were is are has have had will would "
    "from with than as per each more less".split()
)


def _qualifier(sentence: str, start: int) -> str | None:
    m = _APPROX.search(sentence, 0, start)
    return " ".join(m.group(0).split()).lower() if m else None


def _noun_after(sentence: str, end: int) -> str | None:
    """The word a count counts ("1,400 freight trips" → "trips"): the last of up to two words
    after it that are not function words."""
    after = sentence[end : end + 40]
    if not re.match(r"\s+[^\W\d_]", after):
        return None  # "24," "11 of them": nothing named right after it
    words = [w.lower() for w in _WORD.findall(after)[:2]]
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


_EVERY = re.compile(r"\b(?:each|every|per|a) (year|month|week|day)\b|\bannually\b", re.I)


def _clause(sentence: str, start: int, end: int) -> str:
    left = max((m.end() for m in _CLAUSE.finditer(sentence, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE.finditer(sentence, end)), len(sentence))
    return sentence[left:start] + " " + sentence[end:right]


def _clause_words(sentence: str, start: int, end: int) -> frozenset[str]:
    """The stemmed content words of the clause the amount stands in: what it measures."""
    clause = _clause(sentence, start, end)
    # Names say whose figure it is, not what it measures: "TimeWarner" profit and sales
    # are not one thing.
    names = {w.lower() for w in _WORD.findall(clause) if w[:1].isupper()}
    words = content_words(clause) - names
    return frozenset(
        stem(w) for w in words if not any(c.isdigit() for c in w) and w not in _NUMBER_WORDS
    )


def _place(amount: Amount, sentence: str, offset: int) -> Amount:
    """The amount with offsets into the article's text, not its sentence."""
    from dataclasses import replace

    return replace(amount, start=amount.start + offset, end=amount.end + offset)
