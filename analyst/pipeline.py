"""The pipeline: an article → sections → the stages in order → a ``Report``.

``report_calls`` composes the stages of ``analyst.stages`` — extract (one call per pack of
sections), ground (no model), verify (with ``--verify``, one call), synthesize (one call) — into
one computation that yields its model calls and returns the report. It does no I/O; a driver
(``analyst.model.drive``, through ``analyst.session.Session``) answers the calls.
"""

from __future__ import annotations

import time
from dataclasses import replace

from analyst.article import Article, Block, Kind
from analyst.errors import ContextOverflowError, InputError
from analyst.model.ask import Calls, prompt_tokens
from analyst.model.seam import ClientInfo
from analyst.model.usage import Meter
from analyst.prompts import Prompts
from analyst.reading import byline
from analyst.schema import (
    Analysis,
    Entity,
    Event,
    Fact,
    Implication,
    Metadata,
    ModelInfo,
    Note,
    Relation,
    Report,
    SectionInfo,
    SourceInfo,
    Span,
)
from analyst.settings import Settings
from analyst.stages import extract, notes, support, synthesize, verify, who
from analyst.stages.context import Context, Landed, StageCallback, Step
from analyst.stages.contract import Stage
from analyst.stages.extract import FACTS_PER_CALL, ExtractedFact
from analyst.stages.ground import ground
from analyst.stages.synthesize.replies import Synthesis
from analyst.text import sentences
from analyst.text.sections import Section, build_sections, pack
from analyst.text.tokens import count, get_encoder

# Every stage, declared in its own module (``stages/contract.py``): the prompt registry, the
# system text, the flags, serve's options, a batch's identity and the views are read from
# here. Their order is the system text's (change it and every cached reply is asked again) and
# the views'. What runs when is ``_report``'s.
STAGES: tuple[Stage, ...] = (
    extract.STAGE,
    support.STAGE,
    synthesize.STAGE,
    verify.STAGE,
    who.STAGE,
    notes.STAGE,
)


def system_tasks(ctx: Context) -> tuple[str, ...]:
    """The tasks the system text describes for this report, as the stages choose them."""
    return tuple(task for stage in STAGES for task in stage.system(ctx))


def fit_input(article: Article, settings: Settings) -> Article:
    """Apply ``max_input_tokens``: refuse a longer article, or with ``truncate`` keep the body
    paragraphs that fit (the rest stays in the text, outside the body)."""
    limit = settings.max_input_tokens
    # A byte-level BPE never makes more tokens than the text has UTF-8 bytes: most articles
    # need no counting here at all.
    if limit is None or len(article.text.encode("utf-8")) <= limit:
        return article
    encoder = get_encoder(settings.model_name, settings.cache_dir)
    sizes = [count(encoder, b.text) for b in article.body]
    total = sum(sizes)
    if total <= limit:
        return article
    if not settings.truncate:
        raise InputError(
            f"the article has {total:,} tokens, over --max-input-tokens {limit:,} "
            "(add --truncate to read only the beginning)"
        )
    kept, used = set(), 0
    for block, size in zip(article.body, sizes, strict=True):
        if used + size > limit:
            break
        kept.add(block.start)
        used += size
    if not kept:
        raise InputError(f"the article's first paragraph alone is over {limit:,} tokens")
    blocks = tuple(
        b
        if b.kind not in (Kind.PARAGRAPH, Kind.HEADING) or b.start in kept
        else Block(b.start, b.end, b.text, Kind.BOILERPLATE)
        for b in article.blocks
    )
    warning = f"the article has {total:,} tokens; read only the first {used:,} (--max-input-tokens)"
    return replace(article, blocks=blocks, warnings=(*article.warnings, warning))


def report_calls(
    article: Article,
    *,
    settings: Settings,
    prompts: Prompts,
    info: ClientInfo,
    path: str | None,
    notify: StageCallback | None = None,
    meter: Meter | None = None,
) -> Calls[Report]:
    """One report as a computation that yields its model calls (``analyst.model.drive`` runs it).

    Pass a ``meter`` to read what the calls cost even when the report fails.
    """
    ctx = Context(
        article=article,
        settings=settings,
        prompts=prompts,
        info=info,
        encoder=get_encoder(info.model, settings.cache_dir),
        meter=meter or Meter(budget=settings.budget_tokens),
        notify=notify or (lambda _stage: None),
    )
    ctx.system_tasks = system_tasks(ctx)
    return _report(ctx, path=path)


