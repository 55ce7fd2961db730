"""One sentence splitter: the cases the regexes got wrong, and every user of it agreeing."""

from __future__ import annotations

from pathlib import Path

from analyst.reading.clean import read_article
from analyst.stages.verify import fact_context
from analyst.text import prose, split
from analyst.text.carries import passage
from analyst.text.sections import build_sections
from analyst.text.sentences import number
from analyst.text.tokens import get_encoder

ENC = get_encoder("gpt-4o-mini", Path("/tmp/analyst-test-cache"))


def test_units_abbreviations_and_decimals_do_not_end_a_sentence() -> None:
    text = (
        "The state approved $1.5 bn. for the bridge on Jan. 5 at 3 p.m. in the U.S. capital. "
        'Dr. Okafor said "It is late." She left!'
    )
    assert split.sentences(text) == [
        "The state approved $1.5 bn. for the bridge on Jan. 5 at 3 p.m. in the U.S. capital.",
        'Dr. Okafor said "It is late."',
        "She left!",
    ]


def test_the_articles_language_gives_its_abbreviations_and_ordinals() -> None:
    text = "Am 14. Oktober 2026 stimmte der Rat zu. Das kostet 3 Mio. Euro. Dr. Weber sagte nein."
    assert split.sentences(text, language="de") == [
        "Am 14. Oktober 2026 stimmte der Rat zu.",
        "Das kostet 3 Mio. Euro.",
        "Dr. Weber sagte nein.",
    ]


def test_cjk_full_stops_and_line_breaks_end_sentences() -> None:
    text = "东京很大。大阪也是！\nA heading without a stop\nNext line. Another."
    assert split.sentences(text, language="zh") == [
        "东京很大。",
        "大阪也是！",
        "A heading without a stop",
        "Next line.",
        "Another.",
    ]


def test_spans_are_offsets_into_the_text_given() -> None:
    text = "  Prefix. 😀 Emoji here. Then 𝔘nicode. "
    found = split.spans(text, 2, len(text) - 1)
    assert [text[a:b] for a, b in found] == ["Prefix.", "😀 Emoji here.", "Then 𝔘nicode."]
    assert split.spans("   \n\n ") == []


def test_the_prompts_sentences_the_support_test_and_the_verifier_agree() -> None:
    # A fact citing sentence n is tested against exactly that sentence, and the verifier shows it.
    text = (
        "Budget vote\n\nThe state approved $1.5 bn. for the bridge, Gov. Hale said. "
        "Work starts in 2027. Critics, led by Sen. Ruiz, object."
    )
    article = read_article(text)
    sections = build_sections(article, ENC, max_tokens=400)
    numbered = number(sections, article.text, language=article.language)
    said = [article.text[s.start : s.end] for s in numbered]
    assert said == [
        "The state approved $1.5 bn. for the bridge, Gov. Hale said.",
        "Work starts in 2027.",
        "Critics, led by Sen. Ruiz, object.",
    ]
    for s in numbered:
        assert passage(article.text, s.start, s.end, language=article.language) == said[s.n - 1]
    first = numbered[0]
    context = fact_context(first.start, first.end, "The state approved $1.5 bn.", article.text)
    assert said[0] in context and "$1." not in context.replace("$1.5", "")
    assert prose.sentences(" ".join(said)) == said


def test_an_oversized_paragraph_splits_at_the_same_sentences() -> None:
    sentence = "The state approved $1.5 bn. for the bridge after a long debate in the chamber. "
    article = read_article("Title\n\n" + sentence * 40)
    sections = build_sections(article, ENC, max_tokens=120)
    assert len(sections) > 1
    for section in sections:
        for a, b in section.parts:
            assert article.text[a:b].startswith("The state") and article.text[a:b].endswith(".")
