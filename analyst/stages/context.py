"""What every stage of one report shares: the article, the settings, the prompts, the way calls
are asked (and counted), progress messages and warnings."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from analyst.article import Article
from analyst.errors import ModelOutputError
from analyst.model.ask import AskPolicy, Calls, ask
from analyst.model.seam import ClientInfo, Message, OutputSchema
from analyst.model.usage import Meter
from analyst.prompts import Prompts
from analyst.reading.language import language_name
from analyst.settings import Settings
from analyst.text import sentences as numbered
from analyst.text.sections import Section
from analyst.text.tokens import Encoder

R = TypeVar("R", bound=BaseModel)

StageCallback = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """A model call a report expects to make, for a live view's estimate of the time left: the
    stage message that starts it, and about how many prompt tokens the server will compute
    (``read``) and reply tokens it will write (``write``)."""

    stage: str
    read: int
    write: int


@dataclass(frozen=True)
class Landed:
    """What a report now holds, one line each, for a live view to show as it lands: the
    facts once grounded ("facts"), the notes once computed ("notes")."""

    kind: str
    lines: tuple[str, ...]


ReportEvent = tuple[Step, ...] | Landed
# Who wants to see a report take shape (``analyst summarize`` on a terminal): told the steps
# planned, then each thing that lands. A context variable, like ``seam.progress_listener``, so
# that it reaches the pipeline through the session and the driver without either knowing.
report_listener: ContextVar[Callable[[ReportEvent], None] | None] = ContextVar(
    "analyst_report_listener", default=None
)

# Our own delimiters, and the markers of chat templates: ChatML and Llama 3 special tokens
# (<|im_start|>, <|eot_id|>...), DeepSeek's full-width ones, Llama 2 and Mistral ([INST],
# <<SYS>>, [SYSTEM_PROMPT]), Gemma (<start_of_turn>) and sentence markers (<s>, </s>).
# llama.cpp parses special tokens in message text, so a literal one in an article would become
# a real turn boundary; the others at least read as one to a small model.
_TAGS = (
    "<article", "</article", "<section", "</section", "<facts", "</facts", "<headline",
    "</headline", "<dek", "</dek",
    "<|", "<\uff5c", "<<sys>>", "<</sys>>", "<s>", "</s>", "<start_of_turn", "<end_of_turn",
    "[inst]", "[/inst]", "[system_prompt]", "[/system_prompt]", "[available_tools]",
    "[tool_calls]", "[tool_results]",
)  # fmt: skip
_TAG = re.compile("|".join(re.escape(tag) for tag in _TAGS), re.IGNORECASE)
_LOOKALIKE = {"<": "\u2039", "[": "\uff3b"}  # ‹ and ［: read the same, parse as nothing


def escape(text: str) -> str:
    """Defuse those inside article text (their "<" becomes "‹", their "[" "［"), so it cannot
    close its tag or open a turn of its own. Only the prompt changes; the article and its offsets
    do not."""
    return _TAG.sub(lambda m: _LOOKALIKE[m.group(0)[0]] + m.group(0)[1:], text)


@dataclass
class Context:
    """The state of writing one report, handed to each stage."""

    article: Article
    settings: Settings
    prompts: Prompts
    info: ClientInfo
    encoder: Encoder
    meter: Meter
    notify: StageCallback = field(default=lambda _stage: None)
    warnings: list[str] = field(default_factory=list)
    # The article's packs of sections (``pipeline.plan``): the first is what every call after
    # extraction reads, and, for an article of one pack (most), what every call reads.
    packs: list[list[Section]] = field(default_factory=list)
    # The article's sentences, numbered once for every call (``analyst.text.sentences``); shown
    # and cited only when facts cite sentences (``Settings.evidence == "sentence"``).
    sentences: list[numbered.Sentence] = field(default_factory=list)
    # The numbers of those that read as instructions to a model (``numbered.instructs``): never
    # picked as a fact or for the summary.
    instructions: frozenset[int] = frozenset()
    # Where the summary's sentences stand, when it is made of the article's own
    # (``Settings.summary``): set by the synthesis, read into the report.
    summary_spans: list[tuple[int, int]] = field(default_factory=list)
    # The tasks the system text describes, as the stages choose them for this report
    # (``pipeline.system_tasks``); every call of the report sends the same system text.
    system_tasks: tuple[str, ...] = ()

    @property
    def cites_sentences(self) -> bool:
        """Whether extraction cites numbered sentences rather than copying quotes."""
        return self.settings.evidence == "sentence"

    @property
    def facts_cited(self) -> bool:
        """Whether a fact is the sentence the model cites by number, nothing written
        (``Settings.fact_text``)."""
        return self._cites(self.settings.fact_text, "sentence")

    @property
    def summary_chosen(self) -> bool:
        """Whether the summary is sentences of the article the model picks by number
        (``Settings.summary``)."""
        return self._cites(self.settings.summary, "sentences")

    def _cites(self, mode: str, citing: str) -> bool:
        """A mode that cites numbered sentences: asked for, or "auto" on the embedded model,
        whose written facts and summaries copied or garbled them (README, Quality)."""
        local = self.info.backend == "local"
        return self.cites_sentences and (mode == citing or (mode == "auto" and local))

    @property
    def policy(self) -> AskPolicy:
        """How this report's calls are asked."""
        return AskPolicy.of(self.settings, self.encoder, self.meter, self.prompts.reask)

    def messages(
        self, inputs: str, group: Sequence[Section] | None = None, *, shared: str = ""
    ) -> list[Message]:
        """A call laid out so that every call begins the same way: the system text (the rules
        and every task, the same for every call of every article), then one user message with
        the article (``group``'s sections, by default the first pack), what several calls share
        after it (``shared``: the facts), and last the request (``inputs``), which names its
        task.

        llama.cpp's prompt cache then computes the system text once per slot and the article
        once per article (OpenAI bills the repeats at its cached rate): each call pays only
        for its short request.
        """
        shown = self.packs[0] if group is None and self.packs else group or []
        # Headings stay out: small models copy them as "evidence" (measured on the seed article).
        sections = "\n".join(
            f'<section id="{sec.id}">\n{escape(self._section_text(sec))}\n</section>'
            for sec in shown
        )
        article = self.prompts.render(
            "article",
            title=escape(self.article.title or "(none)"),
            dek=escape(self.article.dek or "(none)"),
            sections=sections,
        )
        lead = f"{article}\n\n{shared}" if shared else article
        system = self.prompts.system(self.system_tasks)
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": f"{lead}\n\n{inputs}"},
        ]

    def follow_up(
        self,
        reply: type[R],
        inputs: str,
        held: dict[str, Any],
        *,
        name: str,
        max_tokens: int,
        repair: bool = True,
        shared: str = "",
    ) -> Calls[R | None]:
        """One short call after a stage's main one, on the article prefix every call shares: a
        re-ask of what failed a check (``repair``, counted in the report's re-asks), or a
        question on the side. ``held`` is the reply's JSON Schema narrowed to what was asked
        (``stages.replies.hold``). ``None`` when the model's reply stays invalid: the stage
        keeps what it had."""
        if repair:
            self.meter.repairs += 1
        try:
            return (
                yield from ask(
                    self.policy,
                    self.messages(inputs, shared=shared),
                    reply,
                    schema=self.schema(name, held),
                    max_tokens=max_tokens,
                )
            )
        except ModelOutputError:
            return None

    def tell(self, event: ReportEvent) -> None:
        """Tell the live view, if one listens (``report_listener``)."""
        listener = report_listener.get()
        if listener is not None:
            listener(event)

    def _section_text(self, section: Section) -> str:
        if self.cites_sentences and self.sentences:
            return numbered.render(section, self.sentences, self.article.text)
        return section.text(self.article.text)

    def schema(self, name: str, schema: dict[str, Any]) -> OutputSchema:
        """An ``OutputSchema`` with its note for servers that do not enforce schemas."""
        text = json.dumps(schema, separators=(",", ":"))
        return OutputSchema(name, schema, self.prompts.render("schema_in_prompt", schema=text))

    def language(self) -> str:
        """The language to write in: as asked, else the article's, named for the model."""
        code = self.settings.language or self.article.language
        return language_name(code) if code else self.prompts.render("article_language")

    def same_language(self) -> bool:
        """Whether the report is written in the article's language (so words compare)."""
        article = (self.article.language or "").lower()
        report = (self.settings.language or article).lower()
        return report in (article, "")

    def names_comparable(self) -> bool:
        """Whether capitalised words of a fact can be looked up in the article: not when the
        fact is written in another language, nor in German, which capitalises every noun."""
        return self.article.language != "de" and self.same_language()
