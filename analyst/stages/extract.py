"""Stage 1, extract: each pack of sections → at most ``limit`` facts, each with its evidence.

One call per pack. The evidence is the number of the sentence that states the fact (the
article's sentences are numbered in every call: ``analyst.text.sentences``), or, with
``Settings(evidence="quote")``, a quote the model copies. Citing sentences, the model either
writes each fact beside its number, or (``Settings(fact_text="sentence")``, the embedded
model's default) gives the numbers alone, and each fact is its sentence: some 5 tokens a fact
where a written one cost 45, and the 1.5B model's written facts were the sentence copied word
for word 94 times in 104 (20 BBC dev articles). The limit is in the request and in the
schema (``maxItems``, which llama.cpp and vLLM enforce); from a server that does not enforce it
the first ones are kept, with a warning. A reply that runs out of room re-reads its sections in
two halves.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from analyst.errors import OutputTooLong
from analyst.model.ask import Calls, ask
from analyst.model.seam import Message, OutputSchema
from analyst.stages.context import Context
from analyst.stages.contract import Flag, Stage
from analyst.stages.replies import Strict, strict_json_schema
from analyst.text.sections import Section
from analyst.text.sentences import Sentence


class ExtractedFact(Strict):
    """One fact as the model reports it. The quote comes before the fact on purpose: small models
    copy more faithfully when they quote first and then write the fact from the quote."""

    section: str = Field(description="id of the section the quote is from, e.g. s2")
    evidence: str = Field(
        min_length=1,
        description="verbatim quote from that section, at most 200 characters",
        # A runaway guard for servers that enforce the schema (llama.cpp, vLLM). Kept well above
        # the 200 the prompt asks for: a cap at 240 cut sentences mid-way and the model went on
        # copying into "text". Not validated here (a long verbatim quote is still evidence), and
        # OpenAI's strict mode does not take the keyword (see openai_strict).
        json_schema_extra={"maxLength": 400},
    )
    text: str = Field(min_length=1, description="the fact in one plain sentence")


class CitingFact(Strict):
    """One fact as the model reports it when the article's sentences are numbered: the number
    of the sentence that states it, then the fact. Nothing is copied, so nothing can drift."""

    sentence: int = Field(description="the number of the sentence that states the fact")
    text: str = Field(min_length=1, description="the fact in one plain sentence")


# The most facts an extraction call may give. Asked for "3 to 8", the 1.5B model still wrote 16
# near-copies of sentences for one 548-token BBC article, and the synthesis re-read them all. The
# pipeline sets each article's own, lower, limit (``pipeline.facts_per_call``) in the request and
# in the schema's maxItems, and keeps the first that many from servers that do not enforce it.
FACTS_PER_CALL = 8


class Extraction(Strict):
    """The reply to one extraction call."""

    facts: list[ExtractedFact] = Field(json_schema_extra={"maxItems": FACTS_PER_CALL})


class CitingExtraction(Strict):
    """The reply to one extraction call that cites numbered sentences."""

    facts: list[CitingFact] = Field(json_schema_extra={"maxItems": FACTS_PER_CALL})


class SentenceChoice(Strict):
    """A reply that is only sentence numbers: the facts' sentences (``--fact-text sentence``)
    or the summary's (``--summary sentences``). A few tokens where the same sentences written
    out cost a hundred, and nothing in them can be misstated."""

    sentences: list[int] = Field(description="numbers of sentences of the article")


class CitingReply(Strict):
    """What an extraction reply that was asked to cite sentences is read as: a fact that
    quotes instead (a server that does not enforce the schema, a model that copies anyway) is
    still evidence, located like any quote."""

    facts: list[CitingFact | ExtractedFact]


_SCHEMA = strict_json_schema(Extraction)
_CITING = strict_json_schema(CitingExtraction)
_NUMBERS = strict_json_schema(SentenceChoice)


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
    if ctx.facts_cited:
        inputs = ctx.prompts.render("extract_cited_input", ids=ids, max_facts=str(limit))
    else:
        inputs = ctx.prompts.render(
            "extract_input", ids=ids, max_facts=str(limit), language=ctx.language()
        )
    return ctx.messages(inputs, group)


def schema(ctx: Context, limit: int) -> OutputSchema:
    """The extraction schema, held to ``limit`` facts (and, citing sentences, to the article's
    sentence numbers: a server that enforces schemas cannot cite one that is not there). The
    same for every call of an article, so that it stays part of the shared prefix where a
    provider caches the schema with the prompt."""
    if not ctx.cites_sentences:
        held = copy.deepcopy(_SCHEMA)
        held["properties"]["facts"]["maxItems"] = limit
        return ctx.schema("extraction", held)
    # Citing numbers, the 1.5B model stopped after 3 facts of harbor-bridge where it had copied
    # 5 quotes: held to over half its limit (3 at least), as many as it gave before.
    least = min(max(3, limit // 2 + 1), limit, len(ctx.sentences))
    if ctx.facts_cited:
        return ctx.schema("extraction", numbers_schema(ctx, least, limit))
    held = copy.deepcopy(_CITING)
    held["properties"]["facts"]["maxItems"] = limit
    held["properties"]["facts"]["minItems"] = least
    if ctx.sentences:
        held["$defs"]["CitingFact"]["properties"]["sentence"]["enum"] = [s.n for s in ctx.sentences]
    return ctx.schema("extraction", held)


def numbers_schema(
    ctx: Context, least: int, most: int, among: Sequence[int] | None = None
) -> dict[str, Any]:
    """A ``SentenceChoice`` schema: from ``least`` to ``most`` numbers, each one of the
    article's sentences (``among`` them, when given)."""
    held = copy.deepcopy(_NUMBERS)
    numbers = held["properties"]["sentences"]
    allowed = list(among) if among is not None else [s.n for s in ctx.sentences]
    # Not a sentence that addresses a model: picked, it would be the report's own words.
    allowed = [n for n in allowed if n not in ctx.instructions] or allowed
    numbers.update(minItems=min(least, len(allowed)), maxItems=most)
    if allowed:
        numbers["items"]["enum"] = allowed
    return held


