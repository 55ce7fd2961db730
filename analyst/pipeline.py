"""Article → sections → packed extraction calls → grounding → one synthesis call → Report."""

from __future__ import annotations

import copy
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path

from analyst import drive
from analyst.backends import ChatClient, Message, OutputSchema, make_client
from analyst.cache import CallCache
from analyst.errors import ContextOverflowError, InputError
from analyst.fetch import fetch
from analyst.files import display, read_bytes
from analyst.grounding import Grounder, Location, MatchKind, absent_terms
from analyst.language import language_name
from analyst.pricing import cost_usd
from analyst.prompts import Prompts
from analyst.reading import Article, Block, Kind
from analyst.schema import (
    FACTS_PER_CALL,
    Analysis,
    ExtractedFact,
    Extraction,
    Fact,
    Implication,
    Metadata,
    ModelInfo,
    Report,
    SectionInfo,
    SourceInfo,
    Synthesis,
    Usage,
    Verification,
    strict_json_schema,
)
from analyst.sections import Section, build_sections, pack
from analyst.settings import Settings
from analyst.sources import load_article
from analyst.structured import Calls, Meter, OutputTooLong, ask, prompt_tokens
from analyst.tokens import Encoder, count, get_encoder
from analyst.verify import check_claims, fact_context

StageCallback = Callable[[str], None]

EXTRACTION_SCHEMA = OutputSchema("extraction", strict_json_schema(Extraction))
SYNTHESIS_SCHEMA = OutputSchema("synthesis", strict_json_schema(Synthesis))


def summarize_file(
    path: str | PathLike[str],
    *,
    settings: Settings | None = None,
    client: ChatClient | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Report on the article at ``path``: text, Markdown, HTML, PDF, or a .gz of one."""
    p = Path(path)
    data = read_bytes(p)
    article = load_article(data, name=p.name)
    return _summarize(article, data, settings, client, display(p), on_stage)


def summarize_url(
    url: str,
    *,
    settings: Settings | None = None,
    client: ChatClient | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Fetch the page (or PDF) at ``url`` and report on it."""
    settings = settings or Settings()
    (on_stage or (lambda _stage: None))("fetching the page")
    got = fetch(url, timeout=settings.fetch_timeout, max_bytes=settings.max_download_bytes)
    article = load_article(got.data, name=got.url, content_type=got.content_type, url=got.url)
    return _summarize(article, got.data, settings, client, url, on_stage)


def summarize_text(
    text: str | bytes,
    *,
    settings: Settings | None = None,
    client: ChatClient | None = None,
    path: str | None = None,
    on_stage: StageCallback | None = None,
) -> Report:
    """Report on one article given as text or bytes (plain text, HTML, PDF or gzip: sniffed)."""
    article = load_article(text, name=path)
    return _summarize(article, text, settings, client, path, on_stage)


def _summarize(
    article: Article,
    raw: str | bytes,
    settings: Settings | None,
    client: ChatClient | None,
    path: str | None,
    on_stage: StageCallback | None,
) -> Report:
    settings = settings or Settings()
    # The article was read first: a bad one fails before any server is asked anything.
    article = fit_input(article, settings)
    prompts = Prompts.load(settings.prompts_dir)
    notify = on_stage or (lambda _stage: None)
    owned = client is None
    if client is None:
        notify("preparing the model")
        client = make_client(settings)
    cache = CallCache(settings.cache_dir / "calls.sqlite") if settings.cache else None
    try:
        calls = report_calls(
            article,
            raw,
            settings=settings,
            prompts=prompts,
            model=client.model,
            backend=client.backend,
            path=path,
            notify=notify,
        )
        return drive.run(calls, client, cache, settings.identity(client.model))
    finally:
        if cache is not None:
            cache.close()
        if owned:
            client.close()


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
    raw: str | bytes,
    *,
    settings: Settings,
    prompts: Prompts,
    model: str,
    backend: str,
    path: str | None,
    notify: StageCallback | None = None,
    meter: Meter | None = None,
) -> Calls[Report]:
    """One report as a computation that yields its model calls (run it with ``analyst.drive``).

    Pass a ``meter`` to read what the calls cost even when the report fails.
    """
    run = _Run(
        article=article,
        settings=settings,
        model=model,
        backend=backend,
        encoder=get_encoder(model, settings.cache_dir),
        prompts=prompts,
        notify=notify or (lambda _stage: None),
        meter=meter or Meter(budget=settings.budget_tokens),
    )
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    return run.report(path=path, sha256=hashlib.sha256(data).hexdigest())


