"""A quote must say its fact: the deterministic support test and the stage that applies it."""

from __future__ import annotations

from analyst import summarize_text
from analyst.testing import FakeChatClient
from analyst.text.support import check, passage

ARROYO = "City finance director Miguel Arroyo told the council that the bond will add about $38"
SYNTH = {
    "summary": ["The council approved a new bridge.", "The bond adds to tax bills.", "It ends."],
    "implications": [{"text": "Work can start.", "facts": ["f1"]}] * 3,
    "analysis": {"text": "A long argument ends.", "facts": ["f1"]},
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


def test_an_unsupported_fact_states_its_quotes_sentence_instead(bridge: str) -> None:
    fake = FakeChatClient(
        [
            {
                "facts": [
                    # A real quote under a fact it does not prove: the small-model failure.
                    {"section": "s1", "evidence": ARROYO, "text": "Governor Whitfield resigned."}
                ]
            },
            SYNTH,
        ]
    )
    report = summarize_text(bridge, client=fake)
    (fact,) = report.facts
    assert fact.grounded and fact.extractive and fact.support == 1.0
    assert fact.text.startswith("City finance director Miguel Arroyo told the council")
    assert "Whitfield" not in fake.calls[1].messages[1]["content"]  # not synthesized from
    assert any("not supported by the sentence their quote stands in" in w for w in report.warnings)
