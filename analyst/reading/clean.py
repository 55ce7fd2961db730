"""Bytes → text, and text → the article's parts, keeping character offsets into the text.

An article as users paste it has more than its body: a title (sometimes twice), a dek, a byline
line ("Mar 5, 2026·4 min read·via @x"), share and "Trending Now" boilerplate, a "Source:" line and
perhaps an earlier "AI Analysis". Only the body is read for facts; the rest fills the metadata.
Offsets are indices into the decoded text (code points), so ``text[start:end]`` is exact.
"""

from __future__ import annotations

import codecs
import re
from statistics import median
from typing import Any

from analyst.article import Article, Block, Kind
from analyst.errors import InputError
from analyst.reading.byline import DATE
from analyst.reading.language import detect_language

# Characters that carry nothing a reader sees and break quote matching: zero-width space, word
# joiner, BOM, soft hyphen, and the C0/C1 controls other than tab and newline. (Zero-width
# joiners and non-joiners stay: Persian, Indic scripts and emoji need them.)
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``\r\n`` and ``\r`` as ``\n``, invisible characters removed: the text offsets refer to.

    A lone surrogate (a ``str`` made from broken UTF-16) cannot be written as UTF-8: it becomes
    U+FFFD, as a decoder would have made it.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return no_surrogates(_INVISIBLE.sub("", text))


