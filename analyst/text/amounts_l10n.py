"""Amounts read by pattern, not by quantulum3: digits with the language's decimal mark ("2,5",
"1.200"), percentages, currency symbols and names, and scale words ("Mrd.", "milliards",
"millones"; in English "million", "billion", "bn"). What other languages get, and what the
digest compares across outlets in any language (quantulum3 takes some 1 ms a sentence)."""

from __future__ import annotations

import re

from analyst.text.quantity import YEAR, Amount, clause_words, not_a_quantity

__all__ = ["read"]

# Decimal commas ("12,5 %", "1.200 Euro"), and the scale words and currencies of the languages
# the dev data and the examples have; other languages get digits and symbols.
_COMMA_DECIMAL = frozenset("de fr es it pt nl pl cs sk da sv nb no fi ru uk tr ro hu id".split())
_FOREIGN_SCALES = {
    "mio": 1e6, "millionen": 1e6, "million": 1e6, "millions": 1e6, "millones": 1e6,
    "milioni": 1e6, "milhões": 1e6, "mrd": 1e9, "milliarden": 1e9, "milliarde": 1e9,
    "milliards": 1e9, "milliard": 1e9, "miliardi": 1e9, "bio": 1e12, "billionen": 1e12,
}  # fmt: skip
# English scale words: "billion" is 10^9 in English, 10^12 in French and German.
_ENGLISH_SCALES = {"billion": 1e9, "billions": 1e9, "bn": 1e9, "trillion": 1e12, "tn": 1e12}
# "m" and "k" are a scale only on money ("$412m"): "20m" may be metres.
_MONEY_SCALES = {"m": 1e6, "k": 1e3}
_FOREIGN_CURRENCY = {
    "€": "euro", "euro": "euro", "euros": "euro", "eur": "euro", "$": "dollar",
    "dollar": "dollar", "dollars": "dollar", "dólares": "dollar", "usd": "dollar",
    "£": "pound sterling",
}  # fmt: skip
_FOREIGN = re.compile(
    r"(?P<pre>[€$£]\s?)?(?<![\d.,])"
    r"(?P<num>-?\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?!\d)|-?\d+(?:[.,]\d+)?)"
    r"(?:\s?(?P<scale>Mio\.?|Millionen|Millions?|millions?|millones|milioni|milhões|Mrd\.?|"
    r"Milliarden?|milliards?|miliardi|Bio\.?|Billionen|billions?|bn|trillion|tn|m|k)\b)?"
    r"(?:\s?(?P<unit>%|Prozent|pour cent|por ciento|per cento|€|Euros?|euros?|EUR|Dollars?|"
    r"dollars?|dólares|USD))?"
)


def read(text: str, a: int, b: int, index: int, language: str) -> list[Amount]:
    sentence = text[a:b]
    comma = language.split("-")[0] in _COMMA_DECIMAL
    found = []
    for m in _FOREIGN.finditer(sentence):
        raw = m.group("num")
        if YEAR.match(raw) and not (m.group("unit") or m.group("pre")):
            continue
        if not_a_quantity(sentence, m.start("num"), raw) and not m.group("unit"):
            continue
        value = _foreign_number(raw, comma)
        if value is None:
            continue
        scale = m.group("scale")
        if scale:
            word = scale.rstrip(".").lower()
            scales = {**_FOREIGN_SCALES, **_ENGLISH_SCALES} if not comma else _FOREIGN_SCALES
            if m.group("pre"):
                scales = {**scales, **_MONEY_SCALES}
            if word not in scales:
                continue  # a scale word this language does not mean so: no value is sure
            value *= scales[word]
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
                words=clause_words(sentence, m.start(), end),
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
