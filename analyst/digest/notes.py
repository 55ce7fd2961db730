"""Notes across outlets: what several articles compute alike, and the figures and dates they
give differently (no model).

Each report's notes (``analyst.stages.notes``) are compared with the other articles':

- a computed note of one kind, unit and result (to three significant digits) in several
  articles is one digest note with every source ("$250 M is 61% of $412 M", said twice);
- a date to watch is one digest note when two articles give the same date for a sentence that
  shares words ("construction … April 2027");
- **differences**: the same thing with two amounts — the same currency or unit in clauses that
  share at least two words of what they measure ("the state will cover $250 million through
  its infrastructure fund" against "the state will pay $260 million … from its infrastructure
  fund") — or two dates ("Construction is scheduled to begin in April 2027" against "in May
  2027").

Amounts are read from the article's text where the report carries it (``--include-text``), else
from the facts' quotes and the notes' own lines; either way each side keeps its words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analyst.digest.briefing import Difference, DigestArticle, DigestNote, NoteSource, Side
from analyst.schema import COMPUTED_KINDS, Note, Report
from analyst.text import amounts
from analyst.text.carries import content_words, stem
from analyst.text.figures import amount
from analyst.text.perspective import plain
from analyst.text.split import spans

SHARED_WORDS = 2  # words of what two amounts measure they must share to be one thing
BLOCK = 64  # a word more items share than this proposes no pair (it says nothing of which)
PER_ITEM = 16  # pairs one figure or date proposes, the most words shared first
MOST = 100  # differences listed at most
_GENERIC = frozenset("year month week day new last next first time people per said".split())


@dataclass(frozen=True)
class _Figure:
    article: str
    value: float
    key: tuple[str, str, str | None]
    words: frozenset[str]
    text: str  # the sentence it stands in
    surface: str
    start: int | None
    end: int | None


def across(articles: Sequence[DigestArticle], reports: Sequence[Report]) -> tuple[
    list[DigestNote], list[Difference]
]:  # fmt: skip
    """The notes several articles share, and the amounts and dates they give differently."""
    shared = _shared_notes(articles, reports)
    differences = _amounts_differ(articles, reports) + _dates_differ(articles, reports)
    return shared, [d.model_copy(update={"id": f"m{i}"}) for i, d in enumerate(differences, 1)]


def _shared_notes(articles: Sequence[DigestArticle], reports: Sequence[Report]) -> list[DigestNote]:
    groups: dict[tuple[object, ...], list[tuple[str, Note]]] = {}
    for article, report in zip(articles, reports, strict=True):
        for note in report.notes:
            if note.kind in COMPUTED_KINDS and note.result is not None:
                key: tuple[object, ...] = (note.kind, note.unit, plain(note.result))
            elif note.kind == "watch" and note.date:
                key = ("watch", note.date, _topic(note.text))
            else:
                continue
            groups.setdefault(key, []).append((article.id, note))
    found: list[DigestNote] = []
    for members in groups.values():
        if len({a for a, _ in members}) < 2:
            continue
        first = members[0][1]
        found.append(
            DigestNote(
                id=f"k{len(found) + 1}",
                kind=first.kind,
                text=first.text,
                sources=[NoteSource(article=a, note=n.id, text=n.text) for a, n in members],
                articles=len({a for a, _ in members}),
            )
        )
    return found


def _topic(text: str) -> frozenset[str]:
    """The words a dated item is about, stemmed: two outlets' "construction … to begin"."""
    return frozenset(stem(w) for w in content_words(text) if not w.isdigit()) - _GENERIC


def _figures(article: DigestArticle, report: Report) -> list[_Figure]:
    text = report.source.text
    language = report.metadata.language
    found: list[_Figure] = []
    if text:
        body = spans(text, language=language)
        for x in amounts.find(text, body, language=language, quick=True):
            a, b = body[x.sentence]
            found.append(
                _Figure(article.id, x.value, x.key, x.words, text[a:b], x.surface, x.start, x.end)
            )
        return found
    # Without the article's text: the facts' quotes and the notes' own lines.
    pieces = [(f.evidence, f.start) for f in report.facts if f.grounded]
    # A claim note reads "according to X: <its sentence>": the sentence is what is compared.
    pieces += [(n.text.split(": ", 1)[-1], None) for n in report.notes if n.kind == "claim"]
    for piece, offset in pieces:
        for x in amounts.find(
            piece, spans(piece, language=language), language=language, quick=True
        ):
            start = offset + x.start if offset is not None else None
            end = offset + x.end if offset is not None else None
            found.append(_Figure(article.id, x.value, x.key, x.words, piece, x.surface, start, end))
    return found


