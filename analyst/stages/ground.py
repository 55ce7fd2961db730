"""Stage 2, ground (no model): locate each fact's quote in the article, exactly, normalized or
fuzzily (``analyst.text.quotes``); drop duplicates; number the facts in the article's order."""

from __future__ import annotations

from analyst.schema import Fact
from analyst.stages.context import Context
from analyst.stages.extract import ExtractedFact
from analyst.text.quotes import Grounder, Location, MatchKind, absent_terms
from analyst.text.sections import Section


def ground(ctx: Context, extracted: list[ExtractedFact], sections: list[Section]) -> list[Fact]:
    """The facts with their located quotes (ungrounded ones too, marked), ordered by position."""
    source = ctx.article.text
    regions = [(part, sec) for sec in sections for part in sec.parts]
    first_region: dict[str, int] = {}
    for i, (_, sec) in enumerate(regions):
        first_region.setdefault(sec.id, i)
    grounder = Grounder(source, [r for r, _ in regions])
    seen: set[tuple[int, int]] = set()
    seen_text: set[str] = set()
    located: list[tuple[ExtractedFact, Location | None, str]] = []
    for ef in extracted:
        key = " ".join(ef.text.lower().split())
        if key in seen_text:
            continue
        seen_text.add(key)
        prefer = first_region.get(ef.section)
        # A fact whose text is itself a sentence of the article proves itself, wherever the
        # model's quote points: small models often quote one sentence and copy the next as
        # the fact (measured on the examples). Short fragments do not count.
        loc = None
        if len(ef.text.split()) >= 8:
            loc = grounder.locate(ef.text, prefer, fuzzy=False)
        if loc is None:
            loc = grounder.locate(ef.evidence, prefer)
        section = ef.section if ef.section in first_region else sections[0].id
        if loc is not None:
            if (loc.start, loc.end) in seen:
                continue
            seen.add((loc.start, loc.end))
            # The quote's position, not the model's tag, decides the section.
            section = next(sec.id for (a, b), sec in regions if a <= loc.start < b)
        located.append((ef, loc, section))
    located.sort(key=lambda item: (item[1] is None, item[1].start if item[1] else 0))
    facts = [_fact(ctx, n, ef, loc, section) for n, (ef, loc, section) in enumerate(located, 1)]
    dropped = sum(1 for f in facts if not f.grounded)
    if dropped:
        what = "kept and marked" if ctx.settings.keep_ungrounded else "left out"
        ctx.warnings.append(
            f"{dropped} of {len(facts)} facts {what}: their quotes are not in the article"
        )
    if not any(f.grounded for f in facts):
        ctx.warnings.append("no fact could be grounded in the article")
    return facts


def _fact(ctx: Context, n: int, ef: ExtractedFact, loc: Location | None, section: str) -> Fact:
    source = ctx.article.text
    if loc is not None and ctx.facts_cited:
        # The sentence itself, with the quotation marks that locating a quote strips.
        whole = next((s for s in ctx.sentences if s.start <= loc.start and loc.end <= s.end), None)
        if whole is not None:
            loc = Location(whole.start, whole.end, loc.match, loc.score)
    missing = absent_terms(ef.text, source, names=ctx.names_comparable())
    if loc and missing:
        ctx.warnings.append(
            f"fact f{n} mentions {', '.join(missing)}, which the article never does"
        )
    return Fact(
        id=f"f{n}",
        section=section,
        text=ef.text.strip(),
        evidence=source[loc.start : loc.end] if loc else ef.evidence,
        start=loc.start if loc else None,
        end=loc.end if loc else None,
        match=loc.match if loc else MatchKind.NONE,
        grounded=loc is not None,
        absent_terms=missing,
        cited=ctx.facts_cited and loc is not None,
    )
