"""The product's one sentence splitter: sections, grounding, support, verification, gates and
the sentence numbers of prompts all cut text here, so a fact's cited sentence is the passage it
is tested against.

The rules are sentencex's (Wikimedia; abbreviations, decimals, ordinals and CJK full stops in
~300 languages, each language falling back to its relatives, then to English). Two things are
ours:

- a line break always ends a sentence (the reader's paragraphs are lines), and
- a piece that begins with a lower-case letter after a number and an abbreviated unit belongs to
  the sentence before it: sentencex ends "$1.5 bn. for the bridge" after "bn.", as a splitter
  does that does not know every unit. Only there: the 1.5B model writes whole paragraphs of
  sentences that begin in lower case, and those are sentences.

The split of a text is cached (the support test asks for the sentences around each fact of the
same article).
"""

from __future__ import annotations

import re
from functools import lru_cache

import sentencex

Span = tuple[int, int]
_UNIT_END = re.compile(r"\d\s?[^\W\d_]{1,3}\.\s*$")
DEFAULT_LANGUAGE = "en"


def spans(
    text: str, start: int = 0, end: int | None = None, *, language: str | None = None
) -> list[Span]:
    """The sentences of ``text[start:end]`` as spans of ``text``, stripped of outer space."""
    stop = len(text) if end is None else end
    if start == 0 and stop == len(text):
        return list(_cached(text, language or DEFAULT_LANGUAGE))
    return [
        (a + start, b + start) for a, b in _cached(text[start:stop], language or DEFAULT_LANGUAGE)
    ]


def sentences(text: str, *, language: str | None = None) -> list[str]:
    """The sentences of ``text`` as strings."""
    return [text[a:b] for a, b in spans(text, language=language)]


@lru_cache(maxsize=64)
def _cached(text: str, language: str) -> tuple[Span, ...]:
    found: list[Span] = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            joinable = False  # a lower-case piece joins only a piece of the same line
            for piece in sentencex.get_sentence_boundaries(language, line):
                a, b = _strip(line, piece["start_index"], piece["end_index"])
                if a >= b:
                    continue
                if joinable and line[a].islower() and _UNIT_END.search(line, 0, a):
                    found[-1] = (found[-1][0], offset + b)
                else:
                    found.append((offset + a, offset + b))
                joinable = True
        offset += len(line) + 1
    return tuple(found)


def _strip(line: str, a: int, b: int) -> Span:
    while a < b and line[a].isspace():
        a += 1
    while b > a and line[b - 1].isspace():
        b -= 1
    return a, b
