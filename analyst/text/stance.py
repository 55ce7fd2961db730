"""How a sentence stands — the article's own statement, someone's word, a forecast, an estimate —
and the sentences that disagree with an earlier one (``tensions``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

Span = tuple[int, int]

_FORECAST = re.compile(
    r"\b(will|would|expect(?:s|ed)? to|forecasts?|projected|predicts?|is set to|are set to|"
    r"plans? to|planned|scheduled|likely to|could|may|might|is to|are to|aims? to)\b",
    re.IGNORECASE,
)
_ESTIMATE = re.compile(
    r"\b(estimated?|estimates|about|roughly|around|approximately|some \d|nearly|almost|"
    r"up to|an estimated|more than|at least|as many as)\b",
    re.IGNORECASE,
)
_TENSION = re.compile(
    r"^(?:But|However|Yet|Still|Nevertheless|Nonetheless|Meanwhile, critics)\b"
    r"|\bhowever\b|\bcritics?\b|\bopponents?\b|\bargued that\b|\bvoted against\b|\bopposed?\b"
    r"|\bdisputed?\b|\bdenied\b|\bdenies\b|\brejected\b|\bdisagree\w*|\bcontested\b"
    r"|\bbut said\b|\bwelcomed\b.*\bbut\b|\binsisted\b|\bcountered\b|\bdismissed\b"
    r"|\bobject(?:ed|s|ions?)\b|\bcriticis\w+|\bcriticiz\w+|\bsceptic\w*|\bskeptic\w*",
)


@dataclass(frozen=True)
class Tension:
    """A sentence that sets itself against another, and that other sentence."""

    cue: str
    sentence: int  # the disagreeing sentence (index into the spans)
    other: int  # the sentence it answers


def standing(sentence: str, attributed_to: str | None) -> str:
    """How a sentence stands: "attributed" (someone's word), "forecast", "estimate" or
    "stated" (the article's own)."""
    if attributed_to:
        return "attributed"
    if _FORECAST.search(sentence):
        return "forecast"
    if _ESTIMATE.search(sentence):
        return "estimate"
    return "stated"


def tensions(text: str, spans: Sequence[Span], sections: Sequence[Span]) -> list[Tension]:
    """Sentences that disagree with another, each with the sentence it answers: the one before
    it in its section (for "However", "But"), else the earlier sentence of the section that
    shares most words with it."""
    from analyst.text.carries import content_words

    found = []
    for index, (a, b) in enumerate(spans):
        sentence = text[a:b]
        cue = _TENSION.search(sentence)
        if cue is None:
            continue
        section = next(((s, e) for s, e in sections if s <= a < e), (0, len(text)))
        earlier = [i for i, (x, _) in enumerate(spans[:index]) if section[0] <= x]
        if not earlier:
            continue
        if cue.start() == 0:
            other = earlier[-1]
        else:
            words = content_words(sentence)
            other = max(
                earlier,  # on a tie, the earliest: the section's lead states what is disputed
                key=lambda i: len(words & content_words(text[spans[i][0] : spans[i][1]])),
            )
        found.append(Tension(cue.group(0), index, other))
    return found