def _report(ctx: Context, *, path: str | None) -> Calls[Report]:
    started = time.perf_counter()
    ctx.warnings.extend(ctx.article.warnings)
    ctx.notify("splitting into sections")
    sections, packs = plan(ctx)
    tokens = count(ctx.encoder, ctx.article.text)
    limit = extract.facts_per_call(tokens, len(packs))
    ctx.tell(steps(ctx, packs, limit, tokens))
    extracted: list[ExtractedFact] = []
    for i, group in enumerate(packs, start=1):
        ctx.notify(f"extracting facts ({i}/{len(packs)})")
        extracted.extend((yield from extract.extract(ctx, group, limit)))
    ctx.notify("grounding quotes")
    located = ground(ctx, extracted, sections)
    facts = yield from support.support(ctx, located)
    grounded = [f for f in facts if f.grounded]
    if ctx.settings.verify and grounded:
        ctx.notify("verifying facts")
        grounded = yield from verify.verify(ctx, grounded)
        facts = [next((g for g in grounded if g.id == f.id), f) for f in facts]
    ctx.notify("computing notes")
    facts = notes.standing(ctx, facts)
    grounded = [f for f in facts if f.grounded]
    ctx.tell(Landed("facts", tuple(f"{f.id} {f.text}" for f in grounded)))
    found, absent = notes.build(ctx, grounded)
    ctx.tell(Landed("notes", tuple(f"{n.id} {n.text}" for n in found)))
    passed = [f for f in grounded if not verify.unsupported(f)]
    synthesis: Synthesis | None = None
    if passed:
        ctx.notify("writing the summary")
        sentences = synthesize.summary_sentences(tokens)
        synthesis = yield from synthesize.synthesize(ctx, passed, sentences, found)
    entities: list[Entity] = []
    relations: list[Relation] = []
    timeline: list[Event] = []
    if ctx.settings.who:
        ctx.notify("finding who's who and the timeline")
        entities, relations, timeline = yield from who.who(ctx)
    kept = facts if ctx.settings.keep_ungrounded else grounded
    seconds = time.perf_counter() - started
    report = _assemble(
        ctx, sections, kept, len(located), synthesis, path, tokens, seconds, (found, absent)
    )
    update = {"entities": entities, "relations": relations, "timeline": timeline}
    return who.cite(report.model_copy(update=update))


def steps(ctx: Context, packs: list[list[Section]], limit: int, tokens: int) -> tuple[Step, ...]:
    """The calls this report expects to make, each with about what it will cost: for a live
    view's estimate of the time left. Measured on the embedded model: a cited fact or summary
    sentence is some 3 tokens of reply, a written fact 45, a written summary sentence 35; the
    article is read once (its sentence numbers add ~15 %), every later call reads its request."""
    per_fact = 3 if ctx.facts_cited else 45
    planned = [
        Step(
            f"extracting facts ({i}/{len(packs)})",
            sum(x.tokens for x in group) * 115 // 100,
            8 + per_fact * limit,
        )
        for i, group in enumerate(packs, start=1)
    ]
    length = synthesize.summary_sentences(tokens)
    facts = limit * len(packs)
    if ctx.settings.verify:
        planned.append(Step("verifying facts", 30 * facts, 20 * facts))
    summary_read = 40 if ctx.summary_chosen else 40 + 30 * facts
    summary_write = 8 + 3 * length if ctx.summary_chosen else 35 * length
    planned.append(Step("writing the summary", summary_read, summary_write))
    if not synthesize.composes(ctx):
        planned.append(Step("writing the analysis", 40, 450))
    if ctx.settings.who:
        planned.append(Step("finding who's who and the timeline", 60, 350))
    return tuple(planned)


