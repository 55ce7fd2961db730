"""The report as one self-contained HTML page: the article with every fact's passage highlighted
beside the facts, the summary, implications and analysis with citations that lead to them.

Everything that comes from the article or the model is untrusted: it reaches the page only
through Jinja2 with autoescape, as text or as an attribute value, never as markup. The page's
Content-Security-Policy allows no network and only its own script (by hash), so even markup that
slipped through could neither run nor load anything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape

from analyst.output.pieces import (
    EXTRACTIVE_NOTE,
    LEGEND,
    analysis_pieces,
    footer,
    no_synthesis_note,
    quote_shown,
    standing_note,
)
from analyst.schema import Fact, Report
from analyst.stages.notes.view import absent_line, note_groups


@dataclass(frozen=True)
class Span:
    """A stretch of the article that something of the report rests on."""

    id: str  # f1 (a fact), e1-r1 (a role), t1 (an event), e1-x1 (a relation)
    start: int
    end: int
    fact: bool


@dataclass
class Piece:
    """A stretch of the article between two span boundaries, and the spans that cover it."""

    text: str
    facts: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # spans that begin here
    classes: str = ""

    @property
    def labels(self) -> list[str]:
        """The facts whose passage begins here (shown as a label, not as text)."""
        facts = set(self.facts)  # a set: 20,000 facts on one passage made this quadratic
        return [a for a in self.anchors if a in facts]


def pieces(
    text: str,
    spans: Sequence[Span],
    classes: dict[str, str],
    marks: Sequence[tuple[str, int]] = (),
) -> list[Piece]:
    """``text`` cut at every span's start and end, so that spans that overlap or nest each
    cover whole pieces: a fact's passage is the run of pieces that name it, in order.
    ``marks`` are places to link to and nothing more (id, offset): the summary's sentences."""
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    marks = [(i, at) for i, at in marks if 0 <= at < len(text)]
    cuts = sorted(
        {0, len(text), *(s.start for s in spans), *(s.end for s in spans), *(at for _, at in marks)}
    )
    marked: dict[int, list[str]] = {}
    for i, at in marks:
        marked.setdefault(at, []).append(i)
    starting: dict[int, list[Span]] = {}
    for s in spans:
        starting.setdefault(s.start, []).append(s)
    # The spans that cover each piece, kept as the cuts go by (in the spans' order): not every
    # span checked at every cut, which was quadratic in spans.
    order = {id(s): n for n, s in enumerate(spans)}
    open_spans: list[Span] = []
    out: list[Piece] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        open_spans = [s for s in open_spans if s.end > a]
        if a in starting:
            open_spans = sorted([*open_spans, *starting[a]], key=lambda s: order[id(s)])
        covering = [s for s in open_spans if s.start <= a and b <= s.end]
        piece = Piece(
            text=text[a:b],
            facts=[s.id for s in covering if s.fact],
            others=[s.id for s in covering if not s.fact],
            anchors=[*marked.get(a, []), *(s.id for s in starting.get(a, []))],
        )
        piece.classes = " ".join(sorted({classes[i] for i in piece.facts if i in classes}))
        out.append(piece)
    return out


def summary_marks(report: Report) -> list[tuple[str, int]]:
    """Where each of the summary's sentences stands in the article, when the summary is the
    article's own sentences (``summary_spans``): "sum1" at its start…"""
    return [(f"sum{n}", s.start) for n, s in enumerate(report.summary_spans, start=1)]


def summary_sentences(report: Report, text: str | None) -> list[tuple[str, str]]:
    """The summary's sentences with the anchor each leads to, when it is the article's own
    sentences and the article is on the page; else nothing (the paragraph is shown)."""
    if not text or not report.summary_spans:
        return []
    return [
        (f"sum{n}", " ".join(text[s.start : s.end].split()))
        for n, s in enumerate(report.summary_spans, start=1)
    ]


