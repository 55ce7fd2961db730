"""Stage 3b, notes (no model): what code can derive from the article and prove.

Numbers in perspective (``text.amounts`` finds the quantities, ``text.perspective`` derives
sums, shares, multiples, rates, totals and changes, each with the operation that recomputes
it), what to watch (``text.ahead``: dates after the article's own, and pending decisions), who
says what (``text.speech``: quotations with their speakers, attributed claims) and tensions
(sentences that set themselves against another). Each note rests on spans of the article's
text and lists the facts whose quotes stand there; ``standing`` labels every fact as stated,
attributed, forecast or estimate.

The synthesis reads the notes: on the embedded model ``stages.compose`` writes the
implications and the analysis from them; a capable model writes its own prose citing their ids
(``prompts/notes.md`` lists them for it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import replace

from analyst.reading import byline
from analyst.schema import COMPUTED_KINDS, Fact, Note, NoteInput, Span, Standing
from analyst.stages.context import Context
from analyst.text import ahead, amounts, dates, perspective, speech
from analyst.text.amounts import Amount
from analyst.text.perspective import Derived

PROMPTS = ("notes",)
# Most notes of one kind a report carries: an article with 60 figures is not 60 notes.
MOST = {"quote": 12, "claim": 8, "tension": 4, "watch": 8, "pending": 4}
_SYMBOLS = {"dollar": "$", "pound sterling": "£", "euro": "€", "japanese yen": "¥"}
_SI = {"watt": "W", "watt hour": "Wh", "metre": "m", "gram": "g"}
ABSENT = {
    "numbers": "no figures to put in perspective",
    "dates": "no dates ahead of the article's own",
    "quotes": "no quotation or attributed claim",
    "tensions": "no disagreement the article records",
}


def build(ctx: Context, facts: Sequence[Fact]) -> tuple[list[Note], list[str]]:
    """The notes of the article, and the kinds it gave nothing for (``ABSENT``'s keys)."""
    text = ctx.article.text
    spans = [(s.start, s.end) for s in ctx.sentences]
    if not spans:
        return [], list(ABSENT)
    notes: list[Note] = []
    found = amounts.find(text, spans, language=ctx.article.language)
    for d in perspective.derive(found, text, spans):
        notes.append(_computed(d, spans, facts))
    base = _article_date(ctx)
    items = ahead.find(text, spans, base=base, language=ctx.article.language)
    watch = [i for i in items if i.kind == "watch"][: MOST["watch"]]
    dated = {i.sentence for i in watch}
    # A decision with its date is told once, as a date to watch.
    pending = [i for i in items if i.kind == "pending" and i.sentence not in dated]
    pending = pending[: MOST["pending"]]
    for item in watch + pending:
        notes.append(_ahead(item, spans, facts))
    quoted = speech.quotations(text, spans)
    for q in quoted[: MOST["quote"]]:
        notes.append(_quote(q, spans, facts))
    claims = speech.attributions(text, spans)
    for c in claims[: MOST["claim"]]:
        notes.append(_claim(c, text, facts))
    sections = [(s.start, s.end) for pack in ctx.packs for s in pack]
    for t in speech.tensions(text, spans, sections)[: MOST["tension"]]:
        notes.append(_tension(t, text, spans, facts, claims))
    numbered = [n.model_copy(update={"id": f"n{i}"}) for i, n in enumerate(notes, start=1)]
    kinds = {n.kind for n in numbered}
    absent = [
        key
        for key, present in (
            ("numbers", kinds & set(perspective_kinds())),
            ("dates", kinds & {"watch", "pending"}),
            ("quotes", kinds & {"quote", "claim"}),
            ("tensions", kinds & {"tension"}),
        )
        if not present
    ]
    return numbered, absent


def perspective_kinds() -> tuple[str, ...]:
    """The kinds of computed notes."""
    return COMPUTED_KINDS


def standing(ctx: Context, facts: Sequence[Fact]) -> list[Fact]:
    """Each fact labelled by its sentences: attributed (to whom), forecast, estimate, stated."""
    text = ctx.article.text
    spans = [(s.start, s.end) for s in ctx.sentences]
    claims = speech.attributions(text, spans) if spans else []
    quoted = speech.quotations(text, spans) if spans else []
    labelled = []
    for f in facts:
        if f.start is None or f.end is None:
            labelled.append(f)
            continue
        start, end = f.start, f.end
        who = next((c.speaker for c in claims if c.start < end and start < c.end), None)
        if who is None:
            who = next(
                (q.speaker for q in quoted if q.speaker and q.start < end and start < q.end), None
            )
        sentence = " ".join(text[a:b] for a, b in spans if a < end and start < b) or f.text
        kind: Standing = speech.standing(sentence, who)  # type: ignore[assignment]
        labelled.append(f.model_copy(update={"standing": kind, "attributed_to": who}))
    return labelled


def _article_date(ctx: Context) -> dt.datetime | None:
    a = ctx.article
    written = a.date or byline.parse(a.byline, a.language).date_text
    return dates.article_date(written, a.language)


def _facts_in(spans: Sequence[tuple[int, int]], facts: Sequence[Fact]) -> list[str]:
    return [
        f.id
        for f in facts
        if f.grounded
        and f.start is not None
        and f.end is not None
        and any(a < (f.end or 0) and (f.start or 0) < b for a, b in spans)
    ]


def _sentence_spans(spans: Sequence[tuple[int, int]], indexes: Sequence[int]) -> list[Span]:
    return [Span(start=spans[i][0], end=spans[i][1]) for i in sorted(set(indexes))]


def _computed(d: Derived, spans: Sequence[tuple[int, int]], facts: Sequence[Fact]) -> Note:
    rests = _sentence_spans(spans, [a.sentence for a in d.inputs])
    inputs = [
        NoteInput(value=a.value, unit=a.unit, text=a.surface, start=a.start, end=a.end)
        for a in d.inputs
    ]
    return Note(
        id="n0",
        kind=d.kind,  # type: ignore[arg-type]
        text=describe(d),
        spans=rests,
        facts=_facts_in([(s.start, s.end) for s in rests], facts),
        operation=d.operation,
        formula=formula(d),
        inputs=inputs,
        result=d.result,
        unit=d.unit,
        approx=d.approx,
    )


def _ahead(item: ahead.Ahead, spans: Sequence[tuple[int, int]], facts: Sequence[Fact]) -> Note:
    rests = _sentence_spans(spans, [item.sentence])
    if item.kind == "watch":
        when = item.date or item.date_text or ""
        text = f"{when} ({item.date_text}): {item.text}" if item.date else f"{when}: {item.text}"
    else:
        text = f"pending: {item.text}"
    return Note(
        id="n0",
        kind=item.kind,  # type: ignore[arg-type]
        text=text,
        spans=rests,
        facts=_facts_in([(s.start, s.end) for s in rests], facts),
        date=item.date,
        date_text=item.date_text,
    )


def _quote(q: speech.Quotation, spans: Sequence[tuple[int, int]], facts: Sequence[Fact]) -> Note:
    who = q.speaker or "unnamed"
    said = q.text if len(q.text) <= 200 else q.text[:197].rsplit(" ", 1)[0] + "…"
    role = f" ({q.role})" if q.role else ""
    return Note(
        id="n0",
        kind="quote",
        text=f"{who}{role}: “{said}”",
        spans=[Span(start=q.start, end=q.end)],
        facts=_facts_in([(q.start, q.end)], facts),
        speaker=q.speaker,
        role=q.role,
    )


def _claim(c: speech.Attribution, text: str, facts: Sequence[Fact]) -> Note:
    role = f" ({c.role})" if c.role else ""
    sentence = _short(text[c.start : c.end], 30)
    return Note(
        id="n0",
        kind="claim",
        text=f"according to {c.speaker}{role}: {sentence}",
        spans=[Span(start=c.start, end=c.end)],
        facts=_facts_in([(c.start, c.end)], facts),
        speaker=c.speaker,
        role=c.role,
    )


def _tension(
    t: speech.Tension,
    text: str,
    spans: Sequence[tuple[int, int]],
    facts: Sequence[Fact],
    claims: Sequence[speech.Attribution],
) -> Note:
    one, other = spans[t.sentence], spans[t.other]
    who = next((c.speaker for c in claims if c.sentence == t.sentence), None)
    side = _short(text[one[0] : one[1]], 24)
    against = _short(text[other[0] : other[1]], 18)
    return Note(
        id="n0",
        kind="tension",
        text=f"{side} — against: {against}",
        spans=_sentence_spans(spans, [t.other, t.sentence]),
        facts=_facts_in([one, other], facts),
        speaker=who,
    )


def _short(sentence: str, words: int) -> str:
    parts = sentence.split()
    return " ".join(parts) if len(parts) <= words else " ".join(parts[:words]) + " …"


# ---- how numbers are written ------------------------------------------------------------------


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
    rounded = perspective.plain(value)
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

    if d.operation == "sum":
        return f"{' + '.join(n(x) for x in v[:-1])} = {n(r)} (whole: {n(v[-1])})"
    if d.operation == "share":
        return f"100 × {n(v[0])} / {n(v[1])} = {r:.1f}"
    if d.operation == "ratio":
        return f"{n(v[0])} / {n(v[1])} = {n(r)}"
    if d.operation == "relative":
        return f"100 × ({n(v[1])} − {n(v[0])}) / {n(v[0])} = {r:.1f}"
    if d.operation == "difference":
        return f"{n(v[1])} − {n(v[0])} = {n(r)}"
    if d.operation == "product":
        return f"{n(v[0])} × {n(v[1])} = {n(r)}"
    if d.operation == "implied_whole":
        return f"{n(v[0])} / ({n(v[1])}/100) = {n(r)}"
    if d.operation == "before_rise":
        return f"{n(v[1])} / (1 + {n(v[0])}/100) = {n(r)}"
    if d.operation == "before_fall":
        return f"{n(v[1])} / (1 − {n(v[0])}/100) = {n(r)}"
    return ""
