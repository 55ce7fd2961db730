"""How the notes write numbers: amounts as a reader writes them ("$412 million", "1,200 MWh",
"61%"), a derivation in one line (``describe``) and the computation anyone can redo
(``formula``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from analyst.text.amounts import Amount
from analyst.text.derived import Derived, plain

_SYMBOLS = {"dollar": "$", "pound sterling": "£", "euro": "€", "japanese yen": "¥"}
_SI = {"watt": "W", "watt hour": "Wh", "metre": "m", "gram": "g"}


def amount(value: float, unit: str, *, per: str | None = None, approx: bool = False) -> str:
    """A value as a reader writes it: "$412 million", "1,200 MWh", "61%", "1,400"."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if unit in _SYMBOLS or unit == "penny":
        written = sign + _money(value, _SYMBOLS.get(unit, ""), unit)
    elif unit == "percent":
        written = f"{sign}{_num(value)}%"
    elif unit == "percentage point":
        written = f"{sign}{_num(value)} percentage point{'s' if value != 1 else ''}"
    elif unit in _SI:
        written = sign + _si(value, _SI[unit])
    elif unit in ("", "times"):
        written = sign + _num(value)
    else:
        written = f"{sign}{_num(value)} {unit}"
    if per:
        written += f" a {per}" if per in ("year", "month", "week", "day") else f" per {per}"
    return ("about " if approx else "") + written


def _money(value: float, symbol: str, unit: str) -> str:
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= scale:
            number = _num(value / scale)
            return f"{symbol}{number} {word}" if symbol else f"{number} {word} {unit}"
    if unit == "penny":
        return f"{_num(value)}p"
    number = _num(value) if value >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{symbol}{number}" if symbol else f"{number} {unit}"


def _si(value: float, symbol: str) -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{_num(value / factor)} {prefix}{symbol}"
    return f"{_num(value)} {symbol}"


def pct(value: float) -> str:
    """A share as written: whole percent from 10 up ("61%"), one decimal below ("4.5%")."""
    return f"{value:.0f}%" if abs(value) >= 10 else f"{value:.1f}%".replace(".0%", "%")


def times(value: float) -> str:
    """A multiple as written: "2.3", "12", "150"."""
    return f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:,.0f}"


def _num(value: float) -> str:
    """Three significant digits, thousands separated: 2.29 → "2.29", 642477876 → "642,000,000"."""
    rounded = plain(value)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    decimals = max(0, 2 - math.floor(math.log10(abs(rounded)))) if rounded else 0
    return f"{rounded:,.{decimals}f}".rstrip("0").rstrip(".")


def _in(a: Amount) -> str:
    """An input as the article writes it, with its hedge ("about 1,200 megawatt-hours")."""
    surface = " ".join(a.surface.split())
    if a.unit in _SI:  # "300-megawatt" reads as "300 MW"
        surface = f"{_num(a.value / _unit_scale(a))} {_display_unit(a)}"
    return f"{a.qualifier} {surface}" if a.qualifier else surface


