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
import functools
from collections.abc import Sequence

from analyst.reading import byline
from analyst.schema import COMPUTED_KINDS, Fact, Note, NoteInput, NoteKind, Span, Standing
from analyst.stages.context import Context
from analyst.text import ahead, amounts, dates, figures, perspective, speech, stance
from analyst.text.perspective import Derived

# Most notes of one kind a report carries: an article with 60 figures is not 60 notes.
MOST = {"quote": 12, "claim": 8, "tension": 4, "watch": 8, "pending": 4}
# What an article can give nothing of (``Report.notes_absent``; the views say it in words).
ABSENT = ("numbers", "dates", "quotes", "tensions")


def build(ctx: Context, facts: Sequence[Fact]) -> tuple[list[Note], list[str]]:
    """The notes of the article, and what it gave nothing of (``ABSENT``)."""
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
    quoted, claims = _voices(text, tuple(spans))
    for q in quoted[: MOST["quote"]]:
        notes.append(_quote(q, spans, facts))
    for c in claims[: MOST["claim"]]:
        notes.append(_claim(c, text, facts))
    sections = [(s.start, s.end) for pack in ctx.packs for s in pack]
    for t in stance.tensions(text, spans, sections)[: MOST["tension"]]:
        notes.append(_tension(t, text, spans, facts, claims))
    numbered = [n.model_copy(update={"id": f"n{i}"}) for i, n in enumerate(notes, start=1)]
    kinds = {n.kind for n in numbered}
    absent = [
        key
        for key, present in (
            ("numbers", kinds & set(COMPUTED_KINDS)),
            ("dates", kinds & {"watch", "pending"}),
            ("quotes", kinds & {"quote", "claim"}),
            ("tensions", kinds & {"tension"}),
        )
        if not present
    ]
    return numbered, absent


def standing(ctx: Context, facts: Sequence[Fact]) -> list[Fact]:
    """Each fact labelled by its sentences: attributed (to whom), forecast, estimate, stated."""
    text = ctx.article.text
    spans = [(s.start, s.end) for s in ctx.sentences]
    quoted, claims = _voices(text, tuple(spans)) if spans else ([], [])
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
        kind: Standing = stance.standing(sentence, who)  # type: ignore[assignment]
        update: dict[str, object] = {"standing": kind, "attributed_to": who}
        if f.cited and who:
            # The fact is its sentence: who said it is shown beside it (attributed_to), so a
            # trailing "…, the council said" need not be its last words too.
            update["text"] = speech.without_attribution(f.text) or f.text
        labelled.append(f.model_copy(update=update))
    return labelled


@functools.lru_cache(maxsize=8)
def _voices(
    text: str, spans: tuple[tuple[int, int], ...]
) -> tuple[list[speech.Quotation], list[speech.Attribution]]:
    """The article's quotations and attributed claims, read once for the facts' standing and
    for the notes (the same text and sentences, asked twice per report)."""
    return speech.quotations(text, spans), speech.attributions(text, spans)


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
        text=figures.describe(d),
        spans=rests,
        facts=_facts_in([(s.start, s.end) for s in rests], facts),
        operation=d.operation,
        formula=figures.formula(d),
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
    return _spoken("quote", f"{who}{role}: “{said}”", (q.start, q.end), facts, q.speaker, q.role)


def _claim(c: speech.Attribution, text: str, facts: Sequence[Fact]) -> Note:
    role = f" ({c.role})" if c.role else ""
    sentence = _short(text[c.start : c.end], 30)
    text = f"according to {c.speaker}{role}: {sentence}"
    return _spoken("claim", text, (c.start, c.end), facts, c.speaker, c.role)


def _spoken(
    kind: NoteKind,
    text: str,
    span: tuple[int, int],
    facts: Sequence[Fact],
    speaker: str | None,
    role: str | None,
) -> Note:
    """A note of what someone says: its words and the span they stand at."""
    return Note(
        id="n0",
        kind=kind,
        text=text,
        spans=[Span(start=span[0], end=span[1])],
        facts=_facts_in([span], facts),
        speaker=speaker,
        role=role,
    )


def _tension(
    t: stance.Tension,
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
