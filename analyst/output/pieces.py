"""The pieces the report's views share (Markdown, terminal, HTML): the header and footer lines,
the facts by section, how a fact stands, the analysis in pieces."""

from __future__ import annotations

from collections.abc import Iterator

from analyst.schema import Fact, Report


def facts_by_section(report: Report) -> Iterator[tuple[str | None, list[Fact]]]:
    """The facts under their sections' headings, in the sections' order (one pass)."""
    grouped: dict[str, list[Fact]] = {}
    for f in report.facts:
        grouped.setdefault(f.section, []).append(f)
    for section in report.sections:
        if section.id in grouped:
            yield section.heading, grouped.pop(section.id)


def header_line(report: Report) -> str:
    """Date (as written), author, site, where it came from, and its Source line, joined by ·."""
    m = report.metadata
    where = report.source.url
    parts = (m.date_text or m.date, m.author and f"by {m.author}", m.site, where, m.source_line)
    return " · ".join(p for p in parts if p)


def footer(report: Report) -> str:
    u = report.usage
    grounded = sum(1 for f in report.facts if f.grounded)
    verified = ""
    if any(f.verification for f in report.facts):
        n = sum(1 for f in report.facts if f.verification and f.verification.verdict == "supported")
        verified = f" · verified {n}/{grounded}"
    cost = f"${u.cost_usd:.4f}" if u.cost_usd is not None else "cost unknown"
    tokens = f"{u.prompt_tokens + u.completion_tokens:,} tokens"
    if u.tokens_estimated:
        tokens += " (estimated)"
    elif u.cached_prompt_tokens:
        tokens += f" ({u.cached_prompt_tokens:,} prompt tokens from the server's cache)"
    repairs = f" · {u.repairs} re-asks" if u.repairs else ""
    return (
        f"{report.model.name} ({report.model.backend}) · {u.calls} calls{repairs} · {tokens} · "
        f"{u.seconds:.1f} s · {cost} · facts grounded {grounded}/{report.facts_extracted}{verified}"
    )


LEGEND = (
    "✓ supported: the quote is in the article, and the sentence it stands in carries the fact's "
    "words, numbers and names. ✗: the quote was not found."
)
EXTRACTIVE_NOTE = "in the article's words: the model's own wording was not supported"


def quote_shown(fact: Fact) -> bool:
    """Whether a fact's quote says more than its text: not for a fact that is its sentence
    (``--fact-text sentence``), which would read twice."""
    return " ".join(fact.evidence.split()) != " ".join(fact.text.split())


VERDICT_NOTE = {
    "supported": "verified",
    "uncertain": "not verified: the article may not say this",
    "unsupported": "unsupported: the article does not say this; left out of the analysis",
}


def verdict_note(fact: Fact) -> str | None:
    return VERDICT_NOTE[fact.verification.verdict] if fact.verification else None


def standing_note(fact: Fact) -> str | None:
    """How the article gives the fact, when it is not its own plain statement."""
    if fact.standing == "attributed":
        return f"attributed to {fact.attributed_to}" if fact.attributed_to else "attributed"
    if fact.standing in ("forecast", "estimate"):
        return fact.standing
    return None


BACKGROUND = "background: the model's own knowledge, not in the article"


def analysis_pieces(report: Report) -> list[tuple[str, list[str]]]:
    """The analysis as (text, cited ids) pieces: one per part, so each sentence shows the facts
    and notes it rests on; a report written before the parts has one piece."""
    a = report.analysis
    if a.parts:
        return [
            (part.text, [*part.facts, *part.notes] or (["background"] if part.background else []))
            for part in a.parts.values()
            if part.text
        ]
    return [(a.text, [*a.facts, *a.notes])] if a.text else []


def no_synthesis_note(report: Report) -> str:
    return f"No summary, implications or analysis: {report.no_synthesis}."
