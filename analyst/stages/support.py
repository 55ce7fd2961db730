"""Stage 2b, support (no model): a quote must say its fact, not only exist.

Each grounded fact is tested against the sentences its quote stands in (``text.support``): most of
its content words, and every number and name, must be there. A fact that fails keeps its quote
and takes the quoted sentence as its text — an extractive fact, certainly true — and is counted in
the warnings; so every ✓ a reader sees means *supported*. When the report is written in another
language than the article, words cannot be compared and facts go untested (``support: null``).
"""

from __future__ import annotations

from analyst.schema import Fact
from analyst.stages.context import Context
from analyst.text.support import check

PROMPTS: tuple[str, ...] = ()


def support(ctx: Context, facts: list[Fact]) -> list[Fact]:
    """The facts with their support share; unsupported ones rewritten as their passage."""
    if not ctx.same_language():
        return facts
    source = ctx.article.text
    kept: list[Fact] = []
    texts: set[str] = set()
    rewritten: list[str] = []
    for fact in facts:
        if not fact.grounded or fact.start is None or fact.end is None:
            kept.append(fact)
            continue
        found = check(fact.text, source, fact.start, fact.end, names=ctx.names_comparable())
        if found.supported:
            fact = fact.model_copy(update={"support": found.share})
        else:
            rewritten.append(fact.id)
            update = {"text": found.passage, "support": 1.0, "extractive": True, "absent_terms": []}
            fact = fact.model_copy(update=update)
        key = " ".join(fact.text.lower().split())
        if key in texts:
            continue  # two facts whose passage is the same sentence: one is enough
        texts.add(key)
        kept.append(fact)
    if rewritten:
        ctx.warnings.append(
            f"{len(rewritten)} of {len(facts)} facts ({', '.join(rewritten)}) were not supported "
            "by the sentence their quote stands in; each now states that sentence"
        )
    return kept
