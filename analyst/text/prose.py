"""Checks on prose a model wrote, shared by the synthesis gates, the digest and the evaluation:
its sentences, the numbers and names in it the article never gives, sentences that repeat an
earlier one, and sentences that restate the facts or the article instead of interpreting them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from analyst.text import split
from analyst.text.carries import content_words, stemmed_overlap
from analyst.text.quotes import absent_names

RESTATE_AT = 0.8
_PUNCT = re.compile(r"[^\w\s]")


def sentences(text: str) -> list[str]:
    """The sentences of a paragraph the model wrote (by the product's splitter, with its
    default rules: the model's text has no detected language of its own)."""
    return split.sentences(text)


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
    """Indexes of sentences (of the summary, or implications) that repeat an earlier one."""
    seen: list[str] = []
    found = []
    for i, sentence in enumerate(summary):
        key = " ".join(_PUNCT.sub(" ", sentence.casefold()).split())
        if any(key == k or fuzz.ratio(key, k) >= 90 for k in seen):
            found.append(i)
        seen.append(key)
    return found


def restates(sentence: str, against: Sequence[str]) -> bool:
    """Whether ``sentence`` mostly repeats one of ``against`` (the facts, the article's
    sentences): ``RESTATE_AT`` of its content words, five or more, in one of them."""
    if len(content_words(sentence)) < 5:
        return False
    return any(stemmed_overlap(sentence, other) >= RESTATE_AT for other in against)
