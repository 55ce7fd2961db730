"""What a search asks of the library: the words, the filters, the page, checked.

The words reach SQLite FTS5 only as quoted terms: FTS5's own syntax (``NEAR(``, ``-``, ``:``,
``*``, an unbalanced quote) typed into a search box is a syntax error there, or a query the user
did not mean. Each word of the box is one term, every term must match, and the last one may be
the start of a word (the page searches as one types).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from analyst.errors import ConfigError

WORDS = 24  # terms in one search; more are a paste, not a question
MAX_LIMIT = 500
MAX_OFFSET = 10**9  # SQLite's integers end at 2**63
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # what snippet() wraps a match in; no article holds them
_WORD = re.compile(r"\w+", re.UNICODE)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Query:
    """A search of the library: all of them when ``words`` is empty."""

    words: str = ""
    site: str | None = None
    language: str | None = None
    since: str | None = None  # ISO dates, inclusive
    until: str | None = None
    limit: int = 50
    offset: int = 0

    @classmethod
    def of(
        cls,
        words: str | None = None,
        *,
        site: str | None = None,
        language: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | str | None = None,
        offset: int | str | None = None,
    ) -> Query:
        """A query from what a request gave (strings, blanks for "any"); a bad value is a
        ``ConfigError`` that names it."""
        try:
            size = 50 if limit in (None, "") else int(limit)
            start = 0 if offset in (None, "") else int(offset)
        except ValueError:
            raise ConfigError("limit and offset must be whole numbers") from None
        if not 1 <= size <= MAX_LIMIT or not 0 <= start <= MAX_OFFSET:
            raise ConfigError(f"limit must be 1-{MAX_LIMIT} and offset 0-{MAX_OFFSET:,}")
        return cls(
            words=(words or "").strip()[:1000],
            site=site or None,
            language=language or None,
            since=_day(since, "since"),
            until=_day(until, "until"),
            limit=size,
            offset=start,
        )

    def match(self) -> str | None:
        """The FTS5 expression of the words (``None``: no words, list everything)."""
        terms = _WORD.findall(self.words)[:WORDS]
        if not terms:
            return None
        quoted = [f'"{t}"' for t in terms]  # \w+ holds no quote: nothing to escape
        quoted[-1] += "*"
        return " ".join(quoted)


def _day(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} must be a date as YYYY-MM-DD") from None
    return value


def day_of(date: str | None) -> str | None:
    """The day of an ISO 8601 date or time (``metadata.date``), for sorting and filters."""
    if date and _DAY.match(date):
        return date[:10]
    return None


def highlights(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    """A snippet as FTS5 marks it, as plain text and where its matches are in it."""
    text, spans, start = [], [], None
    length = 0
    for piece in re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", snippet):
        if piece == MARK_OPEN:
            start = length
        elif piece == MARK_CLOSE:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            text.append(piece)
            length += len(piece)
    return "".join(text), spans