def _amounts_differ(
    articles: Sequence[DigestArticle], reports: Sequence[Report]
) -> list[Difference]:
    figures = [f for a, r in zip(articles, reports, strict=True) for f in _figures(a, r)]
    figures = [f for f in figures if f.key[0] in ("currency", "count")]
    given: dict[tuple[str, tuple[str, str, str | None]], list[float]] = {}
    for f in figures:
        given.setdefault((f.article, f.key), []).append(f.value)
    found: list[Difference] = []
    seen: set[tuple[str, str]] = set()
    for i, j in _pairs(figures, [f.words - _GENERIC for f in figures], lambda f: f.key):
        x, y = figures[i], figures[j]
        if abs(x.value - y.value) <= 0.01 * max(abs(x.value), abs(y.value)):
            continue  # the same figure, written alike or rounded
        if any(_near(v, x.value) for v in given[(y.article, y.key)]):
            continue  # the other outlet gives this figure too, elsewhere: no disagreement
        pair = (f"{x.article}:{x.surface}", f"{y.article}:{y.surface}")
        if pair in seen or len(found) == MOST:
            continue
        seen.add(pair)
        found.append(Difference(id="m0", kind="amount", sides=[_side(x), _side(y)]))
    return found


def _pairs(
    items: Sequence[_Figure | _Dated],
    words: Sequence[frozenset[str]],
    kind: Callable[[Any], object],
) -> list[tuple[int, int]]:
    """Pairs of items of different articles and one ``kind`` that share ``SHARED_WORDS``
    words, by blocking: a word more than ``BLOCK`` items share is too common to propose pairs
    (a beat's "council", "budget"), and each item proposes at most ``PER_ITEM``, so thousands
    of look-alike reports cost a number of pairs linear in them."""
    postings: dict[tuple[object, str], list[int]] = {}
    for i, held in enumerate(words):
        for w in held:
            postings.setdefault((kind(items[i]), w), []).append(i)
    found: list[tuple[int, int]] = []
    for i, held in enumerate(words):
        shared: Counter[int] = Counter()
        for w in held:
            posting = postings[(kind(items[i]), w)]
            if len(posting) <= BLOCK:
                shared.update(j for j in posting if j > i)
        near = [
            j
            for j, n in sorted(shared.items(), key=lambda x: (-x[1], x[0]))
            if n >= SHARED_WORDS and items[j].article != items[i].article
        ]
        found += [(i, j) for j in near[:PER_ITEM]]
    return found


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 0.01 * abs(b)


def _side(f: _Figure) -> Side:
    value = amount(f.value, f.key[1], per=f.key[2]) if f.key[0] == "currency" else f.surface
    return Side(article=f.article, value=value, text=f.text, start=f.start, end=f.end)


def _dates_differ(articles: Sequence[DigestArticle], reports: Sequence[Report]) -> list[Difference]:
    dated = [
        _Dated(a.id, n, _topic(n.text), r.source.text)
        for a, r in zip(articles, reports, strict=True)
        for n in r.notes
        if n.kind == "watch" and n.date
    ]
    given: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for d in dated:
        given.setdefault(d.article, []).append((d.note.date or "", d.topic))
    found: list[Difference] = []
    for i, j in _pairs(dated, [d.topic for d in dated], lambda d: "watch"):
        x, y = dated[i], dated[j]
        if x.note.date == y.note.date or len(found) == MOST:
            continue
        if any(
            date == y.note.date and len(topic & x.topic) >= SHARED_WORDS
            for date, topic in given[x.article]
        ):
            continue  # the first outlet gives the other date too
        sides = [_date_side(d.article, d.note, d.text) for d in (x, y)]
        found.append(Difference(id="m0", kind="date", sides=sides))
    return found


@dataclass(frozen=True)
class _Dated:
    article: str
    note: Note
    topic: frozenset[str]
    text: str | None


def _date_side(article: str, note: Note, text: str | None) -> Side:
    """A date as an article gives it: its sentence, with offsets where the report has the text."""
    span = note.spans[0] if note.spans else None
    if text and span is not None:
        return Side(
            article=article, value=note.date or "", text=text[span.start : span.end],
            start=span.start, end=span.end,
        )  # fmt: skip
    said = note.text.split(": ", 1)[-1]
    return Side(article=article, value=note.date or "", text=said, start=None, end=None)
