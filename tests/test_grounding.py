"""Grounding: exact, normalized and fuzzy matches, and their offsets."""

from __future__ import annotations

from analyst.text.quotes import Grounder, MatchKind, absent_terms

SOURCE = (
    "Heading\n"
    "CEO Eddie Wu has officially approved the resignation of Lin Junyang, the leader of the "
    "Qwen AI team. He helped build Gemini 3.0—Google’s most advanced model.\n"
    "The budget is $412 million, up from 2024."
)
REGIONS = [(8, SOURCE.index("\nThe budget")), (SOURCE.index("The budget"), len(SOURCE))]


def test_exact_match_offsets_point_at_the_quote() -> None:
    g = Grounder(SOURCE, REGIONS)
    loc = g.locate("officially approved the resignation of Lin Junyang")
    assert loc is not None and loc.match is MatchKind.EXACT
    assert SOURCE[loc.start : loc.end] == "officially approved the resignation of Lin Junyang"


def test_normalized_match_handles_case_space_quotes_dashes() -> None:
    g = Grounder(SOURCE, REGIONS)
    loc = g.locate('"gemini 3.0-google\'s   most advanced model"')
    assert loc is not None and loc.match is MatchKind.NORMALIZED
    assert SOURCE[loc.start : loc.end] == "Gemini 3.0—Google’s most advanced model"


def test_fuzzy_match_recovers_a_dropped_word_and_shows_the_source_text() -> None:
    g = Grounder(SOURCE, REGIONS)
    loc = g.locate("CEO Eddie Wu has approved the resignation of Lin Junyang, the leader")
    assert loc is not None and loc.match is MatchKind.FUZZY
    assert loc.score >= 90
    assert SOURCE[loc.start : loc.end] == (
        "CEO Eddie Wu has officially approved the resignation of Lin Junyang, the leader"
    )


def test_paraphrase_and_headings_are_not_found() -> None:
    g = Grounder(SOURCE, REGIONS)
    assert g.locate("Eddie Wu decided that Lin should leave the company at once") is None
    assert g.locate("Heading") is None
    assert g.locate("   ") is None


def test_quotes_do_not_match_across_regions() -> None:
    g = Grounder(SOURCE, REGIONS)
    assert g.locate("most advanced model.\nThe budget is") is None


def test_absent_terms_flags_invented_names_and_numbers() -> None:
    assert absent_terms("Zhou Hao was appointed by Jack Ma in 2023.", SOURCE) == [
        "2023",
        "Zhou",
        "Hao",
        "Jack",
        "Ma",
    ]
    assert absent_terms("The budget is $412 million.", SOURCE) == []
    assert absent_terms("Qwen AI's leader resigned in 2024.", SOURCE) == []


def test_fuzzy_matching_works_in_text_without_spaces() -> None:
    source = (
        "市议会周二晚上以七票对二票通过了替换港口大桥的计划。这座钢桁架桥自一九五八年起承载交通。"
        "新桥预计耗资四亿一千二百万美元，州政府将承担二亿五千万美元。"
    )
    grounder = Grounder(source, [(0, len(source))])
    loc = grounder.locate("这座钢桥自一九五八年起承载交通。", 0)  # two characters dropped
    assert loc is not None and loc.match is MatchKind.FUZZY
    # The span is the sentence, not the whole paragraph (every character is a word boundary).
    assert source[loc.start : loc.end] == "这座钢桁架桥自一九五八年起承载交通。"
    assert grounder.locate("州政府将承担三亿美元的全部费用和其他", 0) is None  # not in the text


def test_absent_numbers_are_compared_as_digits_and_names_can_be_skipped() -> None:
    source = "La ligne transportera environ 65 000 voyageurs pour 480 millions d'euros à Lyon."
    assert absent_terms("The line will carry 65,000 riders in Lyon.", source) == ["The"]
    assert absent_terms("It will carry 66,000 riders.", source, names=False) == ["66,000"]
    assert absent_terms("The Metropole approved it.", source, names=False) == []


def test_a_quote_of_only_invisible_characters_is_not_found() -> None:
    # Found by the fuzzer (benchmarks/hostile.py): it normalized to "", found at 0 of an empty text.
    for text in ("", "Some text."):
        assert Grounder(text, [(0, len(text))]).locate("\u200b\ufeff") is None
