"""Deterministic gates on the synthesis: what a reader must be able to trust without a model.

- **Invented terms**: every number and capitalised name in the summary, the implications and the
  analysis must occur in the article (``text.quotes.absent_terms``).
- **Repeats**: no summary sentence repeats another, nor an implication another, nor a sentence of
  the analysis one of an earlier part (equal once case, spacing and punctuation are set aside, or
  ``fuzz.ratio`` ≥ 90).
- **Restating**: an implication, or a sentence of the analysis, restates when at least
  ``RESTATE_AT`` (0.8) of its content words (5 or more of them) are found in one fact or in one
  sentence of the article: it repeats what was reported instead of interpreting it.
- **A thin analysis**: fewer than 3 sentences or 50 words.

``problems`` lists what fails, piece by piece (``pieces``: each summary sentence, implication and
part of the analysis); the failing pieces are re-asked once, together (a passing synthesis costs
no call). What still fails after it: ``repair`` removes what must not reach a reader — repeated
sentences, and sentences or implications naming what the article never does — while a restating
or thin synthesis is kept; each with a warning. Restating is measured, never deleted: a gate that
passes by deleting content would make the figure lie.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from analyst.schema import Fact
from analyst.stages.synthesize.replies import Synthesis
from analyst.text.prose import invented, repeats, restates, sentences

RESTATES = "restates a fact or a sentence of the article instead of interpreting it"
ANALYSIS_SENTENCES = 3
ANALYSIS_WORDS = 50
MIN_IMPLICATIONS = 3


@dataclass(frozen=True)
class Problem:
    """One thing the synthesis should not say, and where: a piece's label ("summary sentence 2",
    "implication 1", "the analysis's context") or ``None`` for the analysis as a whole."""

    where: str | None
    message: str

    def __str__(self) -> str:
        return self.message


def pieces(synthesis: Synthesis) -> dict[str, str]:
    """Every piece of the synthesis that can be checked and re-asked alone, by label, in order."""
    # A server that does not enforce the schema may send the summary as one paragraph.
    summary = [s for item in synthesis.summary for s in sentences(item)]
    found = {f"summary sentence {n}": s for n, s in enumerate(summary, start=1)}
    for n, implication in enumerate(synthesis.implications, start=1):
        found[f"implication {n}"] = implication.text
    for name, part in synthesis.analysis.parts():
        found[f"the analysis's {name}"] = part.text
    return found


def piece_problems(
    where: str, text: str, facts: Sequence[Fact], article: str, *, names: bool, allowed: str = ""
) -> list[Problem]:
    """What is wrong with one piece on its own: invented terms (``allowed``: more text whose
    numbers and names may be used, the notes computed from the article), and (outside the
    summary) sentences restating a fact or a sentence of the article."""
    found = []
    known = f"{article}\n{allowed}" if allowed else article
    missing = [t for s in sentences(text) or [text] for t in invented(s, known, names=names)]
    if missing:
        terms = ", ".join(dict.fromkeys(missing))
        found.append(Problem(where, f"{where} names {terms}, which the article never mentions"))
    if not where.startswith("summary"):
        article_sentences = _sentences_of(article)
        against = [f.text for f in facts] + list(article_sentences)
        if any(restates(s, against) for s in sentences(text)):
            found.append(Problem(where, f"{where} {RESTATES}"))
    return found


@functools.lru_cache(maxsize=8)
def _sentences_of(article: str) -> tuple[str, ...]:
    return tuple(sentences(article))


def problems(
    synthesis: Synthesis, facts: Sequence[Fact], article: str, *, names: bool, allowed: str = ""
) -> list[Problem]:
    """What the synthesis should not say (empty: it passes)."""
    found = []
    for where, text in pieces(synthesis).items():
        found += piece_problems(where, text, facts, article, names=names, allowed=allowed)
    for i in repeats(synthesis.summary):
        where = f"summary sentence {i + 1}"
        found.append(Problem(where, f"{where} repeats an earlier one"))
    for i in repeats([imp.text for imp in synthesis.implications]):
        where = f"implication {i + 1}"
        found.append(Problem(where, f"{where} repeats an earlier one"))
    located = _analysis_sentences(synthesis)
    for i in repeats([sentence for _, sentence in located]):
        where = f"the analysis's {located[i][0]}"
        found.append(Problem(where, f"{where} repeats a sentence of an earlier part"))
    words = len(synthesis.analysis.text.split())
    count = len(sentences(synthesis.analysis.text))
    if count < ANALYSIS_SENTENCES or words < ANALYSIS_WORDS:
        found.append(
            Problem(
                None,
                f"the analysis has {count} sentences and {words} words; write 3 to 5 sentences, "
                f"at least {ANALYSIS_WORDS} words",
            )
        )
    return found


def _analysis_sentences(synthesis: Synthesis) -> list[tuple[str, str]]:
    """Every sentence of the analysis with the name of its part, in order."""
    return [(name, s) for name, part in synthesis.analysis.parts() for s in sentences(part.text)]


def replace(synthesis: Synthesis, where: str, text: str) -> Synthesis:
    """The synthesis with the piece labelled ``where`` now saying ``text``."""
    kind, _, rest = where.rpartition(" ")
    if where.startswith("summary sentence "):
        summary = [s for item in synthesis.summary for s in sentences(item)]
        summary[int(rest) - 1] = text
        return synthesis.model_copy(update={"summary": summary})
    if where.startswith("implication "):
        implications = list(synthesis.implications)
        i = int(rest) - 1
        implications[i] = implications[i].model_copy(update={"text": text})
        return synthesis.model_copy(update={"implications": implications})
    part = getattr(synthesis.analysis, rest).model_copy(update={"text": text})
    analysis = synthesis.analysis.model_copy(update={rest: part})
    return synthesis.model_copy(update={"analysis": analysis})


def repair(synthesis: Synthesis, article: str, *, names: bool, allowed: str = "") -> Synthesis:
    """The synthesis without repeated summary sentences and without sentences (or implications)
    that name what the article never does; at least one summary sentence, one sentence in each
    part of the analysis and three implications stay."""
    article = f"{article}\n{allowed}" if allowed else article
    again = set(repeats(synthesis.summary))
    summary = [
        s
        for i, s in enumerate(synthesis.summary)
        if i not in again and not invented(s, article, names=names)
    ] or [s for i, s in enumerate(synthesis.summary) if i not in again][:1]
    # The report promises 3 implications: below that, offending ones stay (with the warning);
    # a repeated one never does, it would only pad the list.
    twice = set(repeats([i.text for i in synthesis.implications]))
    unique = [i for n, i in enumerate(synthesis.implications) if n not in twice]
    clean = [i for i in unique if not invented(i.text, article, names=names)]
    short = max(MIN_IMPLICATIONS - len(clean), 0)
    keep = clean + [i for i in unique if i not in clean][:short]
    implications = [i for i in unique if i in keep]
    located = _analysis_sentences(synthesis)
    echoed = {located[i] for i in repeats([sentence for _, sentence in located])}
    parts = {}
    for name, part in synthesis.analysis.parts():
        kept = [
            s
            for s in sentences(part.text)
            if not invented(s, article, names=names) and (name, s) not in echoed
        ]
        # A part of which nothing is left goes: its sentences named what the article does not,
        # or said again what an earlier part said.
        parts[name] = part.model_copy(update={"text": " ".join(kept)})
    analysis = synthesis.analysis.model_copy(update=parts)
    return synthesis.model_copy(
        update={"summary": summary, "implications": implications, "analysis": analysis}
    )
