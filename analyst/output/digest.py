"""The digest's views: JSON, Markdown (which the terminal shows rendered) and one HTML page.

Everything from an article or a model is untrusted here as in a report's views: Markdown goes
through ``md``, the page through Jinja2's autoescape.
"""

from __future__ import annotations

from collections import Counter

from analyst.digest.briefing import Digest, DigestFact
from analyst.output.html import render
from analyst.text.markdown import cites, md


def to_json(digest: Digest) -> str:
    """The digest as JSON (``analyst schema --digest`` is its schema)."""
    return digest.model_dump_json(indent=2) + "\n"


def reported(fact: DigestFact, total: int) -> str:
    """ "reported by 3 of 7", or "one article (a2)"."""
    if fact.single_source:
        return f"single source ({fact.sources[0].article})"
    return f"reported by {fact.articles} of {total}"


def counts(digest: Digest) -> str:
    """One line: articles, facts, how many several articles state, contradictions."""
    shared = sum(1 for f in digest.facts if not f.single_source)
    stories = len({f.story for f in digest.facts})
    return (
        f"{_n(len(digest.articles), 'article')} · {_n(stories, 'story', 'stories')} · "
        f"{_n(len(digest.facts), 'fact')}, {shared} stated by more than one article · "
        f"{_n(len(digest.contradictions), 'contradiction')}"
        + (f" · {_n(len(digest.differences), 'figure or date', 'figures or dates')} that differ"
           if digest.differences else "")
    )  # fmt: skip


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _side(digest: Digest, value: str, said: str, article: str, tail: str = "") -> str:
    """One side of a disagreement: the value, the sentence that gives it, the outlet."""
    title = digest.article(article).title or article
    return f"  - {md(value)}: “{md(said)}” — {md(title)}{tail}"


def to_markdown(digest: Digest) -> str:
    """The digest as Markdown: the briefing, then its proof."""
    total = len(digest.articles)
    out = ["# Digest", "", counts(digest), ""]
    if digest.summary:
        out += ["## Summary", "", md(digest.summary), ""]
    latest, new = digest.new_facts()
    if new:
        out += [f"## New on {latest}", "", "Stated by no earlier article:", ""]
        out += [f"- **{f.id}** {md(f.text)} — {reported(f, total)}" for f in new]
        out.append("")
    if digest.contradictions:
        out += ["## Where sources disagree", ""]
        for c in digest.contradictions:
            out.append(f"- **{c.id}** ({c.kind})")
            out += [
                _side(digest, v.value, s.evidence, s.article, f" ({fid})")
                for v in c.versions
                for fid in v.facts
                for s in digest.fact(fid).sources
            ]
        out.append("")
    if digest.differences:
        out += ["## Figures and dates that differ", ""]
        for d in digest.differences:
            out.append(f"- **{d.id}** ({d.kind})")
            out += [_side(digest, x.value, x.text, x.article) for x in d.sides]
        out.append("")
    if digest.notes:
        out += ["## Notes several articles share", ""]
        for n in digest.notes:
            where = ", ".join(f"{s.article}/{s.note}" for s in n.sources)
            out.append(f"- **{n.id}** ({n.kind}) {md(n.text)} [{where}]")
        out.append("")
    for heading, chosen in (
        ("Established by several sources", [f for f in digest.facts if not f.single_source]),
        ("Single-source claims", [f for f in digest.facts if f.single_source]),
    ):
        if not chosen:
            continue
        out += [f"## {heading}", ""]
        for f in chosen:
            out.append(f"- **{f.id}** {md(f.text)} — {reported(f, total)}")
            for s in f.sources:
                out.append(f"  - {s.article}/{s.fact}: “{md(s.evidence)}” [{s.start}–{s.end}]")
        out.append("")
    if digest.implications:
        out += ["## Implications", ""]
        out += [f"- {md(p.text)} {cites(p.facts)}" for p in digest.implications]
        out.append("")
    if digest.analysis:
        out += [
            "## AI Analysis",
            "",
            f"{md(digest.analysis.text)} {cites(digest.analysis.facts)}",
            "",
        ]
    if digest.entities:
        out += ["## Who's who", ""]
        for e in digest.entities:
            roles = "; ".join(dict.fromkeys(md(r.text) for r in e.roles))
            also = f" (also {', '.join(md(a) for a in e.aliases)})" if e.aliases else ""
            where = ", ".join(e.articles)
            out.append(
                f"- **{md(e.name)}**{also}, {e.type}{': ' + roles if roles else ''} [{where}]"
            )
        out.append("")
    if digest.timeline:
        out += ["## Timeline", ""]
        for ev in digest.timeline:
            where = ", ".join(dict.fromkeys(s.article for s in ev.sources))
            out.append(f"- **{ev.date}** {md(ev.event)} [{where}]")
        out.append("")
    out += ["## Sources", ""]
    for a in digest.articles:
        out.append(
            f"- **{a.id}** {md(a.title or '(untitled)')} — {md(a.source or '')}"
            + (f", {a.date}" if a.date else "")
        )
    out.append("")
    decided = Counter(d.outcome for d in digest.decisions)
    weighed = len(digest.decisions) + digest.decisions_unlisted
    out.append(
        f"*{weighed} pairs weighed: {decided['same']} same, "
        f"{decided['contradicts']} contradicting, {decided['apart'] + digest.decisions_unlisted} "
        "apart.*"
    )
    if digest.usage:
        u = digest.usage
        cached = f", {u.cache_hits} from the call cache" if u.cache_hits else ""
        name = md(digest.model.name) if digest.model else ""
        out.append(
            f"*Written by {name}: {_n(u.calls + u.cache_hits, 'call')}{cached}, {u.seconds:.0f} s.*"
        )
    for w in digest.warnings:
        out.append(f"*Note: {md(w)}*")
    return "\n".join(out) + "\n"


def to_html(digest: Digest) -> str:
    """The digest as one self-contained page: contradictions side by side, each fact with the
    quotes of every source."""
    total = len(digest.articles)
    latest, new = digest.new_facts()
    return render(
        "digest.html",
        digest=digest,
        counts=counts(digest),
        reported={f.id: reported(f, total) for f in digest.facts},
        titles={a.id: a.title or a.id for a in digest.articles},
        facts={f.id: f for f in digest.facts},
        new={f.id for f in new},
        latest=latest,
    )