def describe(d: Derived) -> str:
    """A computed note in one line."""
    about = "about " if d.approx else ""
    if d.kind == "sum":
        *parts, whole = d.inputs
        shares = ", ".join(pct(100 * p.value / whole.value) for p in parts)
        return (
            f"{' + '.join(_in(p) for p in parts)} = {amount(d.result, whole.unit)}, the whole "
            f"the article gives; the parts are {shares} of it"
        )
    if d.kind == "discrepancy":
        *parts, whole = d.inputs
        gap = whole.value - d.result
        return (
            f"{' + '.join(_in(p) for p in parts)} = {amount(d.result, whole.unit)}, not the "
            f"{_in(whole)} the article gives: {amount(abs(gap), whole.unit)} "
            f"{'unaccounted for' if gap > 0 else 'too much'}"
        )
    if d.kind == "share":
        part, whole = d.inputs
        if whole.dimension == "count":
            noun = f" {whole.noun}" if whole.noun else ""
            return f"{_in(part)} of {_in(whole)}{noun} is {about}{pct(d.result)}"
        return f"{_in(part)} is {about}{pct(d.result)} of {_in(whole)}"
    if d.kind == "multiple":
        big, small = d.inputs
        # "4 times less than $500,000" reads as a different claim: the bound goes, "about" stays.
        bound = small.qualifier in ("more than", "less than", "fewer than", "at least", "up to")
        shown = _in(replace(small, qualifier=None)) if bound else _in(small)
        return f"{_in(big)} is {'about ' if bound else ''}{times(d.result)} times {shown}"
    if d.kind == "whole":
        part, share = d.inputs
        noun = f" {part.noun}" if part.noun else ""
        implied = amount(d.result, part.unit, approx=True)
        return f"{_in(part)}{noun} at {_in(share)} of the whole means {implied} in all"
    if d.kind == "rate":
        cost, q = d.inputs
        per = q.noun or _unit_name(q)
        if q.dimension == "count":
            one = _singular(per)
            return (
                f"{_in(cost)} for {_in(q)} {per} is {about}{amount(d.result, cost.unit)} per {one}"
            )
        unit_value = amount(d.result * _unit_scale(q), cost.unit)
        return f"{_in(cost)} for {_in(q)} is {about}{unit_value} per {_display_unit(q)}"
    if d.kind == "total":
        rate, span = d.inputs
        return f"{_in(rate)} for {_in(span)} is {about}{amount(d.result, rate.unit)} in all"
    if d.kind == "change":
        old, new = d.inputs
        change = f"{'+' if d.result > 0 else ''}{amount(d.result, d.unit)}"
        return f"from {_in(old)} to {_in(new)} is {change}"
    if d.kind == "before":
        p, a = d.inputs
        way = "rise" if d.operation == "before_rise" else "fall"
        before = amount(d.result, a.unit)
        return f"a {_in(p)} {way} to {_in(a)} means {about or 'about '}{before} before"
    return d.kind


def _singular(noun: str) -> str:
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


def _unit_name(q: Amount) -> str:
    return q.unit or "unit"


def _unit_scale(q: Amount) -> float:
    """The factor from the base unit to the unit the article wrote (MWh, not Wh)."""
    written = q.surface.lower()
    for word, factor in (("giga", 1e9), ("gw", 1e9), ("mega", 1e6), ("mw", 1e6), ("kilo", 1e3),
                         ("kw", 1e3), ("km", 1e3)):  # fmt: skip
        if word in written:
            return factor
    return 1.0


def _display_unit(q: Amount) -> str:
    symbol = _SI.get(q.unit, q.unit)
    prefix = {1e9: "G", 1e6: "M", 1e3: "k"}.get(_unit_scale(q), "")
    return prefix + symbol


def formula(d: Derived) -> str:
    """The computation with the inputs' values in base units, as anyone can redo it."""
    v = [a.value for a in d.inputs]
    r = d.result

    def n(x: float) -> str:
        return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"

    shown = _FORMULAS.get(d.operation)
    return shown(v, r, n) if shown else ""


Show = Callable[[float], str]
# Each operation's computation written out: (values, result, how a number is written) → text.
_FORMULAS: dict[str, Callable[[list[float], float, Show], str]] = {
    "sum": lambda v, r, n: f"{' + '.join(n(x) for x in v[:-1])} = {n(r)} (whole: {n(v[-1])})",
    "share": lambda v, r, n: f"100 × {n(v[0])} / {n(v[1])} = {r:.1f}",
    "ratio": lambda v, r, n: f"{n(v[0])} / {n(v[1])} = {n(r)}",
    "relative": lambda v, r, n: f"100 × ({n(v[1])} − {n(v[0])}) / {n(v[0])} = {r:.1f}",
    "difference": lambda v, r, n: f"{n(v[1])} − {n(v[0])} = {n(r)}",
    "product": lambda v, r, n: f"{n(v[0])} × {n(v[1])} = {n(r)}",
    "implied_whole": lambda v, r, n: f"{n(v[0])} / ({n(v[1])}/100) = {n(r)}",
    "before_rise": lambda v, r, n: f"{n(v[1])} / (1 + {n(v[0])}/100) = {n(r)}",
    "before_fall": lambda v, r, n: f"{n(v[1])} / (1 − {n(v[0])}/100) = {n(r)}",
}
