"""Sections and packing under a token budget."""

from __future__ import annotations

from pathlib import Path

from analyst.reading.clean import read_article
from analyst.text.sections import build_sections, pack
from analyst.text.tokens import count, get_encoder

ENC = get_encoder("gpt-4o-mini", Path("/tmp/analyst-test-cache"))

PARA = (
    "The council approved the plan after a long debate about costs and timing. "
    "Officials said the work would start next year and last three years. "
    "Residents asked for more information about traffic during construction. "
)


def _article(n_sections: int, paras: int) -> str:
    parts = ["A Title For The Story", ""]
    for i in range(n_sections):
        parts += [f"Heading Number {i + 1}", ""]
        parts += [PARA * 2 + "\n"] * paras
    return "\n".join(parts)


def test_headings_start_sections(bridge: str) -> None:
    article = read_article(bridge)
    sections = build_sections(article, ENC, max_tokens=3000)
    assert [s.heading for s in sections][:3] == [
        "A Vote That Ends a Long Argument",
        "How It Will Be Paid For",
        "Why the Old Bridge Must Go",
    ]
    for s in sections:
        assert s.tokens == count(ENC, s.text(article.text))
        assert article.text[s.start : s.end].startswith(article.text[s.parts[0][0] : s.parts[0][1]])


def test_a_1000_word_article_is_one_call() -> None:
    article = read_article(_article(8, 2))
    words = len(article.text.split())
    assert 900 < words < 1300
    sections = build_sections(article, ENC, max_tokens=2984)
    assert len(sections) == 8
    assert len(pack(sections, 3000)) == 1


def test_a_10000_word_article_is_several_calls_within_budget() -> None:
    article = read_article(_article(40, 5))
    assert len(article.text.split()) > 10_000
    sections = build_sections(article, ENC, max_tokens=2984)
    packs = pack(sections, 3000)
    assert 4 <= len(packs) <= 8
    for p in packs:
        assert sum(s.tokens + 16 for s in p) <= 3000
    # Nothing lost: every paragraph's text is in some section.
    covered = sum(e - s for sec in sections for s, e in sec.parts)
    body = sum(b.end - b.start for b in article.body if b.kind.value == "paragraph")
    assert covered == body


def test_oversized_section_splits_at_paragraphs_then_sentences() -> None:
    article = read_article(_article(1, 6))
    # Each paragraph is 74 tokens: 120 keeps them whole, 50 must cut them at sentences.
    assert len(build_sections(article, ENC, max_tokens=120)) == 6
    sections = build_sections(article, ENC, max_tokens=50)
    assert len(sections) > 6
    assert all(s.tokens <= 50 for s in sections)
    for sec in sections:
        assert all(article.text[s:e].endswith(".") for s, e in sec.parts)
    assert {s.heading for s in sections} == {"Heading Number 1"}


def test_text_without_spaces_or_sentences_still_fits() -> None:
    article = read_article("x" * 20_000)
    sections = build_sections(article, ENC, max_tokens=300)
    assert all(s.tokens <= 300 for s in sections)
    assert sum(e - s for sec in sections for s, e in sec.parts) == 20_000


def test_tiny_sections_merge() -> None:
    text = (
        "Title Of It\n\nShort One\n\nA tiny paragraph here.\n\nLonger Heading Here\n\n" + PARA * 3
    )
    sections = build_sections(read_article(text), ENC, max_tokens=3000)
    assert len(sections) == 1
