"""The article's sentences, numbered: what an extraction reply cites instead of copying a quote.

Every call of an article shows its sections with each sentence after its number (``[12] The
council voted …``), the same numbers in every call. An extraction reply then gives a fact as
``{"sentence": 12, "text": …}``: the model writes no quote (a third of its output before, at
~100 ms a token on two cores), and the evidence is that sentence, exact by construction.

Sentences are split by the product's one splitter (``analyst.text.split``), in the article's
language, as the support test splits them: the passage a fact is tested against is the sentence
it cites.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from analyst.text.sections import Section
from analyst.text.split import spans

# Words addressed to a model, not to a reader: an article's text can carry a prompt injection.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:previous|prior|above|earlier|"
    r"all|these|your)\b[^.]{0,20}\b(?:instructions?|prompts?|rules|directions)\b"
    r"|\bsystem (?:prompt|message)\b|\byou are now\b|\b(?:set|change) the summary to\b"
    r"|\b(?:reply|respond|answer) only in\b|<\|im_start\|>|\[/?INST\]",
    re.IGNORECASE,
)


def instructs(text: str) -> bool:
    """Whether a sentence reads as an instruction to a language model ("Ignore all previous
    instructions …"): the model may not pick it as a fact or for the summary, whose text would
    then carry it word for word into the report."""
    return _INSTRUCTION.search(text) is not None


@dataclass(frozen=True, slots=True)
class Sentence:
    """One numbered sentence: its number, its section, and its span in the article's text."""

    n: int
    section: str
    start: int
    end: int


def number(
    sections: Sequence[Section], source: str, *, language: str | None = None
) -> list[Sentence]:
    """The sentences of ``sections`` in order, numbered from 1."""
    # From the split of the whole article, the one the support test uses, so that sentence n
    # is by construction the passage a fact citing n is tested against. A part is a paragraph
    # or a run of its sentences; only a run without any sentence end (cut by characters) cuts
    # a sentence, and then the part's piece of it is numbered.
    whole = spans(source, language=language)
    found: list[Sentence] = []
    for section in sections:
        for a, b in section.parts:
            for start, end in whole:
                if start < b and end > a:
                    found.append(Sentence(len(found) + 1, section.id, max(a, start), min(b, end)))
    return found


def render(section: Section, sentences: Sequence[Sentence], source: str) -> str:
    """The section's text with each sentence after its number, paragraphs kept apart."""
    own = [s for s in sentences if s.section == section.id]
    paragraphs = []
    for a, b in section.parts:
        inside = [s for s in own if a <= s.start < b]
        paragraphs.append(" ".join(f"[{s.n}] {source[s.start : s.end]}" for s in inside))
    return "\n\n".join(p for p in paragraphs if p)