def chosen(ctx: Context, numbers: Sequence[int]) -> list[Sentence]:
    """The sentences ``numbers`` name, each once, in the order given; a number the article
    does not have (from a server that does not enforce the schema's enum) is counted."""
    by_number = {s.n: s for s in ctx.sentences}
    picked: list[Sentence] = []
    unknown = 0
    for n in numbers:
        sentence = by_number.get(n)
        if sentence is None or n in ctx.instructions:
            unknown += 1
        elif sentence not in picked:
            picked.append(sentence)
    if unknown:
        ctx.warnings.append(
            f"the model cited {unknown} sentence number(s) the article does not have, or that "
            "read as instructions to a model"
        )
    return picked


def extract(ctx: Context, group: list[Section], limit: int) -> Calls[list[ExtractedFact]]:
    """The facts of one pack of sections, most important first."""
    asked = functools.partial(
        ask,
        ctx.policy,
        messages(ctx, group, limit),
        schema=schema(ctx, limit),
        max_tokens=ctx.settings.extract_max_tokens,
        copying=True,
    )
    try:
        if ctx.facts_cited:
            picked = chosen(ctx, (yield from asked(SentenceChoice)).sentences)
            facts = [_sentence_fact(ctx, s) for s in picked]
        elif ctx.cites_sentences:
            facts = _cited(ctx, (yield from asked(CitingReply)))
        else:
            facts = (yield from asked(Extraction)).facts
    except OutputTooLong:
        halves = _halve(group)
        if halves is None:
            raise
        ctx.warnings.append("a reply ran out of room; re-read its sections in two halves")
        left = yield from extract(ctx, halves[0], limit)
        right = yield from extract(ctx, halves[1], limit)
        return left + right
    if len(facts) > limit:
        ctx.warnings.append(
            f"the model gave {len(facts)} facts for one call; kept the first {limit}"
        )
    return facts[:limit]


def _sentence_fact(ctx: Context, sentence: Sentence) -> ExtractedFact:
    """A cited sentence as a fact: the sentence is its evidence and, its spaces collapsed, its
    text (``notes.standing`` later moves a trailing attribution to ``attributed_to``)."""
    evidence = ctx.article.text[sentence.start : sentence.end]
    text = " ".join(evidence.split())
    return ExtractedFact(section=sentence.section, evidence=evidence, text=text)


def _cited(ctx: Context, reply: CitingReply) -> list[ExtractedFact]:
    """Each cited sentence made the fact's evidence; a number no sentence has is dropped (a
    server that does not enforce the schema's enum can send one) and counted."""
    by_number = {s.n: s for s in ctx.sentences}
    facts: list[ExtractedFact] = []
    unknown = 0
    for fact in reply.facts:
        if isinstance(fact, ExtractedFact):
            facts.append(fact)
            continue
        sentence = by_number.get(fact.sentence)
        if sentence is None:
            unknown += 1
            continue
        evidence = ctx.article.text[sentence.start : sentence.end]
        facts.append(ExtractedFact(section=sentence.section, evidence=evidence, text=fact.text))
    if unknown:
        ctx.warnings.append(f"{unknown} facts cited a sentence number the article does not have")
    return facts


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


def _system(ctx: Context) -> tuple[str, ...]:
    if ctx.facts_cited:
        return ("extract_cited",)
    return ("extract",) if ctx.cites_sentences else ("extract_quotes",)


STAGE = Stage(
    "extract",
    prompts=("extract", "extract_quotes", "extract_cited", "extract_input", "extract_cited_input"),
    system=_system,
    flags=(
        Flag(
            "evidence",
            "How facts show their evidence: sentence (the model cites a numbered sentence; "
            "default) or quote (it copies a passage, which analyst locates).",
            kind=str | None,
            default=None,
            per_request=False,
        ),
        Flag.choice(
            "fact_text",
            "What a fact's text is: sentence (the sentence the model cites by number: a few "
            "tokens a fact), written (the model writes it), auto (sentence on the embedded "
            "model; default).",
            "auto",
            "sentence",
            "written",
            brief=(
                "a fact's text: the sentence the model cites (sentence), the model's words "
                "(written), or sentence on the embedded model (auto)"
            ),
        ),
    ),
)
