"""Stage 4, synthesize: one call, which reads the article and its supported facts, writes the
summary, the implications and the analysis in parts, each citing fact ids; the gates
(``stages.gates``) check it, and what fails is re-asked once."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

from analyst.model.ask import Calls, ask
from analyst.model.seam import OutputSchema
from analyst.schema import Fact, Note
from analyst.stages import extract
from analyst.stages.context import Context, escape
from analyst.stages.extract import SentenceChoice
from analyst.stages.replies import hold, strict_json_schema
from analyst.stages.synthesize import compose, gates
from analyst.stages.synthesize.replies import Fixes, Interpretation, Summary, Synthesis
from analyst.text import prose
from analyst.text.sentences import Sentence

# Languages whose words have a lower case in a-z, where an implication can be held to begin with
# one (see interpretation_schema).
CASED = frozenset("en fr es it pt nl de sv da no nb fi pl cs ro hu tr id ca".split())
_SUMMARY = strict_json_schema(Summary)
_INTERPRETATION = strict_json_schema(Interpretation)


def summary_sentences(article_tokens: int) -> int:
    """How many sentences the summary has: one for every 80 tokens of article, 3 to 6.

    A fixed 2 to 3 sentences read as a headline: ROUGE-1 0.135 on five BBC dev articles whose
    human summaries run to 46 % of the article (median 128 of 279 words), while the same
    reports' facts, read one after another, scored 0.27 to 0.61. One sentence for every 110
    tokens scored 0.373 on them (lead-3: 0.402).
    """
    return max(3, min(6, round(article_tokens / 80)))


def schema(ctx: Context, sentences: int) -> OutputSchema:
    """The summary schema, held to ``sentences`` items."""
    held = copy.deepcopy(_SUMMARY)
    held["properties"]["summary"].update(minItems=sentences, maxItems=sentences)
    return ctx.schema("summary", held)


def composes(ctx: Context) -> bool:
    """Whether analyst composes the implications and the analysis from the notes (no model
    prose): asked for, or by default on the embedded model, which cannot analyse."""
    mode = ctx.settings.analysis
    return mode == "composed" or (mode == "auto" and ctx.info.backend == "local")


def keeps_background(ctx: Context) -> bool:
    """Whether the model's own knowledge (``background``) stays: by default, except on the
    embedded model, where it is unreliable."""
    kept = ctx.settings.background
    return kept if kept is not None else ctx.info.backend != "local"


def interpretation_schema(
    ctx: Context, ids: list[str], notes: list[str] | None = None
) -> OutputSchema:
    """The analysis schema with citations limited to these fact ids: a server that enforces
    schemas then cannot cite a fact that does not exist (the 1.5B model cited "c4" three times
    running on a German page). Validation still checks the ids for servers that do not enforce."""
    held = copy.deepcopy(_INTERPRETATION)
    if (ctx.settings.language or ctx.article.language or "") in CASED:
        # An implication's text continues its party's name ("must now ..."), so it starts in
        # lower case: asked in words, the 1.5B model still copied whole article sentences
        # (26 % of the sentences restated one); held by the schema it cannot. llama.cpp
        # enforces only a pattern anchored at both ends: "^[a-z]" alone it ignored, with a
        # warning in its log.
        held["$defs"]["CitedText"]["properties"]["text"]["pattern"] = "^[a-z].*$"
    for cited in ("CitedText", "Part"):
        props = held["$defs"][cited]["properties"]
        if ids:
            props["facts"]["items"] = {"type": "string", "enum": ids}
        # Strict structured output wants every property required; the defaults are there so
        # that replies of servers that do not enforce the schema still read.
        props["notes"].pop("default", None)
        props["background"].pop("default", None)
        if notes:
            props["notes"]["items"] = {"type": "string", "enum": notes}
        else:
            props["notes"]["maxItems"] = 0
        required = held["$defs"][cited].setdefault("required", [])
        required += [k for k in ("notes", "background") if k not in required]
    return ctx.schema("interpretation", held)


def synthesize(
    ctx: Context, facts: list[Fact], sentences: int, notes: Sequence[Note] = ()
) -> Calls[Synthesis]:
    """The summary (``sentences`` sentences), then the analysis and implications, of ``facts``
    and ``notes``: two calls on one prefix, the article, the facts and the notes, so the second
    reads only its task — or, where analyst composes the analysis (``composes``), one call."""
    listing = "\n".join(f"{f.id}: {escape(f.text)}" for f in facts)
    noted = "\n".join(f"{n.id} ({n.kind}): {escape(n.text)}" for n in notes) or "(none)"
    composed = composes(ctx)
    shared = ctx.prompts.render("synthesize_facts", facts=listing)
    if not composed:
        # The model writes the analysis from the notes too; where analyst composes it, the
        # summary call does not read them (some 300 prompt tokens, ~8 s on two cores).
        shared += "\n\n" + ctx.prompts.render("notes", notes=noted)
    language = ctx.language()
    ids = [f.id for f in facts]
    note_ids = [n.id for n in notes]
    allowed = "\n".join(n.text for n in notes)
    if ctx.summary_chosen:
        summary = yield from chosen_summary(ctx, sentences)
    else:
        summary = yield from ask(
            ctx.policy,
            ctx.messages(
                ctx.prompts.render("summarize_input", sentences=str(sentences), language=language),
                shared=shared,
            ),
            Summary,
            schema=schema(ctx, sentences),
            max_tokens=ctx.settings.synth_max_tokens,
        )
    if composed:
        implications, parts = compose.compose(notes, facts)
        synthesis = Synthesis.model_construct(
            summary=summary.summary, analysis=parts, implications=implications
        )
    else:
        ctx.notify("writing the analysis")
        interpretation = yield from ask(
            ctx.policy,
            ctx.messages(
                ctx.prompts.render("synthesize_input", language=language),
                shared=shared,
            ),
            Interpretation,
            schema=interpretation_schema(ctx, ids, note_ids),
            max_tokens=ctx.settings.synth_max_tokens,
            validation_context={"fact_ids": set(ids), "note_ids": set(note_ids)},
        )
        synthesis = Synthesis.model_construct(
            summary=summary.summary,
            analysis=interpretation.analysis,
            implications=interpretation.implications,
        )
        if not keeps_background(ctx):
            synthesis = _without_background(ctx, synthesis)
    article, names = ctx.article.text, ctx.names_comparable()
    found = gates.problems(synthesis, facts, article, names=names, allowed=allowed)
    fixable = [
        p
        for p in found
        if p.where
        and _worth_asking(ctx, p)
        and not (composed and not p.where.startswith("summary"))
        # The article's own sentences: a re-ask would only have them written instead.
        and not (ctx.summary_chosen and p.where.startswith("summary"))
    ]
    asked = bool(fixable) and ctx.settings.repairs > 0
    if asked:
        # One re-ask, only when a piece failed, and only of the pieces that failed: a passing
        # reply costs nothing, and a failing one costs its pieces, not a whole synthesis.
        synthesis = yield from _fix(ctx, synthesis, fixable, facts, shared, allowed)
        found = gates.problems(synthesis, facts, article, names=names, allowed=allowed)
    if found:
        listed = "; ".join(map(str, found[:6])) + ("; ..." if len(found) > 6 else "")
        after = " after a re-ask" if asked else ""
        ctx.warnings.append(
            f"the synthesis did not pass its checks{after} ({listed}); repeated "
            "sentences and those naming what the article does not were left out"
        )
        synthesis = gates.repair(synthesis, article, names=names, allowed=allowed)
    written = len(prose.sentences(synthesis.paragraph))
    if written < 2:
        # Not a validation error: the 1.5B model kept one long sentence through three re-asks
        # on an example article, and failing the whole report for it helps no one.
        ctx.warnings.append(f"the summary has {written} sentence(s); a paragraph was asked for")
    return synthesis


def chosen_summary(ctx: Context, sentences: int) -> Calls[Summary]:
    """The summary as ``sentences`` of the article's own sentences, which the model picks by
    number (some 15 tokens where writing them cost 160 to 260) and which are shown in the
    article's order: true by construction. The call reads only the article, the prefix every
    call shares, and its request. Their spans go to ``ctx.summary_spans``."""
    shown = ctx.packs[0] if ctx.packs else []
    ids = {sec.id for sec in shown}
    among = [s.n for s in ctx.sentences if s.section in ids] or [s.n for s in ctx.sentences]
    most = min(sentences, len(among))
    inputs = ctx.prompts.render("summarize_sentences_input", sentences=str(most))
    reply = yield from ask(
        ctx.policy,
        ctx.messages(inputs),
        SentenceChoice,
        schema=ctx.schema("summary", extract.numbers_schema(ctx, most, most, among)),
        max_tokens=16 + 8 * most,
    )
    picked = sorted(extract.chosen(ctx, reply.sentences), key=lambda s: s.n)
    if not picked:
        ctx.warnings.append("the model picked no sentence for the summary; it is the first ones")
        picked = [s for s in ctx.sentences if s.n in among][:most]
    picked = _with_antecedents(ctx, picked)
    text = ctx.article.text
    ctx.summary_spans = [(s.start, s.end) for s in picked]
    return Summary(summary=[" ".join(text[s.start : s.end].split()) for s in picked])


# A sentence that opens on one of these stands for someone or something named before it, or
# answers what was said before it.
_LEANS_BACK = re.compile(
    r"^(?:He|She|It|They|His|Her|Its|Their|Them|This|These|That|Those|Such|But|However|Yet|"
    r"Nevertheless|Nonetheless|As a result|Therefore|Thus)\b"
)
ANTECEDENTS = 3  # sentences added at most
# The most words a summary of sentences grows to with them: 40 % of the article's words, or 120.
SHARE, FLOOR = 0.4, 120


def _with_antecedents(ctx: Context, picked: list[Sentence]) -> list[Sentence]:
    """The picked sentences, each that leans on the one before it ("He …", "Its …", "However,
    …") led by the sentences before it in its section, back to one that does not lean, when
    they were not picked; where that would make the summary too long (``SHARE``, ``FLOOR``),
    the leaning sentence is left out instead. Out of their place, "It lost 464,000
    subscribers" told of the wrong company and "However, only scheduled flight operators were
    obliged …" of the wrong rules (hand-checked, Quality). English only."""
    if (ctx.article.language or "en") != "en":
        return picked
    text, chosen = ctx.article.text, {s.n for s in picked}
    by_number = {s.n: s for s in ctx.sentences}

    def words(sentences: list[Sentence]) -> int:
        return sum(len(text[s.start : s.end].split()) for s in sentences)

    def leans(sentence: Sentence) -> bool:
        return bool(_LEANS_BACK.match(text[sentence.start : sentence.end].lstrip("\"“'‘ ")))

    budget = max(FLOOR, SHARE * len(text.split()))
    kept, added = list(picked), list[Sentence]()
    for sentence in picked:
        chain, current = list[Sentence](), sentence
        while leans(current):
            before = by_number.get(current.n - 1)
            if before is None or before.section != current.section or before.n in chosen:
                break
            chain.append(before)
            current = before
        if not chain:
            continue
        fits = len(added) + len(chain) <= ANTECEDENTS
        if fits and words(kept + added + chain) <= budget:
            added += chain
            chosen.update(s.n for s in chain)
        elif len(kept) > 2:
            kept.remove(sentence)
            chosen.discard(sentence.n)  # a later one that leans on it leans on nothing now
    return sorted([*kept, *added], key=lambda s: s.n)


def _worth_asking(ctx: Context, problem: gates.Problem) -> bool:
    """Whether a re-ask can be expected to mend the problem. Not a restating piece on the
    embedded model: over the first 8 BBC dev articles its re-asks wrote the same sentence, or
    another sentence of the article, for each of them (some 30 s and 300 prompt tokens an
    article); the piece is kept with its warning either way."""
    return not (ctx.info.backend == "local" and problem.message.endswith(gates.RESTATES))


def _without_background(ctx: Context, synthesis: Synthesis) -> Synthesis:
    """The synthesis without what the model said from its own knowledge, counted."""
    implications = [i for i in synthesis.implications if not i.background]
    dropped = len(synthesis.implications) - len(implications)
    parts = {}
    for name, part in synthesis.analysis.parts():
        if part.background and part.text:
            parts[name] = part.model_copy(update={"text": ""})
            dropped += 1
    if dropped:
        ctx.warnings.append(
            f"{dropped} piece(s) of the synthesis said what the article does not (background) "
            "and were left out (--background keeps them, marked)"
        )
    analysis = synthesis.analysis.model_copy(update=parts)
    return synthesis.model_copy(update={"implications": implications, "analysis": analysis})


def _fix(
    ctx: Context,
    synthesis: Synthesis,
    found: list[gates.Problem],
    facts: list[Fact],
    shared: str,
    allowed: str = "",
) -> Calls[Synthesis]:
    """The synthesis with its failing pieces written again in one call; a new piece is taken
    only where it leaves the synthesis with fewer problems."""
    text = gates.pieces(synthesis)
    failing: dict[str, list[str]] = {}
    for problem in found:
        if problem.where:
            failing.setdefault(problem.where, []).append(problem.message)
    items = "\n".join(
        f'{where}: "{escape(text[where])}"\n   problem: {"; ".join(messages)}'
        for where, messages in failing.items()
    )
    inputs = ctx.prompts.render("synthesis_gate_input", items=items, language=ctx.language())
    held = hold(Fixes, "fixes", len(failing), one_of={"where": list(failing)})
    # Two sentences a piece at most, with the JSON around them.
    reply = yield from ctx.follow_up(
        Fixes, inputs, held, name="fixes", max_tokens=64 + 96 * len(failing), shared=shared
    )
    if reply is None:
        return synthesis
    article, names = ctx.article.text, ctx.names_comparable()
    # All problems, not only those asked about.
    current = len(gates.problems(synthesis, facts, article, names=names, allowed=allowed))
    for fix in reply.fixes:
        if fix.where not in failing:
            continue
        candidate = gates.replace(synthesis, fix.where, fix.text.strip())
        left = len(gates.problems(candidate, facts, article, names=names, allowed=allowed))
        if left < current:
            synthesis, current = candidate, left
    return synthesis
