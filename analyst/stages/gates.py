"""Deterministic gates on the synthesis: what a reader must be able to trust without a model.

- **Invented terms**: every number and capitalised name in the summary, the implications and the
  analysis must occur in the article (``text.quotes.absent_terms``).
- **Repeats**: no summary sentence repeats another (equal once case, spacing and punctuation are
  set aside, or ``fuzz.ratio`` ≥ 90).
- **Restating**: an implication, or a sentence of the analysis, restates when at least
  ``RESTATE_AT`` (0.8) of its content words (5 or more of them) are found in one fact or in one
  sentence of the article: it repeats what was reported instead of interpreting it.
- **A thin analysis**: fewer than 3 sentences or 50 words.

``problems`` lists what fails; any problem is re-asked once, with the list (a passing synthesis
costs no call). What still fails after it: ``repair`` removes what must not reach a reader —
repeated sentences, and sentences or implications naming what the article never does — and a
restating or thin synthesis is kept, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from rapidfuzz import fuzz

from analyst.schema import Fact, Synthesis
from analyst.text.quotes import absent_names
from analyst.text.support import SENTENCE, content_words, stemmed_overlap

RESTATE_AT = 0.8
RESTATES = "restates a fact or a sentence of the article instead of interpreting it"
ANALYSIS_SENTENCES = 3
ANALYSIS_WORDS = 50
MIN_IMPLICATIONS = 3
_PUNCT = re.compile(r"[^\w\s]")


def sentences(text: str) -> list[str]:
    """The sentences of a paragraph the model wrote."""
    return [m.group(0).strip() for m in SENTENCE.finditer(text) if m.group(0).strip()]


def invented(text: str, article: str, *, names: bool) -> list[str]:
    """Numbers and names of ``text`` (one sentence) the article never mentions. Its first word is
    not taken for a name: "Consequences follow" capitalises an ordinary word the article may
    not use."""
    first = text.lstrip()
    return [
        t
        for t in absent_names(text, article, names=names)
        if not (t[:1].isalpha() and first.startswith(t))
    ]


def repeats(summary: Sequence[str]) -> list[int]:
    """Indexes of summary sentences that repeat an earlier one."""
    seen: list[str] = []
    found = []
    for i, sentence in enumerate(summary):
        key = " ".join(_PUNCT.sub(" ", sentence.casefold()).split())
        if any(key == k or fuzz.ratio(key, k) >= 90 for k in seen):
            found.append(i)
        seen.append(key)
    return found


def restates(sentence: str, facts: Sequence[Fact], article_sentences: Sequence[str]) -> bool:
    """Whether ``sentence`` mostly repeats one fact or one sentence of the article."""
    if len(content_words(sentence)) < 5:
        return False
    against = [f.text for f in facts] + list(article_sentences)
    return any(stemmed_overlap(sentence, other) >= RESTATE_AT for other in against)


def _written(synthesis: Synthesis) -> Iterator[tuple[str, str]]:
    # A server that does not enforce the schema may send the summary as one paragraph.
    summary = [s for item in synthesis.summary for s in sentences(item)]
    for n, sentence in enumerate(summary, start=1):
        yield f"summary sentence {n}", sentence
    for n, implication in enumerate(synthesis.implications, start=1):
        yield f"implication {n}", implication.text
    for name, part in synthesis.analysis.parts():
        for n, sentence in enumerate(sentences(part.text), start=1):
            yield f"the analysis's {name} (sentence {n})", sentence


def problems(
    synthesis: Synthesis, facts: Sequence[Fact], article: str, *, names: bool
) -> list[str]:
    """What the synthesis should not say, one line each (empty: it passes)."""
    found = []
    for where, text in _written(synthesis):
        missing = invented(text, article, names=names)
        if missing:
            found.append(f"{where} names {', '.join(missing)}, which the article never mentions")
    for i in repeats(synthesis.summary):
        found.append(f"summary sentence {i + 1} repeats an earlier one")
    article_sentences = sentences(article)
    for where, text in _written(synthesis):
        if not where.startswith("summary") and restates(text, facts, article_sentences):
            found.append(f"{where} {RESTATES}")
    words = len(synthesis.analysis.text.split())
    count = len(sentences(synthesis.analysis.text))
    if count < ANALYSIS_SENTENCES or words < ANALYSIS_WORDS:
        found.append(
            f"the analysis has {count} sentences and {words} words; write 3 to 5 sentences, "
            f"at least {ANALYSIS_WORDS} words"
        )
    return found


def repair(synthesis: Synthesis, article: str, *, names: bool) -> Synthesis:
    """The synthesis without repeated summary sentences and without sentences (or implications)
    that name what the article never does; at least one summary sentence, one sentence in each
    part of the analysis and three implications stay."""
    again = set(repeats(synthesis.summary))
    summary = [
        s
        for i, s in enumerate(synthesis.summary)
        if i not in again and not invented(s, article, names=names)
    ] or [s for i, s in enumerate(synthesis.summary) if i not in again][:1]
    # The report promises 3 implications: below that, offending ones stay (with the warning).
    clean = [i for i in synthesis.implications if not invented(i.text, article, names=names)]
    short = max(MIN_IMPLICATIONS - len(clean), 0)
    keep = clean + [i for i in synthesis.implications if i not in clean][:short]
    implications = [i for i in synthesis.implications if i in keep]
    parts = {}
    for name, part in synthesis.analysis.parts():
        kept = [s for s in sentences(part.text) if not invented(s, article, names=names)]
        # A part of which nothing is left goes: its sentences named what the article does not.
        parts[name] = part.model_copy(update={"text": " ".join(kept)})
    analysis = synthesis.analysis.model_copy(update=parts)
    return synthesis.model_copy(
        update={"summary": summary, "implications": implications, "analysis": analysis}
    )