@dataclass
class _Run:
    """The state of writing one report."""

    article: Article
    settings: Settings
    model: str
    backend: str
    encoder: Encoder
    prompts: Prompts
    notify: StageCallback
    meter: Meter = field(default_factory=Meter)
    warnings: list[str] = field(default_factory=list)
    fact_limit: int = FACTS_PER_CALL  # set per article once its calls are planned
    sentences: int = 3  # the summary's, likewise

    def report(self, *, path: str | None, sha256: str) -> Calls[Report]:
        started = time.perf_counter()
        self.warnings.extend(self.article.warnings)
        self.notify("splitting into sections")
        sections, packs = self._plan()
        tokens = count(self.encoder, self.article.text)
        self.fact_limit = facts_per_call(tokens, len(packs))
        self.sentences = summary_sentences(tokens)
        extracted: list[ExtractedFact] = []
        for i, group in enumerate(packs, start=1):
            self.notify(f"extracting facts ({i}/{len(packs)})")
            extracted.extend((yield from self._extract(group)))
        self.notify("grounding quotes")
        facts = self._ground(extracted, sections)
        grounded = [f for f in facts if f.grounded]
        if self.settings.verify and grounded:
            self.notify("verifying facts")
            grounded = yield from self._verify(grounded)
            facts = [next((g for g in grounded if g.id == f.id), f) for f in facts]
        passed = [f for f in grounded if not _failed(f)]
        self.notify("writing the analysis")
        synthesis = yield from self._synthesize(passed)
        sentences = len(_SENTENCE.findall(synthesis.paragraph))
        if sentences < 2:
            # Not a validation error: the 1.5B model kept one long sentence through three
            # re-asks on an example article, and failing the whole report for it helps no one.
            self.warnings.append(
                f"the summary has {sentences} sentence(s); a paragraph was asked for"
            )
        kept = facts if self.settings.keep_ungrounded else grounded
        seconds = round(time.perf_counter() - started, 3)
        return Report(
            title=self.article.title,
            summary=synthesis.paragraph,
            source=SourceInfo(
                path=path,
                sha256=sha256,
                chars=len(self.article.text),
                tokens=tokens,
                url=self.article.url,
                format=self.article.kind,
                text=self.article.text if self.settings.include_text else None,
            ),
            metadata=Metadata(
                date=self.article.date,
                byline=self.article.byline,
                source_line=self.article.source_line,
                dek=self.article.dek,
                site=self.article.site,
                language=self.article.language,
            ),
            sections=[
                SectionInfo(id=s.id, heading=s.heading, start=s.start, end=s.end, tokens=s.tokens)
                for s in sections
            ],
            facts=kept,
            implications=[Implication(text=i.text, facts=i.facts) for i in synthesis.implications],
            analysis=Analysis(text=synthesis.analysis.text, facts=synthesis.analysis.facts),
            model=ModelInfo(
                name=self.model,
                backend=self.backend,
                structured_mode=self.meter.mode.value,
            ),
            usage=Usage(
                calls=self.meter.calls,
                prompt_tokens=self.meter.prompt_tokens,
                completion_tokens=self.meter.completion_tokens,
                repairs=self.meter.repairs,
                cache_hits=self.meter.cache_hits,
                seconds=seconds,
                cost_usd=cost_usd(
                    self.model,
                    self.backend,
                    self.meter.prompt_tokens,
                    self.meter.completion_tokens,
                ),
                tokens_estimated=self.meter.estimated,
            ),
            facts_extracted=len(facts),
            language=self.settings.language or self.article.language,
            prompts_sha256=self.prompts.sha256,
            warnings=self.warnings,
        )

    # ---- planning -----------------------------------------------------------------------------

    def _extract_system(self) -> str:
        return self.prompts.render("system") + "\n\n" + self.prompts.render("extract")

    def _plan(self) -> tuple[list[Section], list[list[Section]]]:
        """Sections sized so that each extraction call fits the context window."""
        s = self.settings
        skeleton: list[Message] = [
            {"role": "system", "content": self._extract_system()},
            {"role": "user", "content": self._extract_input([])},
        ]
        fixed = prompt_tokens(self.encoder, skeleton)
        window = s.effective_context_window
        budget = min(s.pack_tokens, window - fixed - s.extract_max_tokens)
        if budget < 64:
            raise ContextOverflowError(
                f"the {window}-token context window leaves {max(budget, 0)} tokens for article "
                f"text after the prompt ({fixed}) and the reply ({s.extract_max_tokens}); "
                "raise --context-window or lower --pack-tokens"
            )
        sections = build_sections(self.article, self.encoder, max_tokens=budget - 16)
        return sections, pack(sections, budget)

    # ---- extraction ---------------------------------------------------------------------------

    def _extract_input(self, group: Sequence[Section]) -> str:
        text = self.article.text
        # Headings stay out: small models copy them as "evidence" (measured on the seed article).
        rendered = "\n".join(
            f'<section id="{sec.id}">\n{_escape(sec.text(text))}\n</section>' for sec in group
        )
        return self.prompts.render(
            "extract_input",
            title=_escape(self.article.title or "(none)"),
            sections=rendered,
            max_facts=str(self.fact_limit),
            language=self._language(),
        )

    def _names_comparable(self) -> bool:
        """Whether capitalised words of a fact can be looked up in the article: not when the
        fact is written in another language, nor in German, which capitalises every noun."""
        article = self.article.language
        report = self.settings.language or article
        return article != "de" and (report or "").lower() in ((article or "").lower(), "")

    def _language(self) -> str:
        """The language to write in: as asked, else the article's, named for the model."""
        code = self.settings.language or self.article.language
        return language_name(code) if code else "the language of the article"

    def _extract(self, group: list[Section]) -> Calls[list[ExtractedFact]]:
        messages: list[Message] = [
            {"role": "system", "content": self._extract_system()},
            {"role": "user", "content": self._extract_input(group)},
        ]
        try:
            reply = yield from ask(
                messages,
                Extraction,
                schema=_extraction_schema(self.fact_limit),
                max_tokens=self.settings.extract_max_tokens,
                temperature=self.settings.temperature,
                repairs=self.settings.repairs,
                context_window=self.settings.effective_context_window,
                encoder=self.encoder,
                meter=self.meter,
            )
        except OutputTooLong:
            halves = _halve(group)
            if halves is None:
                raise
            self.warnings.append("a reply ran out of room; re-read its sections in two halves")
            left = yield from self._extract(halves[0])
            right = yield from self._extract(halves[1])
            return left + right
        if len(reply.facts) > self.fact_limit:
            self.warnings.append(
                f"the model gave {len(reply.facts)} facts for one call; kept the first "
                f"{self.fact_limit}"
            )
        return reply.facts[: self.fact_limit]

    # ---- grounding ----------------------------------------------------------------------------

    def _ground(self, extracted: list[ExtractedFact], sections: list[Section]) -> list[Fact]:
        source = self.article.text
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
        facts: list[Fact] = []
        for n, (ef, loc, section) in enumerate(located, start=1):
            missing = absent_terms(ef.text, source, names=self._names_comparable())
            facts.append(
                Fact(
                    id=f"f{n}",
                    section=section,
                    text=ef.text.strip(),
                    evidence=source[loc.start : loc.end] if loc else ef.evidence,
                    start=loc.start if loc else None,
                    end=loc.end if loc else None,
                    match=loc.match if loc else MatchKind.NONE,
                    grounded=loc is not None,
                    absent_terms=missing,
                )
            )
            if loc and missing:
                self.warnings.append(
                    f"fact f{n} mentions {', '.join(missing)}, which the article never does"
                )
        dropped = sum(1 for f in facts if not f.grounded)
        if dropped:
            what = "kept and marked" if self.settings.keep_ungrounded else "left out"
            self.warnings.append(
                f"{dropped} of {len(facts)} facts {what}: their quotes are not in the article"
            )
        if not any(f.grounded for f in facts):
            self.warnings.append("no fact could be grounded in the article")
        return facts

    # ---- verification -------------------------------------------------------------------------

    def _verify(self, facts: list[Fact]) -> Calls[list[Fact]]:
        """Mark each grounded fact with the verifier's verdict (one call for all of them)."""
        source = self.article.text
        texts = [f.text for f in facts]
        contexts = [fact_context(f.start or 0, f.end or 0, f.text, source) for f in facts]
        checks = yield from check_claims(
            texts,
            source,
            system=self.prompts.render("verify"),
            contexts=contexts,
            comparable=self._same_language(),
            absent=[f.absent_terms for f in facts],
            # About 20 tokens a judgement, and room for the JSON around them.
            max_tokens=64 + 24 * len(facts),
            temperature=self.settings.temperature,
            repairs=self.settings.repairs,
            context_window=self.settings.effective_context_window,
            encoder=self.encoder,
            meter=self.meter,
        )
        marked = []
        for fact, check in zip(facts, checks, strict=True):
            verification = Verification(
                verdict=check.verdict, support=check.support, lexical=check.lexical
            )
            marked.append(fact.model_copy(update={"verification": verification}))
        failed = [f.id for f in marked if _failed(f)]
        if failed:
            self.warnings.append(
                f"the verifier found {', '.join(failed)} unsupported by the article; "
                "they are marked and left out of the implications and the analysis"
            )
        return marked

    def _same_language(self) -> bool:
        article = (self.article.language or "").lower()
        report = (self.settings.language or article).lower()
        return report in (article, "")

    # ---- synthesis ----------------------------------------------------------------------------

    def _synthesize(self, facts: list[Fact]) -> Calls[Synthesis]:
        listing = "\n".join(f"{f.id}: {_escape(f.text)}" for f in facts) or "(no verified facts)"
        messages: list[Message] = [
            {
                "role": "system",
                "content": self.prompts.render("system")
                + "\n\n"
                + self.prompts.render("synthesize"),
            },
            {
                "role": "user",
                "content": self.prompts.render(
                    "synthesize_input",
                    title=_escape(self.article.title or "(none)"),
                    dek=_escape(self.article.dek or "(none)"),
                    facts=listing,
                    sentences=str(self.sentences),
                    language=self._language(),
                ),
            },
        ]
        return (
            yield from ask(
                messages,
                Synthesis,
                schema=_synthesis_schema([f.id for f in facts], self.sentences),
                max_tokens=self.settings.synth_max_tokens,
                temperature=self.settings.temperature,
                repairs=self.settings.repairs,
                context_window=self.settings.effective_context_window,
                encoder=self.encoder,
                meter=self.meter,
                validation_context={"fact_ids": {f.id for f in facts}},
            )
        )


