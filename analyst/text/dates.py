"""Dates as an article writes them → ISO 8601 at the precision it gives, with dateparser.

"September 2023" → ``2023-09`` (stated); "on Tuesday", "last month" → resolved against the
article's own date (relative); a date that names a year must parse to that year ("the 1990s"
is not read as today). What cannot be derived is ``None``: the event is dropped, not guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")  # "1990s" names a year too


@dataclass(frozen=True)
class Dated:
    """A date read from text: ISO 8601 at its precision, and how it was found."""

    iso: str
    source: Literal["stated", "relative"]


def _data(text: str, language: str | None, settings: dict[str, Any]) -> Any:
    from dateparser.date import DateDataParser  # a moment to import; only --who needs it

    try:
        parser = DateDataParser(languages=[language] if language else None, settings=settings)
    except ValueError:  # a language dateparser does not know
        parser = DateDataParser(settings=settings)
    return parser.get_date_data(text)


def article_date(text: str | None, language: str | None = None) -> dt.datetime | None:
    """The article's own date (its byline's or its page's), when one can be read to the day."""
    if not text:
        return None
    found = _data(" ".join(text.split())[:100], language, {})
    return found.date_obj if found.date_obj is not None and found.period == "day" else None


def resolve(text: str, *, base: dt.datetime | None, language: str | None = None) -> Dated | None:
    """``text`` (a date as written) as ISO 8601; ``None`` when it cannot be derived."""
    text = " ".join(text.split())[:80]
    year = _YEAR.search(text)
    if not text or (year is None and base is None):
        return None  # nothing, or relative with nothing to resolve it against
    settings: dict[str, Any] = {"PREFER_DATES_FROM": "past"}
    if base is not None:
        settings["RELATIVE_BASE"] = base
    found = _data(text, language, settings)
    date: dt.datetime | None = found.date_obj
    if date is None or (year is not None and date.year != int(year.group(0))):
        return None  # unreadable, or "the 1990s" read as a time today
    period = found.period or "day"
    if period == "year":
        iso = f"{date.year:04d}"
    elif period == "month":
        iso = f"{date.year:04d}-{date.month:02d}"
    else:
        iso = date.date().isoformat()
    return Dated(iso, "stated" if year is not None else "relative")
