"""The synthesis gates: invented terms and repeats are re-asked once, then left out."""

from __future__ import annotations

from analyst import Settings, summarize_text
from analyst.stages.synthesize import gates
from analyst.stages.synthesize.replies import Synthesis
from analyst.testing import FakeChatClient, passing_analysis

VOTE = "The Riverton city council voted 7–2 on Tuesday night to replace the Harbor Bridge"
FACTS = {"facts": [{"section": "s1", "evidence": VOTE, "text": VOTE + "."}]}
ANALYSIS = (
    "The vote matters because it ends a long argument over the crossing. It fits a decade of "
    "studies that the council could not agree on, and the cost is still uncertain. The next "
    "months will show whether the funding holds, which is what residents and the businesses "
    "on the approach should watch closely."
)
IMPLICATIONS = [
    {"party": "the city", "text": "Residents can plan around the works.", "facts": ["f1"]},
    {"party": "the city", "text": "Businesses near the crossing face disruption.", "facts": ["f1"]},
    {"party": "the city", "text": "The council must now find contractors.", "facts": ["f1"]},
]


def _synthesis(*summary: str) -> dict[str, object]:
    return {
        "summary": list(summary),
        "implications": IMPLICATIONS,
        "analysis": passing_analysis(["f1"]),
    }


def test_a_passing_synthesis_costs_no_extra_call(bridge: str) -> None:
    good = _synthesis("The council voted to replace the bridge.", "It ends years of delay.", "Ok.")
    fake = FakeChatClient([FACTS, good])
    report = summarize_text(bridge, client=fake)
    assert len(fake.calls) == 3 and report.usage.repairs == 0


def test_an_invented_number_is_reasked_once_then_left_out(bridge: str) -> None:
    bad = _synthesis("The council voted to replace the bridge.", "Prices fall by up to 91%.", "Ok.")
    still = {"fixes": [{"where": "summary sentence 2", "text": "Prices fall by 91%."}]}
    fake = FakeChatClient([FACTS, bad, still])
    report = summarize_text(bridge, client=fake)
    assert len(fake.calls) == 4  # one re-ask, not more
    reask = fake.calls[3]
    # Only the failing piece is asked for again, after the article (the shared prefix).
    assert 'summary sentence 2: "Prices fall by up to 91%."' in reask.messages[-1]["content"]
    assert "names 91" in reask.messages[-1]["content"]
    assert reask.schema.schema["$defs"]["Fix"]["properties"]["where"]["enum"] == [
        "summary sentence 2"
    ]
    assert "91%" not in report.summary and "replace the bridge" in report.summary
    assert any("did not pass its checks" in w for w in report.warnings)


def test_a_fixed_piece_is_taken(bridge: str) -> None:
    bad = _synthesis("The council voted.", "The council voted.", "It ends years of delay.")
    fixed = {"fixes": [{"where": "summary sentence 2", "text": "Work starts soon."}]}
    fake = FakeChatClient([FACTS, bad, fixed])
    report = summarize_text(bridge, client=fake)
    assert report.summary == "The council voted. Work starts soon. It ends years of delay."
    assert not any("did not pass" in w for w in report.warnings)


def test_a_fix_that_is_no_better_is_not_taken(bridge: str) -> None:
    bad = _synthesis("The council voted.", "It ends years of delay.", "Ok.")
    bad["implications"] = [
        {"party": "the city", "text": VOTE + " again.", "facts": ["f1"]},
        *IMPLICATIONS[1:],
    ]
    worse = {"fixes": [{"where": "implication 1", "text": VOTE + ", said Mayor Zog."}]}
    fake = FakeChatClient([FACTS, bad, worse])
    report = summarize_text(bridge, client=fake)
    assert "Zog" not in report.implications[0].text
    assert any(f"implication 1 {gates.RESTATES}" in w for w in report.warnings)


