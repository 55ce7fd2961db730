"""Reports as JSON and Markdown: plain text, no terminal library."""

from __future__ import annotations

import re
from collections.abc import Iterator

from analyst.schema import Fact, Note, Relation, Report


def to_json(report: Report) -> str:
    """The report as indented JSON, the contract ``analyst schema`` describes."""
    return report.model_dump_json(indent=2) + "\n"


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


def cites(ids: list[str]) -> str:
    return f"[{', '.join(ids)}]" if ids else ""


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


# The notes by what a reader asks of them, in the views' order.
NOTE_GROUPS = (
    ("Numbers in perspective", ("discrepancy", "sum", "share", "multiple", "before", "change",
                                "whole", "rate", "total")),
    ("What to watch", ("watch", "pending")),
    ("Who says what", ("quote", "claim")),
    ("Tensions", ("tension",)),
)  # fmt: skip
ABSENT = {
    "numbers": "no figures to put in perspective",
    "dates": "no dates ahead of the article's own",
    "quotes": "no quotation or attributed claim",
    "tensions": "no disagreement the article records",
}


def note_groups(report: Report) -> Iterator[tuple[str, list[Note]]]:
    """The report's notes by group (only the groups that have notes)."""
    for title, kinds in NOTE_GROUPS:
        notes = [n for n in report.notes if n.kind in kinds]
        notes.sort(key=lambda n: kinds.index(n.kind) if title.startswith("Numbers") else 0)
        if notes:
            yield title, notes


def absent_line(report: Report) -> str | None:
    """What the article gave nothing to note of, in one line."""
    said = [ABSENT[k] for k in report.notes_absent if k in ABSENT]
    return ("The article gives " + "; ".join(said) + ".") if said else None


def _notes(report: Report) -> list[str]:
    if not report.notes and not report.notes_absent:
        return []  # a report written before notes
    out = ["## Notes", "", "*Computed by analyst from the article's own sentences; no model.*", ""]
    for title, notes in note_groups(report):
        out += [f"### {title}", ""]
        for n in notes:
            line = f"- **{n.id}** {md(n.text)}"
            if n.formula:
                line += f" — `{md(n.formula)}`"
            out.append(line + (f" {cites(n.facts)}" if n.facts else ""))
        out.append("")
    absent = absent_line(report)
    if absent:
        out += [f"*{md(absent)}*", ""]
    return out


def no_synthesis_note(report: Report) -> str:
    return f"No summary, implications or analysis: {report.no_synthesis}."


# Markdown's inline syntax: emphasis, code, links and images, raw HTML, tables, strikethrough,
# entities, and the backslash itself.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# What starts a block when it starts a line: a heading, quote, list item, rule or setext line.
_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def md(text: str) -> str:
    """Text from the article or the model as Markdown that renders as exactly that text.

    It is untrusted: a ``<script>``, a ``[link](http://evil)``, ``*emphasis*`` or a line that
    starts with ``#`` must show as written, not become HTML, a link, style or a heading. Line
    breaks become spaces, so no text can end its list item or quote and start a block of its own.
    """
    text = _INLINE.sub(r"\\\1", " ".join(text.split()))
    return _BLOCK_START.sub(_defuse_block, text)


def _defuse_block(match: re.Match[str]) -> str:
    lead, mark = match.groups()
    # "1. " is defused as "1\. " (a digit takes no backslash); "# " as "\# ".
    return lead + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)


def relations_of(report: Report, subject: str) -> list[tuple[Relation, str]]:
    """The relations that start from entity ``subject``, with the name of the other end."""
    names = {e.id: e.name for e in report.entities}
    return [(r, names.get(r.object, r.object)) for r in report.relations if r.subject == subject]


def _who(report: Report) -> list[str]:
    """Who's who and the timeline as Markdown lines (nothing when the report has neither)."""
    out: list[str] = []
    if report.entities:
        out += ["## Who's who", ""]
        for entity in report.entities:
            also = f", also {', '.join(md(a) for a in entity.aliases)}" if entity.aliases else ""
            out.append(f"- **{md(entity.name)}** ({entity.type}{also})")
            for role in entity.roles:
                out += [f"  - {md(role.text)}", f"    > {md(role.evidence)}"]
            for relation, other in relations_of(report, entity.id):
                line = f"  - *{relation.relation}* **{md(other)}**"
                out += [line, f"    > {md(relation.evidence)}"]
        out.append("")
    if report.timeline:
        out += ["## Timeline", ""]
        for event in report.timeline:
            how = (
                f' *("{md(event.date_text)}", resolved)*' if event.date_source == "relative" else ""
            )
            out += [f"- **{event.date}** {md(event.event)}{how}", f"  > {md(event.evidence)}"]
        out.append("")
    return out


def to_markdown(report: Report) -> str:
    """The report as Markdown, with the same content as the terminal view."""
    out: list[str] = [f"# {md(report.title or 'Untitled article')}", ""]
    meta = header_line(report)
    if meta:
        out += [f"*{md(meta)}*", ""]
    summary = md(report.summary) if report.summary else f"*{md(no_synthesis_note(report))}*"
    out += ["## Summary", "", summary, "", "## Key facts", "", f"*{LEGEND}*", ""]
    for heading, facts in facts_by_section(report):
        if heading:
            out += [f"### {md(heading)}", ""]
        for fact in facts:
            mark = "✓" if fact.grounded else "✗ (quote not found in the article)"
            if fact.extractive:
                mark += f" *({EXTRACTIVE_NOTE})*"
            note = verdict_note(fact)
            if note:
                mark += f" *({note})*"
            how = standing_note(fact)
            if how:
                mark += f" *({md(how)})*"
            out.append(f"- **{md(fact.id)}** {md(fact.text)} {mark}")
            if quote_shown(fact):
                out.append(f"  > {md(fact.evidence)}")
        out.append("")
    out += _who(report)
    out += _notes(report)
    if not report.no_synthesis:
        out += ["## Implications", ""]
        for n, imp in enumerate(report.implications, start=1):
            ids = [md(i) for i in (*imp.facts, *imp.notes)]
            mark = f" *({BACKGROUND})*" if imp.background else ""
            out.append(f"{n}. {md(imp.text)}{mark} {cites(ids)}".rstrip())
        pieces = " ".join(
            f"{md(text)} {cites([md(i) for i in ids])}".rstrip()
            for text, ids in analysis_pieces(report)
        )
        out += ["", "## AI Analysis", ""]
        if report.analysis.composed:
            out += ["*Composed by analyst from the notes and the facts.*", ""]
        out.append(pieces)
    if report.warnings:
        out += ["", "## Warnings", ""] + [f"- {md(w)}" for w in report.warnings]
    out += ["", "---", "", f"*{md(footer(report))}*", ""]
    return "\n".join(out)
