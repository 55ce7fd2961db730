"""A quote must say its fact: the deterministic support test and the stage that applies it."""

from __future__ import annotations

from analyst import summarize_text
from analyst.testing import FakeChatClient, passing_analysis
from analyst.text.carries import check, passage

ARROYO = "City finance director Miguel Arroyo told the council that the bond will add about $38"
SYNTH = {
    "summary": ["The council approved a new bridge.", "The bond adds to tax bills.", "It ends."],
    "implications": [
        {"party": "the city", "text": "Work can start.", "facts": ["f1"]},
        {"party": "the city", "text": "Work can start. too.", "facts": ["f1"]},
        {"party": "the city", "text": "Work can start. again.", "facts": ["f1"]},
    ],
    "analysis": passing_analysis(["f1"]),
}


def test_the_passage_is_the_sentences_a_quote_overlaps() -> None:
    source = "One sentence here. The second one, quoted. A third."
    start = source.index("second")
    assert passage(source, start, start + 6) == "The second one, quoted."


def test_words_numbers_and_names_must_be_in_the_passage() -> None:
    source = "The utility plans to retire two gas peaking turbines at its Millbrook site by 2028."
    faithful = check("The utility will retire two gas turbines by 2028.", source, 0, 10)
    assert faithful.supported and faithful.share >= 0.8
    opposite = check("The plant will be replaced with new gas turbines.", source, 0, 10)
    assert not opposite.supported and opposite.share < 0.6
    invented = check("The utility retires two turbines at Millbrook by 2030.", source, 0, 10)
    assert not invented.supported and invented.missing == ["2030"]
    named = check("Laura Chen plans to retire the Millbrook turbines.", source, 0, 10)
    assert named.missing == ["Laura", "Chen"]


# A real quote under a fact it does not prove: the small-model failure.
MISATTRIBUTED = {
    "facts": [{"section": "s1", "evidence": ARROYO, "text": "Governor Whitfield resigned."}]
}


def test_an_unsupported_fact_is_reasked_once_then_states_its_quotes_sentence(bridge: str) -> None:
    still_wrong = {"facts": [{"id": "f1", "text": "Governor Whitfield resigned at once."}]}
    fake = FakeChatClient([MISATTRIBUTED, still_wrong, SYNTH])
    report = summarize_text(bridge, client=fake)
    (fact,) = report.facts
    assert fact.grounded and fact.extractive and fact.support == 1.0
    assert fact.text.startswith("City finance director Miguel Arroyo told the council")
    # The re-ask showed the fact with its passage, after the article.
    reask = fake.calls[1].messages[-1]["content"]
    assert 'f1: "Governor Whitfield resigned."\n   passage: "City finance director' in reask
    assert reask.index("</article>") < reask.index("Governor Whitfield")
    assert "Whitfield" not in fake.calls[2].messages[1]["content"]  # not synthesized from
    assert report.usage.calls == 4 and report.usage.repairs == 1
    assert any("1 (f1) now state that sentence" in w for w in report.warnings)


def test_a_rewrite_that_passes_replaces_the_facts_text(bridge: str) -> None:
    fixed = {"facts": [{"id": "f1", "text": "Miguel Arroyo told the council about the bond."}]}
    fake = FakeChatClient([MISATTRIBUTED, fixed, SYNTH])
    report = summarize_text(bridge, client=fake)
    (fact,) = report.facts
    assert fact.text == "Miguel Arroyo told the council about the bond." and not fact.extractive
    assert fact.support is not None and fact.support >= 0.6
    assert any("1 rewritten by the model" in w for w in report.warnings)


def test_supported_facts_cost_no_reask(bridge: str) -> None:
    faithful = {"facts": [{"section": "s1", "evidence": ARROYO, "text": ARROYO + "."}]}
    fake = FakeChatClient([faithful, SYNTH])
    report = summarize_text(bridge, client=fake)
    assert report.usage.calls == 3 and not report.facts[0].extractive


def test_the_proof_figures_count_what_a_reader_would_object_to(bridge: str) -> None:
    from analyst.evaluation.proof import proof_figures
    from analyst.reading.formats import load_article

    source = load_article(bridge).text
    start = source.index(ARROYO)
    still_wrong = {"facts": [{"id": "f1", "text": "Governor Whitfield resigned."}]}
    report = summarize_text(bridge, client=FakeChatClient([MISATTRIBUTED, still_wrong, SYNTH]))
    figures = proof_figures(report, source)
    assert figures.facts == 1 and figures.extractive == 1 and figures.unsupported == 0
    # The same report with the fact's wrong wording put back is counted twice over.
    wrong = report.model_copy(
        update={
            "facts": [
                report.facts[0].model_copy(
                    update={"text": "Governor Whitfield resigned.", "start": start}
                )
            ],
            "summary": "Prices fall by 91%. Prices fall by 91%.",
        }
    )
    figures = proof_figures(wrong, source)
    assert (figures.unsupported, figures.misattributed) == (1, 1)
    assert figures.invented == 2 and figures.repeated == 1