def test_restating_is_measured() -> None:
    synthesis = Synthesis.model_validate(
        {
            "summary": ["A."],
            "implications": [{"party": "the city", "text": VOTE + " again.", "facts": []}]
            + IMPLICATIONS[:2],
            "analysis": {
                name: {"text": "Short.", "facts": []}
                for name in ("significance", "context", "uncertainty", "watch")
            },
        }
    )
    found = [str(p) for p in gates.problems(synthesis, [], VOTE + ".", names=True)]
    assert f"implication 1 {gates.RESTATES}" in found
    assert any(p.startswith("the analysis has 4 sentences and 4 words") for p in found)


def test_a_restating_implication_is_reasked_then_kept_with_a_warning(bridge: str) -> None:
    bad = _synthesis("The council voted.", "It ends years of delay.", "Ok.")
    copied = {"party": "the city", "text": VOTE + " again.", "facts": ["f1"]}
    bad["implications"] = [copied, *IMPLICATIONS]
    fake = FakeChatClient([FACTS, bad, {"fixes": []}])
    report = summarize_text(bridge, client=fake)
    reask = fake.calls[3].messages[-1]["content"]
    assert f'implication 1: "{VOTE} again."' in reask and gates.RESTATES in reask
    assert report.implications[0].text == VOTE + " again."
    assert any(f"implication 1 {gates.RESTATES}" in w for w in report.warnings)


def test_on_the_embedded_model_a_restating_piece_is_warned_of_not_reasked(bridge: str) -> None:
    # Its re-asks wrote the same sentence again (measured): the call would cost ~30 s for
    # nothing. A problem it can mend (a repeat, an invented name) is still re-asked.
    bad = _synthesis("The council voted.", "It ends years of delay.", "Ok.")
    copied = {"party": "the city", "text": VOTE + " again.", "facts": ["f1"]}
    bad["implications"] = [copied, *IMPLICATIONS]
    # The model writes the analysis only when asked to: on the embedded model analyst composes it.
    model = Settings(analysis="model", fact_text="written", summary="written")
    fake = FakeChatClient([FACTS, bad], backend="local")
    report = summarize_text(bridge, client=fake, settings=model)
    assert len(fake.calls) == 3 and report.implications[0].text == VOTE + " again."
    assert any(f"implication 1 {gates.RESTATES}" in w for w in report.warnings)
    bad["implications"] = [copied, *IMPLICATIONS, IMPLICATIONS[0]]
    fake = FakeChatClient([FACTS, bad, {"fixes": []}], backend="local")
    summarize_text(bridge, client=fake, settings=model)
    reask = fake.calls[3].messages[-1]["content"]
    assert "implication 5 repeats an earlier one" in reask and gates.RESTATES not in reask


def test_a_repeated_implication_is_reasked_then_left_out(bridge: str) -> None:
    bad = _synthesis("The council voted.", "It ends years of delay.", "Ok.")
    bad["implications"] = [*IMPLICATIONS, IMPLICATIONS[0]]
    fake = FakeChatClient([FACTS, bad, {"fixes": []}])
    report = summarize_text(bridge, client=fake)
    assert "implication 4 repeats an earlier one" in fake.calls[3].messages[-1]["content"]
    assert [i.text for i in report.implications] == [i["text"] for i in IMPLICATIONS]


def test_an_analysis_sentence_said_again_in_a_later_part_is_reasked_then_left_out(
    bridge: str,
) -> None:
    bad = _synthesis("The council voted.", "It ends years of delay.", "Ok.")
    said = "The new crossing should make the approach safer for everyone who uses it."
    analysis = passing_analysis(["f1"])
    analysis["significance"]["text"] += " " + said
    analysis["watch"]["text"] += " " + said
    bad["analysis"] = analysis
    fake = FakeChatClient([FACTS, bad, {"fixes": []}])
    report = summarize_text(bridge, client=fake)
    reask = fake.calls[3].messages[-1]["content"]
    assert "the analysis's watch repeats a sentence of an earlier part" in reask
    assert report.analysis.text.count(said) == 1
    assert report.analysis.parts and said in report.analysis.parts["significance"].text
