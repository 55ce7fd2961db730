"""Article body → sections under a token budget → packs of sections, one pack per model call.

Pure functions: no I/O, no model. A section is a heading and the paragraphs under it; a section
over the budget splits at paragraph, then sentence, then word boundaries; a tiny one merges with a
neighbour. Packing then fills each extraction call up to the budget, so a 1,000-word article costs
one call and a 10,000-word article several, none truncated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from analyst.article import Article, Block, Kind
from analyst.text.split import spans
from analyst.text.tokens import Encoder, count

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Section:
    """A run of the article body that is read as one unit."""

    id: str
    heading: str | None
    parts: tuple[Span, ...]  # paragraph spans in the source text, heading excluded
    tokens: int

    @property
    def start(self) -> int:
        """Offset of the section's first character in the source."""
        return self.parts[0][0]

    @property
    def end(self) -> int:
        """Offset just past the section's last character in the source."""
        return self.parts[-1][1]

    def text(self, source: str) -> str:
        """The section's paragraphs as sent to the model."""
        return "\n\n".join(source[s:e] for s, e in self.parts)


@dataclass
class _Draft:
    heading: str | None
    parts: list[Span]
    tokens: int


def build_sections(
    article: Article, encoder: Encoder, *, max_tokens: int, min_tokens: int = 40
) -> list[Section]:
    """Split the article body into sections of at most ``max_tokens`` tokens each."""
    text = article.text
    drafts = _group_by_heading(article.body)
    sized: list[_Draft] = []
    for draft in drafts:
        sized.extend(_split(draft, text, encoder, max_tokens, article.language))
    merged = _merge_tiny(sized, max_tokens=max_tokens, min_tokens=min_tokens)
    return [
        Section(
            id=f"s{i}",
            heading=d.heading,
            parts=tuple(d.parts),
            tokens=count(encoder, "\n\n".join(text[s:e] for s, e in d.parts)),
        )
        for i, d in enumerate(merged, start=1)
    ]


def heading_text(block: Block) -> str:
    """A heading's words without Markdown's leading hashes."""
    return block.text.lstrip("#").strip()


def _group_by_heading(body: Sequence[Block]) -> list[_Draft]:
    drafts: list[_Draft] = []
    pending: Block | None = None  # a heading still waiting for its first paragraph
    for block in body:
        if block.kind is Kind.HEADING:
            pending = block
            continue
        if pending is not None or not drafts:
            drafts.append(_Draft(heading_text(pending) if pending else None, [], 0))
            pending = None
        drafts[-1].parts.append((block.start, block.end))
    if pending is not None and not drafts:
        # An article of headings alone: read the headings as its text.
        drafts.append(_Draft(None, [(b.start, b.end) for b in body], 0))
    return drafts


def _split(
    draft: _Draft, text: str, encoder: Encoder, max_tokens: int, language: str | None
) -> list[_Draft]:
    units: list[tuple[Span, int]] = []
    for span in draft.parts:
        units.extend(_fit(span, text, encoder, max_tokens, language))
    out: list[_Draft] = []
    for span, tokens in units:
        # +2 for the blank line that joins parts in the prompt.
        if out and out[-1].tokens + tokens + 2 <= max_tokens:
            out[-1].parts.append(span)
            out[-1].tokens += tokens + 2
        else:
            out.append(_Draft(draft.heading, [span], tokens))
    return out


def _fit(
    span: Span, text: str, encoder: Encoder, max_tokens: int, language: str | None
) -> list[tuple[Span, int]]:
    """Cut one paragraph into pieces within the budget: sentences first, then words."""
    tokens = count(encoder, text[span[0] : span[1]])
    if tokens <= max_tokens:
        return [(span, tokens)]
    pieces: list[tuple[Span, int]] = []
    sentences = spans(text, *span, language=language)
    for sub in sentences if len(sentences) > 1 else _words(text, span):
        sub_tokens = count(encoder, text[sub[0] : sub[1]])
        if sub_tokens > max_tokens:
            pieces.extend(_hard_cut(sub, text, encoder, max_tokens))
            continue
        if pieces and pieces[-1][1] + sub_tokens + 1 <= max_tokens:
            last_span, last_tokens = pieces[-1]
            pieces[-1] = ((last_span[0], sub[1]), last_tokens + sub_tokens + 1)
        else:
            pieces.append((sub, sub_tokens))
    return pieces


def _words(text: str, span: Span) -> list[Span]:
    return [(m.start(), m.end()) for m in re.compile(r"\S+").finditer(text, span[0], span[1])]


def _hard_cut(span: Span, text: str, encoder: Encoder, max_tokens: int) -> list[tuple[Span, int]]:
    """Last resort for a run with no spaces: cut by characters, conservatively sized."""
    pieces: list[tuple[Span, int]] = []
    start, end = span
    # A character is at most four UTF-8 bytes, so at most four tokens: this never overflows.
    step = max(1, max_tokens // 4)
    while start < end:
        stop = min(end, start + step)
        pieces.append(((start, stop), count(encoder, text[start:stop])))
        start = stop
    return pieces


def _merge_tiny(drafts: list[_Draft], *, max_tokens: int, min_tokens: int) -> list[_Draft]:
    out: list[_Draft] = []
    for draft in drafts:
        if out and (draft.tokens < min_tokens or out[-1].tokens < min_tokens):
            if out[-1].tokens + draft.tokens + 2 <= max_tokens:
                out[-1].parts.extend(draft.parts)
                out[-1].tokens += draft.tokens + 2
                if out[-1].heading is None:
                    out[-1].heading = draft.heading
                continue
        out.append(draft)
    return out


def pack(
    sections: Sequence[Section], budget: int, overhead_per_section: int = 16
) -> list[list[Section]]:
    """Group consecutive sections into packs of at most ``budget`` tokens, one per model call."""
    packs: list[list[Section]] = []
    used = 0
    for section in sections:
        cost = section.tokens + overhead_per_section
        if packs and used + cost <= budget:
            packs[-1].append(section)
            used += cost
        else:
            packs.append([section])
            used = cost
    return packs
