"""Stage 1, extract: each pack of sections → at most ``limit`` facts, each with its quote.

One call per pack. The limit is in the request and in the schema (``maxItems``, which llama.cpp
and vLLM enforce); from a server that does not enforce it the first ones are kept, with a
warning. A reply that runs out of room re-reads its sections in two halves.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from analyst.errors import OutputTooLong
from analyst.model.ask import Calls, ask
from analyst.model.seam import Message, OutputSchema
from analyst.schema import FACTS_PER_CALL, ExtractedFact, Extraction, strict_json_schema
from analyst.stages.context import Context
from analyst.text.sections import Section

PROMPTS = ("system", "article", "extract", "extract_input")
_SCHEMA = strict_json_schema(Extraction)


def facts_per_call(article_tokens: int, calls: int) -> int:
    """The most facts one extraction call may give: one for every 70 tokens of article, 3 to
    FACTS_PER_CALL, the same for every call of an article (so their schema stays one prefix).

    The synthesis re-reads every fact, and on short articles that listing is what pushed the
    prompt past 1.3 x the article: eight facts of a 454-token BBC article cost 200 tokens.
    """
    return max(3, min(FACTS_PER_CALL, round(article_tokens / max(calls, 1) / 70)))


def messages(ctx: Context, group: Sequence[Section], limit: int) -> list[Message]:
    """The extraction request for ``group`` (an empty group sizes the fixed part)."""
    ids = ", ".join(sec.id for sec in group) or "s1"
    inputs = ctx.prompts.render(
        "extract_input", ids=ids, max_facts=str(limit), language=ctx.language()
    )
    return ctx.messages("extract", inputs, group)


def schema(ctx: Context, limit: int) -> OutputSchema:
    """The extraction schema, held to ``limit`` facts."""
    held = copy.deepcopy(_SCHEMA)
    held["properties"]["facts"]["maxItems"] = limit
    return ctx.schema("extraction", held)


def extract(ctx: Context, group: list[Section], limit: int) -> Calls[list[ExtractedFact]]:
    """The facts of one pack of sections, most important first."""
    try:
        reply = yield from ask(
            ctx.policy,
            messages(ctx, group, limit),
            Extraction,
            schema=schema(ctx, limit),
            max_tokens=ctx.settings.extract_max_tokens,
            copying=True,
        )
    except OutputTooLong:
        halves = _halve(group)
        if halves is None:
            raise
        ctx.warnings.append("a reply ran out of room; re-read its sections in two halves")
        left = yield from extract(ctx, halves[0], limit)
        right = yield from extract(ctx, halves[1], limit)
        return left + right
    if len(reply.facts) > limit:
        ctx.warnings.append(
            f"the model gave {len(reply.facts)} facts for one call; kept the first {limit}"
        )
    return reply.facts[:limit]


def _halve(group: list[Section]) -> tuple[list[Section], list[Section]] | None:
    if len(group) > 1:
        mid = len(group) // 2
        return group[:mid], group[mid:]
    (only,) = group
    if len(only.parts) < 2:
        return None
    mid = len(only.parts) // 2
    left = Section(only.id, only.heading, only.parts[:mid], only.tokens // 2)
    right = Section(only.id, only.heading, only.parts[mid:], only.tokens - only.tokens // 2)
    return [left], [right]