def no_surrogates(text: str) -> str:
    """``text`` with lone surrogates (which ``json`` and broken UTF-16 let through, and which no
    output can write) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def decode(data: bytes) -> tuple[str, list[str]]:
    """Decode article bytes: a BOM's encoding (UTF-8, UTF-16), UTF-16 without a BOM, UTF-8, then
    the encoding charset-normalizer detects (cp1251, Shift-JIS, GB18030...), named with its
    confidence in a warning; bytes no encoding reads are an ``InputError``. Then ``clean_text``."""
    if not data:
        raise InputError("the article is empty")
    warnings: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[len(codecs.BOM_UTF8) :], "utf-8")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16")
    elif utf16 := _utf16_without_bom(data):
        text = _strict(data, utf16)
    else:
        if b"\x00" in data[:8192]:
            raise InputError("the article looks binary (it contains NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, warning = _detected(data)
            warnings.append(warning)
    if _looks_binary(text):
        raise InputError("the article looks binary (mostly control characters)")
    text = clean_text(text)
    if not text.strip():
        raise InputError("the article contains only whitespace")
    return text, warnings


DETECT_BYTES = 256 * 1024  # what charset-normalizer reads to decide; the whole is then decoded
_ISO_TWIN = {"cp1250": "iso8859_2", "cp1253": "iso8859_7", "cp1257": "iso8859_13"}
_WESTERN = ("cp1252", "iso8859_1", "iso8859_15")
_NATIVE: dict[str, tuple[str, ...]] = {
    **{c: _WESTERN for c in "en fr de es it pt nl da sv no nb fi is ga ca eu gl af id".split()},
    **{c: ("cp1250", "iso8859_2") for c in "cs pl hu sk sl hr ro bs sq".split()},
    **{c: ("cp1251", "koi8_r", "koi8_u", "iso8859_5") for c in "ru uk be bg sr mk".split()},
    **{c: ("cp1257", "iso8859_13", "iso8859_4") for c in "lt lv et".split()},
    "el": ("cp1253", "iso8859_7"), "tr": ("cp1254", "iso8859_9"), "he": ("cp1255", "iso8859_8"),
    "ar": ("cp1256", "iso8859_6"), "fa": ("cp1256",), "vi": ("cp1258",), "th": ("cp874", "tis_620"),
    "ja": ("shift_jis", "cp932", "euc_jp", "iso2022_jp"), "ko": ("euc_kr", "cp949"),
    "zh": ("gb18030", "gbk", "gb2312", "big5", "big5hkscs"),
}  # fmt: skip
# Encodings by how common they are on the web (charset-normalizer's names), for a tie.
_COMMON = (
    "cp1252 iso8859_1 cp1251 shift_jis cp932 gb18030 gbk gb2312 euc_kr cp949 big5 euc_jp "
    "iso8859_2 cp1250 koi8_r iso8859_15 cp1256 cp1253 cp1254 iso8859_9 cp1255 cp874 "
    "iso8859_5 koi8_u cp1257 iso8859_7 iso8859_8 tis_620 cp1258 iso8859_13 iso8859_4 cp866 "
    "euc_jp iso2022_jp big5hkscs iso8859_6"
).split()


def _detected(data: bytes) -> tuple[str, str]:
    """``data`` decoded by the encoding charset-normalizer finds most coherent in its first
    ``DETECT_BYTES``, and the warning that says which and how sure."""
    from charset_normalizer import from_bytes  # a moment to import; UTF-8 articles skip it

    sample = data[:DETECT_BYTES]
    if len(data) > DETECT_BYTES:
        # Cut at a line end, so that a multibyte character is not split at the edge.
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    matches = list(from_bytes(sample))
    if not matches:
        raise InputError("the article is not UTF-8 and no other encoding reads it")
    # Several encodings often read a short text equally well ("Café" is as clean in cp1250 as
    # in cp1252): among the least chaotic and most coherent, take the most common on the web.
    least = min(m.percent_chaos for m in matches)
    clean = [m for m in matches if m.percent_chaos <= least + 0.2]
    top = max(m.coherence for m in clean)
    likeliest = [m for m in clean if m.coherence >= top - 0.05]

    def rank(match: Any) -> tuple[int, int]:
        # First an encoding native to the language its own decoding reads as (Czech read
        # through cp1252 still looks Czech to the detector, and cp1252 is no Czech encoding),
        # then the most common on the web.
        names = [c for c in match.could_be_from_charset if c in _COMMON] or [match.encoding]
        language = detect_language(sample.decode(names[0], errors="replace"))
        native = any(c in _NATIVE.get(language or "", ()) for c in names)
        return (not native, min((_COMMON.index(c) for c in names if c in _COMMON), default=99))

    best = min(likeliest, key=rank)
    encoding = next((c for c in _COMMON if c in best.could_be_from_charset), best.encoding)
    if encoding in _ISO_TWIN and not any(0x80 <= b <= 0x9F for b in sample):
        # Bytes that never use the Windows page's own range (0x80-0x9F: "š" and "ž" in cp1250)
        # are its ISO twin's, whose letters in 0xA0-0xFF differ ("š" is 0xB9 there, "ą" in
        # cp1250); charset-normalizer does not tell the two apart.
        encoding = _ISO_TWIN[encoding]
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise InputError(
            f"the article is not UTF-8, and {encoding} (the likeliest) fails on its bytes"
        ) from None
    sure = max(0.0, 100.0 - best.percent_chaos)
    return text, (
        f"the article is not valid UTF-8; decoded it as {encoding} "
        f"(detected by charset-normalizer, {sure:.0f}% coherent)"
    )


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the bytes look like mostly-ASCII UTF-16 (every other byte 0)."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    if odd.count(0) > 0.4 * half and even.count(0) < 0.05 * half:
        return "utf-16-le"
    if even.count(0) > 0.4 * half and odd.count(0) < 0.05 * half:
        return "utf-16-be"
    return None


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(f"the article is not valid {encoding}: {exc.reason}") from None


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f\v")
    return controls > max(8, len(sample) // 20)


_BOILERPLATE = re.compile(
    r"(share:?|share (this|on) .{0,30}|trending( now)?|view all|see all|more in .{1,60}|"
    r"original source.{0,80}|advertisement|related( articles| stories| posts)?:?|read more|"
    r"subscribe.{0,40}|sign up.{0,60}|follow us.{0,40}|\d+ comments?|comments?|"
    r"skip to (main )?content|back to top|copy link|print)",
    re.IGNORECASE,
)
_BYLINE_HINT = re.compile(
    r"(\bmin(ute)?s? read\b|\bviews?\b|\bvia @|^by [A-Z]|·|\bupdated\b|\bpublished\b|\bposted\b"
    r"|^(par|von|por|di|door) [A-ZÀ-Ý]|de lecture|lesezeit|de lectura|publié|veröffentlicht"
    r"|actualizado|aktualisiert|mis à jour|で読めます|记者|記者)",
    re.IGNORECASE,
)
_SOURCE = re.compile(r"(sources?|originally published( in| at| by)?)\s*:\s*\S", re.IGNORECASE)
_ANALYSIS = re.compile(r"#*\s*(ai analysis|analysis by ai|ai summary|ai take)\s*:?", re.IGNORECASE)
_MD_HEADING = re.compile(r"#{1,6}\s+\S")
_CLOSING = tuple(".!?:;,…\"”’')]")


def read_article(data: bytes | str) -> Article:
    """Decode (when given bytes) and split an article into classified blocks."""
    warnings: list[str] = []
    if isinstance(data, bytes):
        text, warnings = decode(data)
    else:
        text = clean_text(data)
        if not text.strip():
            raise InputError("the article is empty or contains only whitespace")
    blocks = _classify_spans(text, _split_blocks(text))
    return _assemble(text, blocks, warnings)


def _split_blocks(text: str) -> list[tuple[int, int]]:
    """Spans of paragraph-sized blocks, stripped of surrounding whitespace.

    One non-empty line is one block, unless the text is hard-wrapped (most lines run straight
    into the next one), where blank lines separate blocks instead.
    """
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        lead = len(body) - len(body.lstrip())
        stripped = body.strip()
        if stripped:
            lines.append((pos + lead, pos + lead + len(stripped)))
        else:
            lines.append((-1, -1))
        pos += len(line)
    content = [(s, e) for s, e in lines if s >= 0]
    if not content:
        return []
    joined = sum(1 for a, b in zip(lines, lines[1:], strict=False) if a[0] >= 0 and b[0] >= 0)
    wrapped = (
        len(content) >= 6
        and joined / len(content) > 0.5
        and 30 <= median(e - s for s, e in content) <= 100
    )
    if not wrapped:
        return content
    blocks: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for span in lines:
        if span[0] < 0:
            if current:
                blocks.append(current)
            current = None
        elif _MD_HEADING.match(text, span[0]):
            if current:
                blocks.append(current)
            blocks.append(span)
            current = None
        else:
            current = (current[0], span[1]) if current else span
    if current:
        blocks.append(current)
    return blocks


def _is_byline(text: str) -> bool:
    """A short metadata line ("Mar 5, 2026·4 min read·via @x", "By Jane Doe"), not a sentence."""
    if len(text) > 160 or "\n" in text:
        return False
    separated = any(mark in text for mark in "·|•")  # sentences rarely hold these
    if text.endswith((".", "!", "?")) and not text.lower().startswith("by ") and not separated:
        return False  # "The report was published on Monday." is body text
    return bool(_BYLINE_HINT.search(text) or DATE.search(text))


def _is_heading(text: str, next_text: str | None) -> bool:
    if _MD_HEADING.match(text):
        return True
    if next_text is None or "\n" in text or len(text) > 120 or len(text.split()) > 15:
        return False
    if text.endswith(_CLOSING) or not text[0].isupper() and not text[0].isdigit():
        return False
    # "followed by a paragraph": the next block reads like prose, not another short line.
    return len(next_text) >= max(80, len(text)) or next_text.endswith((".", "!", "?", '"', "”"))


def _classify_spans(text: str, spans: list[tuple[int, int]]) -> list[Block]:
    items = [text[s:e] for s, e in spans]
    kinds: list[Kind] = [Kind.PARAGRAPH] * len(items)
    title: str | None = None
    in_analysis = False
    body_started = False
    seen_byline = False
    # The next block that is not boilerplate, for each block (one pass from the end: a scan
    # forward from every block was quadratic, and took 50 s on a 10 MB article).
    following: list[str | None] = [None] * len(items)
    upcoming: str | None = None
    for i in range(len(items) - 1, -1, -1):
        following[i] = upcoming
        if not _BOILERPLATE.fullmatch(items[i]):
            upcoming = items[i]
    for i, item in enumerate(items):
        nxt = following[i]
        plain = item.lstrip("#").strip()
        if in_analysis:
            kinds[i] = Kind.BOILERPLATE if _BOILERPLATE.fullmatch(plain) else Kind.ANALYSIS
        elif _ANALYSIS.fullmatch(item):
            kinds[i] = Kind.ANALYSIS
            in_analysis = True
        elif _BOILERPLATE.fullmatch(plain) or (title is not None and plain == title):
            kinds[i] = Kind.BOILERPLATE
        elif i == 0 and len(plain) <= 200 and "\n" not in plain:
            kinds[i] = Kind.TITLE
            title = plain
        elif _SOURCE.match(plain) and len(plain) < 400:
            kinds[i] = Kind.SOURCE
        elif not body_started and _is_byline(plain):
            kinds[i] = Kind.BYLINE
            seen_byline = True
        elif _is_heading(item, nxt):
            kinds[i] = Kind.HEADING
            body_started = True
        else:
            kinds[i] = Kind.PARAGRAPH
            if seen_byline or i > 3:
                body_started = True
    _mark_dek(kinds)
    return [Block(s, e, t, k) for (s, e), t, k in zip(spans, items, kinds, strict=True)]


def _mark_dek(kinds: list[Kind]) -> None:
    """Paragraphs between the title and a byline line are the dek, not body."""
    if Kind.BYLINE not in kinds or Kind.TITLE not in kinds:
        return
    first_byline = kinds.index(Kind.BYLINE)
    for i in range(kinds.index(Kind.TITLE) + 1, first_byline):
        if kinds[i] is Kind.PARAGRAPH:
            kinds[i] = Kind.DEK


def _assemble(text: str, blocks: list[Block], warnings: list[str]) -> Article:
    def first(kind: Kind) -> str | None:
        return next((b.text for b in blocks if b.kind is kind), None)

    if not any(b.kind in (Kind.PARAGRAPH, Kind.HEADING) for b in blocks):
        # A one-line "article" is its own body rather than a title with nothing under it.
        blocks = [
            Block(b.start, b.end, b.text, Kind.PARAGRAPH) if b.kind is Kind.TITLE else b
            for b in blocks
        ]
    title = first(Kind.TITLE)
    deks = [b.text for b in blocks if b.kind is Kind.DEK]
    byline = first(Kind.BYLINE)
    date_match = DATE.search(byline) if byline else None
    if not any(b.kind is Kind.PARAGRAPH for b in blocks):
        what = "headings but no paragraphs" if any(b.kind is Kind.HEADING for b in blocks) else ""
        raise InputError(f"the article has {what or 'no body text'}")
    return Article(
        text=text,
        blocks=tuple(blocks),
        title=title.lstrip("#").strip() if title else None,
        dek=" ".join(deks) or None,
        byline=byline,
        date=date_match.group(0) if date_match else None,
        source_line=first(Kind.SOURCE),
        warnings=tuple(warnings),
    )
