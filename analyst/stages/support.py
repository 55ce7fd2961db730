"""Stage 2b, support: a quote must say its fact, not only exist.

Each grounded fact is tested against the sentences its quote stands in (``text.carries``, no
model): most of its content words, and every number and name, must be there. The facts that fail
are re-asked once, together, in one short call that shows each with its passage (on an article's
shared prefix, so the model reads little more than them). A rewrite that passes the test
replaces the fact's text; a fact that still fails takes the quoted sentence as its text — an
extractive fact, certainly true. Both are counted in the warnings, so every ✓ a reader sees
means *supported*. When the report is written in another language than the article, words
cannot be compared and facts go untested (``support: null``).
"""

from __future__ import annotations

from pydantic import Field

from analyst.model.ask import Calls
from analyst.schema import Fact
from analyst.stages.context import Context, escape
from analyst.stages.contract import Stage
from analyst.stages.replies import Strict, hold
from analyst.text.carries import Support, check


class Rewrite(Strict):
    """A fact written again from its passage, after its first wording failed the support test."""

    id: str
    text: str = Field(min_length=1)


class Rewrites(Strict):
    """The reply to the support re-ask (``stages.support``)."""

    facts: list[Rewrite]


def support(ctx: Context, facts: list[Fact]) -> Calls[list[Fact]]:
    """The facts with their support share; unsupported ones re-asked once, then rewritten as
    their passage."""
    if not ctx.same_language():
        return facts
    names = ctx.names_comparable()
    source = ctx.article.text
    language = ctx.article.language

    def test(fact: Fact, text: str) -> Support:
        return check(text, source, fact.start or 0, fact.end or 0, names=names, language=language)

    tested = [f for f in facts if f.grounded and f.start is not None and f.end is not None]
    checks = {f.id: test(f, f.text) for f in tested}
    failing = [f for f in tested if not checks[f.id].supported]
    rewrites: dict[str, str] = {}
    if failing and ctx.settings.repairs > 0:
        rewrites = yield from _reask(ctx, failing, checks)
    kept: list[Fact] = []
    texts: set[str] = set()
    rewritten, extractive = [], []
    for fact in facts:
        found = checks.get(fact.id)
        if found is not None and found.supported:
            fact = fact.model_copy(update={"support": found.share})
        elif found is not None:
            again = rewrites.get(fact.id)
            second = test(fact, again) if again else None
            if again and second and second.supported:
                rewritten.append(fact.id)
                update = {"text": again, "support": second.share, "absent_terms": []}
            else:
                extractive.append(fact.id)
                update = {"text": found.passage, "support": 1.0, "extractive": True}
                update["absent_terms"] = []
            fact = fact.model_copy(update=update)
        key = " ".join(fact.text.lower().split())
        if key in texts:
            continue  # two facts whose passage is the same sentence: one is enough
        texts.add(key)
        kept.append(fact)
    if failing:
        done = [f"{len(rewritten)} rewritten by the model from the passage"] if rewritten else []
        if extractive:
            done.append(f"{len(extractive)} ({', '.join(extractive)}) now state that sentence")
        ctx.warnings.append(
            f"{len(failing)} of {len(tested)} facts were not supported by the sentence their "
            f"quote stands in: {'; '.join(done)}"
        )
    return kept


def _reask(ctx: Context, failing: list[Fact], checks: dict[str, Support]) -> Calls[dict[str, str]]:
    """One call that writes each failing fact again from its passage: id → new text."""
    items = "\n".join(
        f'{f.id}: "{escape(f.text)}"\n   passage: "{escape(checks[f.id].passage)}"' for f in failing
    )
    inputs = ctx.prompts.render("fact_support_input", items=items, language=ctx.language())
    held = hold(Rewrites, "facts", len(failing), one_of={"id": [f.id for f in failing]})
    # About 40 tokens a sentence, with the JSON around it.
    reply = yield from ctx.follow_up(
        Rewrites, inputs, held, name="rewrites", max_tokens=48 + 64 * len(failing)
    )
    if reply is None:
        return {}
    return {r.id: r.text.strip() for r in reply.facts}


STAGE = Stage(
    "support",
    prompts=("fact_support", "fact_support_input"),
    system=lambda _ctx: ("fact_support",),
)
