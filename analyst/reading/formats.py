"""Articles as they arrive: plain text, HTML pages, PDFs, gzip of any of those; bytes → ``Article``.

The format is sniffed from the bytes (gzip and PDF by their magic numbers, HTML by its markup),
with the file name or the HTTP content type as hints. HTML goes through trafilatura, which finds
the main text and the metadata (title, author, date, site); its headings become section headings.
PDF text comes from pypdf. Every kind ends as clean text — the text the report's offsets refer to
(``--include-text`` puts it in the report).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zlib
from dataclasses import replace
from typing import Any

from analyst.article import Article, Block, Kind
from analyst.errors import InputError
from analyst.reading.clean import clean_text, decode, read_article
from analyst.reading.language import detect_language

# A gzip larger than this once inflated is refused (a "zip bomb" costs memory, not time).
MAX_INFLATED = 64 * 1024 * 1024
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)\b",
    re.I | re.S,
)


def load_article(
    data: bytes | str,
    *,
    name: str | None = None,
    content_type: str | None = None,
    url: str | None = None,
    max_bytes: int = MAX_INFLATED,
) -> Article:
    """Read an article in whatever format it came in; ``name`` and ``content_type`` are hints.

    A gzip may inflate to at most ``max_bytes``. Every failure of a reader is an ``InputError``.
    """
    encoded = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    sha256 = hashlib.sha256(encoded).hexdigest()
    article = _read(data, name, content_type, max_bytes)
    return replace(article, url=url or article.url, sha256=sha256)


def _read(data: bytes | str, name: str | None, content_type: str | None, cap: int) -> Article:
    if isinstance(data, str):
        kind = "html" if _looks_html(data.encode("utf-8", "surrogatepass")[:2048]) else "text"
        return _finish(_html(data) if kind == "html" else read_article(clean_text(data)))
    hint = (name or "").lower()
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, cap)
        hint = hint.removesuffix(".gz")
    if data[:5] == b"%PDF-":
        return _finish(_pdf(data))
    is_html = hint.endswith(HTML_SUFFIXES) or "html" in (content_type or "").lower()
    if is_html or _looks_html(data[:2048]):
        return _finish(_html(data))
    return _finish(read_article(data))


def _finish(article: Article) -> Article:
    body = "\n".join(b.text for b in article.body)
    return replace(article, language=detect_language(body))


def _looks_html(head: bytes) -> bool:
    return bool(_HTML_START.match(head.removeprefix(b"\xef\xbb\xbf")))


def _gunzip(data: bytes, cap: int = MAX_INFLATED) -> bytes:
    """Inflate every member (``cat a.gz b.gz`` is one valid gzip), never past ``cap`` in all."""
    parts: list[bytes] = []
    size = 0
    rest = data
    while rest[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: expect a gzip header
        try:
            out = inflater.decompress(rest, cap + 1 - size)
        except zlib.error as exc:
            raise InputError(f"the gzip data is corrupt: {exc}") from None
        size += len(out)
        if size > cap:
            raise InputError(f"the gzip file inflates to more than {cap:,} bytes")
        if not inflater.eof:
            raise InputError("the gzip data is truncated")
        parts.append(out)
        rest = inflater.unused_data
    out = b"".join(parts)
    if not out:
        raise InputError("the article is empty (an empty gzip file)")
    return out


# ---- HTML -------------------------------------------------------------------------------------


def _quiet(name: str) -> None:
    logger = logging.getLogger(name)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _html(data: bytes | str) -> Article:
    _quiet("trafilatura")
    _quiet("htmldate")
    _quiet("courlan")
    try:
        return _extract_html(data)
    except (InputError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - lxml and trafilatura raise many kinds
        raise InputError(f"the page cannot be read: {type(exc).__name__}: {exc}"[:300]) from None


def _extract_html(data: bytes | str) -> Article:
    # Imported here: they take a moment, and plain text never needs them.
    import trafilatura
    from trafilatura.settings import Document

    if isinstance(data, bytes):
        # trafilatura decodes by the page's declared charset; a BOM or UTF-16 page goes through
        # our decoder first.
        if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
            data = decode(data)[0]
    doc = trafilatura.bare_extraction(
        data,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        output_format="python",
    )
    if not isinstance(doc, Document) or doc.body is None or not (doc.text or "").strip():
        raise InputError("the page has no article text that could be extracted")
    title = _one_line(doc.title or "")
    pieces: list[tuple[str, Kind]] = [(title, Kind.TITLE)] if title else []
    # The page's <h1> usually repeats its title: once is enough.
    pieces.extend(p for p in _body_pieces(doc.body) if p[0].casefold() != title.casefold())
    if not any(kind is Kind.PARAGRAPH for _, kind in pieces):
        raise InputError("the page has no article text that could be extracted")
    article = _join(pieces)
    return replace(
        article,
        title=title or None,
        dek=_one_line(doc.description or "") or None,
        byline=_one_line(doc.author or "") or None,
        author=_one_line(doc.author or "") or None,
        date=doc.date or None,
        site=_one_line(doc.sitename or "") or None,
        url=doc.url or None,
        kind="html",
    )


def _body_pieces(body: Any) -> list[tuple[str, Kind]]:
    """trafilatura's tree → (text, kind) pieces: headings, paragraphs, list items, table rows."""
    pieces: list[tuple[str, Kind]] = []
    for element in body:
        tag = element.tag
        if tag == "head":
            text = _one_line(" ".join(element.itertext()))
            if text:
                pieces.append((text, Kind.HEADING))
        elif tag == "list":
            for item in element.iter("item"):
                text = _one_line(" ".join(item.itertext()))
                if text:
                    pieces.append((text, Kind.PARAGRAPH))
        elif tag == "table":
            for row in element.iter("row"):
                cells = [_one_line(" ".join(c.itertext())) for c in row]
                text = " | ".join(c for c in cells if c)
                if text:
                    pieces.append((text, Kind.PARAGRAPH))
        elif tag in ("p", "quote", "code", "div"):
            text = _one_line(" ".join(element.itertext()))
            if text:
                pieces.append((text, Kind.PARAGRAPH))
    return pieces


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def _join(pieces: list[tuple[str, Kind]]) -> Article:
    """Join pieces into one text (blank line between them) with each piece's offsets."""
    blocks: list[Block] = []
    parts: list[str] = []
    at = 0
    for text, kind in pieces:
        if parts:
            parts.append("\n\n")
            at += 2
        blocks.append(Block(at, at + len(text), text, kind))
        parts.append(text)
        at += len(text)
    return Article(text="".join(parts), blocks=tuple(blocks))


# ---- PDF --------------------------------------------------------------------------------------


def _pdf(data: bytes) -> Article:
    from pypdf import PdfReader

    # pypdf logs what it repairs in a broken file ("EOF marker not found"); with no handler
    # configured, Python would print each to stderr beside analyst's one line. A NullHandler
    # keeps them off stderr and still lets them reach an application's own logging.
    _quiet("pypdf")

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError("the PDF is encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = _one_line(str(meta.title)) if meta and meta.title else None
        author = _one_line(str(meta.author)) if meta and meta.author else None
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf's failures have no one base class
        # PdfReadError, LimitReachedError (a flate bomb), NotImplementedError (an unknown
        # filter), KeyError, ValueError, RecursionError...: a broken PDF is the input's fault.
        raise InputError(f"the PDF cannot be read: {type(exc).__name__}: {exc}"[:300]) from None
    text = clean_text("\n\n".join(p.strip() for p in pages if p.strip()))
    if not text.strip():
        raise InputError(
            "the PDF has no extractable text (scanned pages are images: run OCR on it first)"
        )
    article = read_article(text)
    return replace(
        article,
        title=article.title or title,
        byline=article.byline or author,
        author=author,
        kind="pdf",
    )
