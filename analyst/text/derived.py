"""What a derivation is, and how to redo it: the shared ground of ``perspective`` (which finds
derivations) and ``comparisons`` (changes and multiples), and of every view that writes them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from analyst.text.amounts import Amount, Span
from analyst.text.carries import stem


@dataclass(frozen=True)
class SentenceText:
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


def same_noun(a: Amount, b: Amount) -> bool:
    """Whether two counts count the same thing ("homes", "home")."""
    return bool(a.noun and b.noun and stem(a.noun) == stem(b.noun))


def plain(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits (how results are written)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))
