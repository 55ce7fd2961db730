"""A byline line as data: who wrote it, when (ISO 8601 and as written), how long, which handle.

"Nov 12, 2026·5 min read·1.2k views·via @riverton_ledger" → date ``2026-11-12`` ("Nov 12,
2026"), read time "5 min read", handle "@riverton_ledger"; "Par Marie Dupont · 14 octobre 2026"
→ author "Marie Dupont", date ``2026-10-14``. The line is cut at its separators (· | • —); each
piece is a date (dateparser, in the article's language), a read time, a handle, a count of views
or likes (dropped), or a name (after "By", "Par", "Von", "Por"... or alone, when it looks like
one). What is not recognised is left out rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyst.text import dates

_SEPARATORS = re.compile(r"\s*[·|•—–]\s*|\s+-\s+")
_BY = re.compile(
    r"^(?:by|par|von|por|di|door|av|af|przez|от|автор|作者|記者|记者|文|撰文)[:：\s]\s*",
    re.IGNORECASE,
)
_READ = re.compile(
    r"\d+\s*(?:min(?:ute)?s?\.?|Min\.?|分钟?|분)\s*(?:read|de lecture|Lesezeit|de lectura|"
    r"di lettura|leestijd|で読めます|阅读|읽기)?|(?:Lesezeit|lectura|lecture)\s*:?\s*\d+\s*min\.?",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"@[A-Za-z0-9_]{1,30}")
_COUNT = re.compile(r"^[\d.,]+\s*[kKmM]?\s*\w*$")  # "1.2k views", "34 comments"
_NAME = re.compile(r"^[A-ZÀ-ÝŁŚŻĆ][\w'’.-]+(?:\s+[A-ZÀ-ÝŁŚŻĆ][\w'’.-]+){1,3}$")
# Month names' beginnings in English, French, German, Spanish, Italian, Portuguese and Dutch.
_MONTH = (
    r"(?:jan|feb|f[ée]v|m[äa]r|apr|avr|abr|ma[iy]|mei|mag|jun|jui|giu|jul|lug|aug|ao[uû]|ago|"
    r"sep|set|o[ck]t|ott|out|nov|d[eé][cz]|dic|ene|gen)[a-zà-ÿ]*\.?"
)
# Dates a byline writes: English, European (14. Oktober 2026, 14 de octubre de 2026), CJK, ISO.
DATE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
    r"|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}\.?\s+(?:de\s+)?{_MONTH}\s+(?:de\s+)?\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}"
    r"|\d{1,2}/\d{1,2}/\d{4}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Byline:
    """What a byline line says, each part ``None`` when it does not say it."""

    author: str | None = None
    date: str | None = None  # ISO 8601 at the precision written
    date_text: str | None = None
    read_time: str | None = None
    handle: str | None = None


def parse(line: str | None, language: str | None = None) -> Byline:
    """The parts of a byline ``line`` (see the module)."""
    if not line:
        return Byline()
    author = date = date_text = read_time = handle = None
    for piece in (p.strip() for p in _SEPARATORS.split(line) if p and p.strip()):
        found_date = DATE.search(piece)
        if found_date and date is None:
            written = found_date.group(0)
            dated = dates.resolve(written, base=None, language=language)
            if dated is not None:
                date, date_text = dated.iso, written
                piece = (piece[: found_date.start()] + piece[found_date.end() :]).strip(" ,")
        if read_time is None and (found := _READ.search(piece)):
            read_time = found.group(0).strip()
            continue
        if handle is None and (found := _HANDLE.search(piece)):
            handle = found.group(0)
            continue
        if not piece or _COUNT.match(piece):
            continue
        named = _BY.sub("", piece).strip()
        if author is None and named and (named != piece or _NAME.match(named)):
            author = named
    return Byline(author, date, date_text, read_time, handle)


def iso_date(text: str | None, language: str | None = None) -> tuple[str | None, str | None]:
    """A date as some page's metadata gives it → (ISO 8601, as written); (None, text) when it
    cannot be read."""
    if not text:
        return None, None
    dated = dates.resolve(text, base=None, language=language)
    return (dated.iso if dated else None), text