def fact_state(fact: Fact) -> str:
    """One word for how far a fact is proved: verified, uncertain, unsupported (by the
    verifier), supported (its passage carries it, not verified), or ungrounded."""
    if not fact.grounded:
        return "ungrounded"
    if fact.verification is not None:
        return {"supported": "verified"}.get(fact.verification.verdict, fact.verification.verdict)
    return "supported"


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("analyst.output", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _asset(name: str) -> str:
    """A file of ``templates/`` ("" when there is none: a page without a script)."""
    path = resources.files("analyst.output").joinpath("templates", name)
    return path.read_text("utf-8") if path.is_file() else ""


def _hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def render(template: str, *, connect: bool = False, **context: Any) -> str:
    """Fill ``template`` with its page's script and style, under a policy that allows only
    that script, and no network unless ``connect`` (the served page talks to its server)."""
    script, style = _asset(template.replace(".html", ".js")), _asset("style.css")
    network = "'self'" if connect else "'none'"
    policy = (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src '{_hash(script)}'; connect-src {network}; base-uri 'none'; "
        f"form-action {network}"
    )
    page = _environment().get_template(template)
    return page.render(script=script, style=style, policy=policy, **context)


def to_html(report: Report, text: str | None = None) -> str:
    """The report as a page; ``text`` is the article the offsets refer to (by default the
    report's own ``source.text``, which ``--include-text`` and ``--format html`` put there).
    Without it the page shows the quotes under the facts instead of the article."""
    text = text if text is not None else report.source.text
    spans = [
        Span(f.id, f.start, f.end, True)
        for f in report.facts
        if f.grounded and f.start is not None and f.end is not None
    ]
    for entity in report.entities:
        spans += [
            Span(f"{entity.id}-r{n}", r.start, r.end, False)
            for n, r in enumerate(entity.roles, start=1)
        ]
    spans += [Span(e.id, e.start, e.end, False) for e in report.timeline]
    for note in report.notes:
        # A computed note leads to each of its inputs; any other note to its sentences.
        spans += [
            Span(f"{note.id}-i{n}", i.start, i.end, False)
            for n, i in enumerate(note.inputs, start=1)
        ] or [
            Span(f"{note.id}-s{n}", s.start, s.end, False)
            for n, s in enumerate(note.spans, start=1)
        ]
    states = {f.id: fact_state(f) for f in report.facts}
    matches = {f.id: f.match.value for f in report.facts}
    classes = {i: f"{states[i]} {matches[i]}" for i in states}
    names = {e.id: e.name for e in report.entities}
    grounded = [f for f in report.facts if f.grounded]
    counts = {
        state: sum(1 for f in report.facts if states[f.id] == state)
        for state in ("verified", "supported", "uncertain", "unsupported", "ungrounded")
    }
    return render(
        "report.html",
        report=report,
        text=text,
        pieces=pieces(text, spans, classes, summary_marks(report)) if text else [],
        summary=summary_sentences(report, text),
        states=states,
        counts={k: v for k, v in counts.items() if v},
        grounded=len(grounded),
        names=names,
        analysis=analysis_pieces(report),
        note_groups=list(note_groups(report)),
        standing=standing_note,
        quote_shown=quote_shown,
        absent=absent_line(report),
        legend=LEGEND,
        extractive_note=EXTRACTIVE_NOTE,
        no_synthesis=no_synthesis_note(report) if report.no_synthesis else None,
        footer=footer(report),
    )


def index_card(report: Report) -> dict[str, object]:
    """What the batch's index shows of a report (kept in the manifest, so that a later run's
    index lists the articles of earlier runs without reading their reports)."""
    states = [fact_state(f) for f in report.facts]
    return {
        "title": report.title,
        "date": report.metadata.date,
        "site": report.metadata.site,
        "facts": sum(1 for s in states if s != "ungrounded"),
        "verified": states.count("verified"),
        "uncertain": states.count("uncertain"),
        "unsupported": states.count("unsupported"),
        "entities": len(report.entities),
        "summary": report.summary[:300],
        "no_synthesis": report.no_synthesis,
    }


def _href(output: str) -> str:
    """A link to a report file beside the index: percent-encoded, and always relative (a file
    named ``javascript:x.html`` stays a file)."""
    return "./" + quote(output)


def to_index(entries: Sequence[dict[str, Any]], source: Path | None = None) -> str:
    """The batch's ``index.html``: every article with its title, date, facts, verified counts
    or failure, and a link to its report; sortable by any column, from disk."""
    rows = []
    for entry in entries:
        pages = [o for o in entry["outputs"] if o.endswith(".html")]
        rows.append({**entry, "href": _href(pages[0]) if pages else None})
    failed = sum(1 for r in rows if r["status"] == "failed")
    return render(
        "index.html",
        rows=rows,
        source=str(source) if source is not None else None,
        ok=sum(1 for r in rows if r["status"] == "ok"),
        failed=failed,
    )