_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]")
# Our own delimiters, and the opening of chat-template special tokens (<|im_start|>,
# <|endoftext|>...): llama.cpp parses special tokens in message text, so a literal one in an
# article would become a real turn boundary.
_TAGS = ("<article", "</article", "<section", "</section", "<facts", "</facts", "<|")
_TAG = re.compile("|".join(re.escape(tag) for tag in _TAGS), re.IGNORECASE)


def summary_sentences(article_tokens: int) -> int:
    """How many sentences the summary has: one for every 80 tokens of article, 3 to 6.

    A fixed 2 to 3 sentences read as a headline: ROUGE-1 0.135 on five BBC dev articles whose
    human summaries run to 46 % of the article (median 128 of 279 words), while the same
    reports' facts, read one after another, scored 0.27 to 0.61. One sentence for every 110
    tokens scored 0.373 on them (lead-3: 0.402).
    """
    return max(3, min(6, round(article_tokens / 80)))


def facts_per_call(article_tokens: int, calls: int) -> int:
    """The most facts one extraction call may give: one for every 70 tokens of article, 3 to
    FACTS_PER_CALL, the same for every call of an article (so their schema stays one prefix).

    The synthesis re-reads every fact, and on short articles that listing is what pushed the
    prompt past 1.3 x the article: eight facts of a 454-token BBC article cost 200 tokens.
    """
    return max(3, min(FACTS_PER_CALL, round(article_tokens / max(calls, 1) / 70)))


