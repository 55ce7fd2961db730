"""Reading: decoding and recognising the parts of an article."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from analyst.article import Kind
from analyst.errors import InputError
from analyst.reading.clean import decode, read_article


def test_seed_parts_are_recognised(seed_path: Path) -> None:
    article = read_article(seed_path.read_bytes())
    assert article.title == (
        "Alibaba's AI Shakeup: Qwen Leader Departs as DeepMind Veteran Takes Key Role"
    )
    assert article.dek is not None and article.dek.startswith("Alibaba CEO Eddie Wu has approved")
    assert article.date == "Mar 5, 2026"
    assert article.byline is not None and "via @rohanpaul_ai" in article.byline
    assert article.source_line is not None and article.source_line.startswith("Source: Based on")
    body = " ".join(b.text for b in article.body)
    # Boilerplate, the Source line and the existing AI Analysis are not body.
    for outside in ("Share:", "Trending Now", "View all", "Original source", "Source: Based"):
        assert outside not in body
    assert "This leadership transition at Alibaba represents" not in body
    headings = [b.text for b in article.blocks if b.kind is Kind.HEADING]
    assert headings[1:4] == [
        "The Departure and Arrival",
        "Structural Reorganization",
        "The Qwen Context",
    ]


def test_offsets_index_the_original_text(bridge: str) -> None:
    article = read_article(bridge)
    for block in article.blocks:
        assert article.text[block.start : block.end] == block.text


def test_markdown_headings(tmp_path: Path) -> None:
    text = (
        "# Title here\n\nIntro paragraph that is long enough to be prose for sure.\n\n"
        "## Money\n\nThe council approved the budget of $3 million on Monday evening."
    )
    article = read_article(text)
    assert article.title == "Title here"
    assert [b.kind for b in article.blocks] == [
        Kind.TITLE,
        Kind.PARAGRAPH,
        Kind.HEADING,
        Kind.PARAGRAPH,
    ]


def test_hard_wrapped_paragraphs_become_one_block() -> None:
    para = (
        "The committee met on Monday to discuss the new\n"
        "budget proposal and agreed to send it back to\n"
        "the finance office for another round of review\n"
    )
    article = read_article("Budget Talks Stall\n\n" + (para + "\n") * 4)
    assert sum(1 for b in article.blocks if b.kind is Kind.PARAGRAPH) == 4


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + "Café prices rose.".encode(), "utf-8-sig"),
        ("Café prices rose.".encode("utf-16"), "utf-16"),
        ("Café prices rose.".encode("utf-16-be"), None),
    ],
)
def test_decodes_boms(data: bytes, encoding: str | None) -> None:
    if encoding is None:
        data = codecs.BOM_UTF16_BE + data
    text, warnings = decode(data)
    assert text == "Café prices rose."
    assert warnings == []


def test_cp1252_fallback_warns() -> None:
    text, warnings = decode("Caf\u00e9 \u201cquoted\u201d".encode("cp1252"))
    assert text == "Café “quoted”"
    assert warnings and "cp1252" in warnings[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\t \n", "whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(1, 9)) * 200, "binary"),
    ],
)
def test_bad_input_is_an_input_error(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_article(data)


def test_short_sentences_with_byline_words_stay_body() -> None:
    text = (
        "Report Finds Gaps\n\nBy Jane Doe\n\nThe report was published on Monday.\n\n"
        "It found gaps in the audit of the city's accounts for the past three years."
    )
    article = read_article(text)
    assert article.byline == "By Jane Doe"
    assert [b.text for b in article.body][0] == "The report was published on Monday."


def test_one_line_article_is_body_not_title() -> None:
    article = read_article("The mayor resigned on Friday.")
    assert [b.kind for b in article.blocks] == [Kind.PARAGRAPH]