def _metadata(a: Article) -> Metadata:
    """What the article says of itself: its byline cut into parts, the date as ISO 8601."""
    parts = byline.parse(a.byline, a.language)
    written = a.date or parts.date_text
    iso = parts.date if parts.date_text and parts.date_text == written else None
    if iso is None and written:
        iso, _ = byline.iso_date(written, a.language)
    return Metadata(
        date=iso,
        date_text=written,
        byline=a.byline,
        author=a.author or parts.author,
        read_time=parts.read_time,
        handle=parts.handle,
        source_line=a.source_line,
        dek=a.dek,
        site=a.site,
        language=a.language,
    )


def plan(ctx: Context) -> tuple[list[Section], list[list[Section]]]:
    """Sections sized so that each extraction call fits the context window, and their packs."""
    s = ctx.settings
    fixed = prompt_tokens(ctx.encoder, extract.messages(ctx, [], FACTS_PER_CALL))
    window = s.effective_context_window
    room = window - fixed - s.extract_max_tokens
    if ctx.cites_sentences:
        # Each sentence's number ("[12] ") costs about 4 tokens: some 15 % of the text sent.
        room = room * 85 // 100
    budget = min(s.pack_tokens, room)
    if budget < 64:
        raise ContextOverflowError(
            f"the {window}-token context window leaves {max(budget, 0)} tokens for article "
            f"text after the prompt ({fixed}) and the reply ({s.extract_max_tokens}); "
            "raise --context-window or lower --pack-tokens"
        )
    sections = build_sections(ctx.article, ctx.encoder, max_tokens=budget - 16)
    packs = pack(sections, budget)
    ctx.packs = packs
    ctx.sentences = sentences.number(sections, ctx.article.text, language=ctx.article.language)
    text = ctx.article.text
    ctx.instructions = frozenset(
        s.n for s in ctx.sentences if sentences.instructs(text[s.start : s.end])
    )
    return sections, packs


def _assemble(
    ctx: Context,
    sections: list[Section],
    facts: list[Fact],
    extracted: int,
    synthesis: Synthesis | None,
    path: str | None,
    tokens: int,
    seconds: float,
    noted: tuple[list[Note], list[str]],
) -> Report:
    a, s = ctx.article, ctx.settings
    no_synthesis = None
    if synthesis is None:
        # Nothing is written that no quote proves: no fact, no summary.
        no_synthesis = (
            f"none of the {extracted} facts the model proposed was supported by a quote found in "
            "the article"
            if extracted
            else "the model found no fact in the article"
        )
        ctx.warnings.append(f"no summary, implications or analysis: {no_synthesis}")
    return Report(
        title=a.title,
        summary=synthesis.paragraph if synthesis else "",
        summary_spans=[Span(start=a, end=b) for a, b in ctx.summary_spans] if synthesis else [],
        source=SourceInfo(
            path=path,
            sha256=a.sha256,
            chars=len(a.text),
            tokens=tokens,
            url=a.url,
            format=a.kind,
            text=a.text if s.include_text else None,
        ),
        metadata=_metadata(a),
        sections=[
            SectionInfo(id=x.id, heading=x.heading, start=x.start, end=x.end, tokens=x.tokens)
            for x in sections
        ],
        facts=facts,
        implications=[
            Implication(
                text=i.sentence,
                facts=i.facts,
                party=i.party or None,
                notes=i.notes,
                background=i.background,
            )
            for i in synthesis.implications
        ]
        if synthesis
        else [],
        analysis=_analysis(synthesis, composed=synthesize.composes(ctx)),
        notes=noted[0],
        notes_absent=noted[1],
        model=ModelInfo(
            name=ctx.info.model, backend=ctx.info.backend, structured_mode=ctx.meter.mode.value
        ),
        usage=ctx.meter.usage(ctx.info, seconds),
        facts_extracted=extracted,
        language=s.language or a.language,
        prompts_sha256=ctx.prompts.sha256,
        warnings=ctx.warnings,
        no_synthesis=no_synthesis,
    )


def _analysis(synthesis: Synthesis | None, *, composed: bool) -> Analysis:
    if synthesis is None:
        return Analysis(text="", facts=[], parts=None)
    parts = synthesis.analysis.parts()
    return Analysis(
        text=synthesis.analysis.text,
        facts=synthesis.analysis.facts,
        notes=synthesis.analysis.notes,
        composed=composed,
        parts={
            name: Implication(text=p.text, facts=p.facts, notes=p.notes, background=p.background)
            for name, p in parts
            if p.text
        },
    )
