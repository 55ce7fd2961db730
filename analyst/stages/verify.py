"""Does a fact follow from the article? Grounding proves its quote exists; this checks the claim.

A small model wrote "X was appointed the new leader of Y" over a quote that says only that X was
hired: the quote was real, the fact was not. The verifier judges each fact against its context —
for a report's fact, the sentences of its quote and their neighbours, plus the sentences sharing
the most words with it; for a bare claim, those related sentences — in one model call per article,
and combines that judgement with cheap signals that need no model:

- lexical support, the mean of two shares: the claim's word pairs and triples found in the
  article (order matters: a swapped name or an added "not" breaks them where single words would
  not), and its content words found in the context (a faithful paraphrase keeps most of them);
- absent terms: numbers or names in the claim that the article never mentions (halve support).

``support`` is a number in [0, 1] (for ranking, and AUROC); ``verdict`` is what a reader sees.
When the fact is written in another language than the article, words cannot be compared and the
model's verdict stands alone. The model's weight and the verdict thresholds were chosen on the
411 dev claims (SummaC: FactCC and SummEval), so the figures in the README are not held out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from analyst.model.ask import AskPolicy, Calls, ask
from analyst.model.seam import Message, OutputSchema
from analyst.prompts import Prompts
from analyst.schema import Fact, Verification
from analyst.stages.context import Context
from analyst.stages.contract import Flag, Stage
from analyst.stages.replies import strict_json_schema
from analyst.text.carries import content_words
from analyst.text.carries import overlap as overlap
from analyst.text.quotes import absent_terms
from analyst.text.split import spans

Verdict = Literal["supported", "unsupported", "uncertain"]
_WORD = re.compile(r"\w+", re.UNICODE)


class Judgement(BaseModel):
    """The model's verdict on one claim."""

    claim: str = Field(description="the claim's id, e.g. c1")
    verdict: Verdict


class Judgements(BaseModel):
    """The reply to a verification call."""

    judgements: list[Judgement]


@dataclass(frozen=True)
class Check:
    """What the verifier concluded about one claim."""

    verdict: Verdict
    support: float  # 0..1
    lexical: float | None  # None: the claim and the article are in different languages
    absent: list[str]
    model: Verdict  # the model's own vote


def context_for(claim: str, source: str, k: int = 3) -> str:
    """The ``k`` sentences of ``source`` sharing the most content words with ``claim``, in order."""
    words = content_words(claim)
    sentences = [source[a:b] for a, b in spans(source)]
    ranked = sorted(
        range(len(sentences)),
        key=lambda i: len(words & content_words(sentences[i])),
        reverse=True,
    )
    return " ".join(sentences[i] for i in sorted(ranked[:k]))


def lexical_support(claim: str, source: str) -> float:
    """Mean share of the claim's word bigrams and trigrams that occur in ``source``."""
    claim_words = _WORD.findall(claim.lower())
    source_words = _WORD.findall(source.lower())
    shares = []
    for n in (2, 3):
        grams = set(zip(*(claim_words[i:] for i in range(n)), strict=False))
        if grams:
            found = set(zip(*(source_words[i:] for i in range(n)), strict=False))
            shares.append(len(grams & found) / len(grams))
    return sum(shares) / len(shares) if shares else overlap(claim, source)


def lexical_signal(claim: str, source: str, context: str) -> float:
    """What the words say: n-gram support in the article and content-word share of the context."""
    return (lexical_support(claim, source) + overlap(claim, context)) / 2


def fact_context(
    start: int, end: int, claim: str, source: str, *, language: str | None = None
) -> str:
    """The sentences holding ``source[start:end]`` and one either side, with the sentences most
    related to ``claim``, in the article's order."""
    found = spans(source, language=language)
    inside = [i for i, (a, b) in enumerate(found) if a < end and b > start]
    chosen: set[int] = set()
    if inside:
        chosen.update(range(max(inside[0] - 1, 0), min(inside[-1] + 2, len(found))))
    words = content_words(claim)
    ranked = sorted(
        range(len(found)),
        key=lambda i: len(words & content_words(source[found[i][0] : found[i][1]])),
        reverse=True,
    )
    chosen.update(ranked[:3])
    return " ".join(source[found[i][0] : found[i][1]].strip() for i in sorted(chosen))


_MODEL_SCORE = {"supported": 1.0, "uncertain": 0.5, "unsupported": 0.0}
MODEL_WEIGHT = 0.3
SUPPORTED_AT = 0.9
UNSUPPORTED_BELOW = 0.55


