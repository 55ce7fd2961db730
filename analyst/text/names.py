"""Names an article writes more than once: runs of capitalised words, as candidates.

Not a recogniser — it cannot tell a person from a company or a month from a name, and does not
try: who's who asks the model to sort the candidates it has not listed itself (``stages.who``).
A run may hold "of", "and", "for", "de" between capitalised words ("Bank of America"); titles
("Mr", "Dr") and a leading "The" are dropped; a run that only starts a sentence counts only when
it also stands elsewhere. Languages that capitalise every noun (German) or none (Chinese) give
nothing useful, and are not asked.
"""

from __future__ import annotations

import re
from collections import Counter

from analyst.text.split import spans

_TOKEN = re.compile(r"[^\W\d_][\w'’&.-]*|\d[\w.-]*", re.UNICODE)
_JOINERS = {"of", "and", "for", "de", "du", "der", "van", "von", "&"}
_TITLES = {"mr", "mrs", "ms", "dr", "prof", "sir", "dame", "lord", "president", "the"}
# Titles that end one name and begin the next: "Alibaba CEO Eddie Wu" is Alibaba, then Eddie Wu.
_BREAKS = set(
    "ceo cto cfo coo chairman chairwoman chair chief executive president minister director "
    "secretary governor spokesman spokeswoman analyst economist professor prof dr mr mrs ms sir "
    "lord dame senator mayor judge general king queen prince pope founder boss".split()
)
_COMMON = set(
    "a an and as at but by for from he her his i if in it its my no not of on or our she so that "
    "the their then there these they this those to we what when where which while who why with "
    "you monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december however also after before many "
    "some one two three last first new other more most such since during analysts officials".split()
)


def repeated(
    text: str, *, at_least: int = 2, most: int = 12, language: str | None = None
) -> list[str]:
    """Names written ``at_least`` times in ``text``, the most frequent first (at most ``most``)."""
    counts: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    for start, end in spans(text, language=language):
        tokens = list(_TOKEN.finditer(text, start, end))
        run: list[str] = []
        first = True
        for index, match in enumerate([*tokens, None]):
            word = match.group(0).rstrip(".") if match else ""
            word = re.sub(r"['’]s$", "", word)  # "BA's" is BA
            capital = bool(word) and word[0].isupper() and word.casefold() not in _COMMON
            joiner = bool(run) and word.casefold() in _JOINERS
            if capital and word.casefold() in _BREAKS:
                _count(run, first, counts, inside)
                run = []
                first = False
                continue
            if capital or joiner:
                if not run:
                    first = index == 0
                run.append(word)
                continue
            _count(run, first, counts, inside)
            run = []
    names = [n for n, c in counts.items() if c + inside[n] >= at_least]
    return sorted(names, key=lambda n: (-(counts[n] + inside[n]), n))[:most]


def _count(run: list[str], first: bool, counts: Counter[str], inside: Counter[str]) -> None:
    while run and run[-1].casefold() in _JOINERS:
        run.pop()
    while run and run[0].casefold() in _TITLES:
        run.pop(0)
        first = False
    if not run:
        return
    name = " ".join(run)
    if first and len(run) == 1:
        inside[name] += 1  # "Shares fell": counts only if "Shares" stands elsewhere too
        return
    counts[name] += 1
    if len(run) > 1:
        for word in run:  # "Yukos" in "Yukos unit" is a mention of Yukos
            if word[0].isupper() and word.casefold() not in _JOINERS:
                inside[word] += 1


def same_name(a: str, b: str) -> bool:
    """Whether two written names may name the same one: either contains the other (spaces and
    case aside: "TimeWarner", "Time Warner"), or one is the other's initials ("BA")."""
    x, y = ("".join(n.casefold().split()) for n in (a, b))
    if x in y or y in x:
        return True
    return initials(a) == b.replace(".", "") or initials(b) == a.replace(".", "")


def initials(name: str) -> str:
    """The initials of a name of two capitalised words or more ("British Airways": "BA")."""
    words = [w for w in name.split() if w[:1].isupper()]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""