def _failed(fact: Fact) -> bool:
    return fact.verification is not None and fact.verification.verdict == "unsupported"


def _escape(text: str) -> str:
    """Defuse those inside article text (their "<" becomes "‹"), so it cannot close its tag or
    open a turn of its own. Only the prompt changes; the article and its offsets do not."""
    return _TAG.sub(lambda m: "‹" + m.group(0)[1:], text)


def _synthesis_schema(ids: list[str], sentences: int) -> OutputSchema:
    """The synthesis schema with citations limited to these fact ids: a server that enforces
    schemas then cannot cite a fact that does not exist (the 1.5B model cited "c4" three times
    running on a German page). Validation still checks the ids for servers that do not enforce.
    The summary is held to ``sentences`` items the same way."""
    schema = copy.deepcopy(SYNTHESIS_SCHEMA.schema)
    schema["properties"]["summary"].update(minItems=sentences, maxItems=sentences)
    if ids:
        cited = schema["$defs"]["CitedText"]["properties"]["facts"]
        cited["items"] = {"type": "string", "enum": ids}
    return OutputSchema(SYNTHESIS_SCHEMA.name, schema)


def _extraction_schema(limit: int) -> OutputSchema:
    schema = copy.deepcopy(EXTRACTION_SCHEMA.schema)
    schema["properties"]["facts"]["maxItems"] = limit
    return OutputSchema(EXTRACTION_SCHEMA.name, schema)


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