def combine(verdict: Verdict, lexical: float | None, absent: Sequence[str]) -> Check:
    """The model's vote and the lexical signal, pulled down by invented terms; the verdict
    follows the combined support. Without a lexical signal the model's vote is the verdict."""
    if lexical is None:
        return Check(verdict, _MODEL_SCORE[verdict], None, list(absent), verdict)
    support = MODEL_WEIGHT * _MODEL_SCORE[verdict] + (1 - MODEL_WEIGHT) * lexical
    if absent:
        support *= 0.5
    final: Verdict = "uncertain"
    if support >= SUPPORTED_AT:
        final = "supported"
    elif support < UNSUPPORTED_BELOW:
        final = "unsupported"
    return Check(final, round(support, 4), round(lexical, 4), list(absent), verdict)


def check_claims(
    claims: Sequence[str],
    source: str,
    *,
    policy: AskPolicy,
    prompts: Prompts,
    max_tokens: int,
    contexts: Sequence[str] | None = None,
    comparable: bool = True,
    absent: Sequence[Sequence[str]] | None = None,
    layout: Callable[[str], list[Message]] | None = None,
) -> Calls[list[Check]]:
    """Judge ``claims`` against ``source`` in one model call; yields that call (see ``drive``).

    ``contexts`` are the passages shown for each claim (default: its related sentences);
    ``comparable`` is False when the claims are in another language than ``source``;
    ``absent`` gives each claim's absent terms when the caller knows them better (names are not
    comparable across languages, nor in German); ``layout`` makes the messages from the rendered
    input (a report's stage puts the article first, see ``Context.messages``).
    """
    if contexts is None:
        contexts = [context_for(c, source) for c in claims]
    ids = [f"c{i}" for i in range(1, len(claims) + 1)]
    items = "\n\n".join(
        f'<claim id="{cid}">{_defuse(c)}</claim>\n<passages>{_defuse(ctx)}</passages>'
        for cid, c, ctx in zip(ids, claims, contexts, strict=True)
    )
    inputs = prompts.render("verify_input", items=items, ids=", ".join(ids))
    messages: list[Message] = (
        layout(inputs)
        if layout is not None
        else [
            {"role": "system", "content": prompts.render("verify")},
            {"role": "user", "content": inputs},
        ]
    )
    reply = yield from ask(
        policy, messages, Judgements, schema=_schema(ids, prompts), max_tokens=max_tokens
    )
    verdicts: dict[str, Verdict] = {j.claim: j.verdict for j in reply.judgements}
    missing = absent if absent is not None else [absent_terms(c, source) for c in claims]
    return [
        combine(
            verdicts.get(cid, "uncertain"),
            lexical_signal(claim, source, ctx) if comparable else None,
            terms,
        )
        for cid, claim, ctx, terms in zip(ids, claims, contexts, missing, strict=True)
    ]


def verify(ctx: Context, facts: list[Fact]) -> Calls[list[Fact]]:
    """Stage 3: mark each grounded fact with the verifier's verdict (one call for all)."""
    source = ctx.article.text
    checks = yield from check_claims(
        [f.text for f in facts],
        source,
        policy=ctx.policy,
        prompts=ctx.prompts,
        contexts=[
            fact_context(f.start or 0, f.end or 0, f.text, source, language=ctx.article.language)
            for f in facts
        ],
        comparable=ctx.same_language(),
        absent=[f.absent_terms for f in facts],
        layout=lambda inputs: ctx.messages(inputs),
        # About 20 tokens a judgement, and room for the JSON around them.
        max_tokens=64 + 24 * len(facts),
    )
    marked = [
        fact.model_copy(
            update={
                "verification": Verification(
                    verdict=c.verdict, support=c.support, lexical=c.lexical
                )
            }
        )
        for fact, c in zip(facts, checks, strict=True)
    ]
    failed = [f.id for f in marked if unsupported(f)]
    if failed:
        ctx.warnings.append(
            f"the verifier found {', '.join(failed)} unsupported by the article; "
            "they are marked and left out of the implications and the analysis"
        )
    return marked


def unsupported(fact: Fact) -> bool:
    """Whether the verifier judged ``fact`` unsupported (such facts are not synthesized)."""
    return fact.verification is not None and fact.verification.verdict == "unsupported"


def _schema(ids: list[str], prompts: Prompts) -> OutputSchema:
    schema: dict[str, Any] = strict_json_schema(Judgements)
    schema["$defs"]["Judgement"]["properties"]["claim"] = {"type": "string", "enum": ids}
    text = json.dumps(schema, separators=(",", ":"))
    return OutputSchema("judgements", schema, prompts.render("schema_in_prompt", schema=text))


def _defuse(text: str) -> str:
    return re.sub(r"<(/?(claim|passages)|\|)", lambda m: "‹" + m.group(0)[1:], text, flags=re.I)


STAGE = Stage(
    "verify",
    prompts=("verify", "verify_input"),
    system=lambda _ctx: ("verify",),
    flags=(
        Flag(
            "verify",
            "Check each fact against the article (one more call); mark it verified, uncertain "
            "or unsupported, and write the analysis without the unsupported.",
            brief="verify each fact against the article",
        ),
    ),
)
