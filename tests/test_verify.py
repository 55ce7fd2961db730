"""The fact verifier: context, cheap signals, one batched call, and the claims evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyst import Settings, summarize_text
from analyst.cli import app
from analyst.evaluation.claims import auroc
from analyst.model import drive
from analyst.model.ask import AskPolicy
from analyst.model.usage import Meter
from analyst.output.plain import to_markdown
from analyst.prompts import Prompts
from analyst.stages.verify import check_claims, combine, context_for, lexical_support, overlap
from analyst.testing import FakeChatClient, extractive_responder, passing_analysis
from analyst.text.tokens import get_encoder
from tests.fakeserver import FakeOpenAIServer, reply

SOURCE = (
    "The city council voted 7-2 on Tuesday to replace the Harbor Bridge. The state will pay "
    "$250 million. Construction starts in April 2027. Local shops asked for compensation."
)


def test_context_is_the_most_related_sentences_in_order() -> None:
    context = context_for("The state pays $250 million for the bridge", SOURCE, k=2)
    first, second = SOURCE.split(". ")[:2]
    assert context == f"{first}. {second}."


def test_overlap_lexical_support_and_combination() -> None:
    assert overlap("council voted Tuesday", SOURCE) == 1.0
    assert overlap("mayor resigned Friday", SOURCE) == 0.0
    assert lexical_support("Local shops asked for compensation.", SOURCE) == 1.0
    # The same words in another order (who voted for what) lose their pairs.
    assert lexical_support("Compensation asked for local shops.", SOURCE) < 0.5
    supported = combine("supported", 1.0, [])
    assert supported.verdict == "supported" and supported.support == 1.0
    invented = combine("supported", 1.0, ["Paris"])  # the model says yes; the text lacks a name
    assert invented.verdict == "unsupported" and invented.support == 0.5
    assert combine("unsupported", 1.0, []).verdict == "uncertain"  # 0.7: between the thresholds
    assert combine("unsupported", 0.2, []).support == pytest.approx(0.14)


def test_one_call_judges_every_claim_with_ids_limited_to_them() -> None:
    fake = FakeChatClient(responder=extractive_responder)
    calls = check_claims(
        ["The council voted 7-2 on Tuesday.", "The mayor of Paris resigned on Friday."],
        SOURCE,
        policy=AskPolicy(
            temperature=0.0,
            repairs=1,
            context_window=8192,
            encoder=get_encoder("m", Path("/tmp/analyst-test-cache")),
            meter=Meter(),
        ),
        prompts=Prompts.load(),
        max_tokens=200,
    )
    checks = drive.run(calls, fake)
    assert [c.verdict for c in checks] == ["supported", "unsupported"]
    assert checks[0].support > checks[1].support and checks[1].absent == ["Paris", "Friday"]
    (call,) = fake.calls
    enum = call.schema.schema["$defs"]["Judgement"]["properties"]["claim"]["enum"]
    assert enum == ["c1", "c2"]


def test_auroc_arithmetic() -> None:
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.9], [0.5]) == 0.75  # a tie counts half
    assert auroc([], [0.3]) is None


def test_eval_claims_command(server: FakeOpenAIServer, tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "text": SOURCE,
            "claim": "The council voted 7-2 on Tuesday.",
            "label_supported": True,
        },
        {
            "id": "b",
            "text": SOURCE,
            "claim": "The mayor of Paris resigned.",
            "label_supported": False,
        },
        {
            "id": "c",
            "text": SOURCE,
            "claim": "Shops asked for compensation.",
            "label_supported": True,
        },
    ]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    server.enqueue(reply("not json"))  # the first claim's first answer is broken: re-asked
    args = ["eval", str(path), "--claims", "--format", "json", "--base-url", server.base_url]
    result = CliRunner().invoke(app, [*args, "--model", "m"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [c["verdict"] for c in body["claims"]] == ["supported", "unsupported", "supported"]
    overall = body["overall"]
    assert overall["accuracy"] == 1.0 and overall["balanced_accuracy"] == 1.0
    assert overall["auroc"] == 1.0 and overall["failed"] == 0


# ---- --verify in reports ---------------------------------------------------------------------

VOTE = "The Riverton city council voted 7–2 on Tuesday night to replace the Harbor Bridge"
STATE = "The state will cover $250 million through its infrastructure fund"
ARROYO = "City finance director Miguel Arroyo told the council that the bond will add about $38"
SYNTH = {
    "summary": "The council approved a new bridge. The state pays most of it.",
    "implications": [
        {"party": "the city", "text": "Work can start.", "facts": ["f1", "f2"]},
        {"party": "the city", "text": "Work can start. too.", "facts": ["f1", "f2"]},
        {"party": "the city", "text": "Work can start. again.", "facts": ["f1", "f2"]},
    ],
    "analysis": passing_analysis(["f1", "f2"]),
}


def _extraction(*facts: tuple[str, str]) -> dict[str, object]:
    return {"facts": [{"section": "s1", "evidence": e, "text": t} for e, t in facts]}


def test_verify_marks_facts_and_writes_the_analysis_without_unsupported_ones(bridge: str) -> None:
    fake = FakeChatClient(
        [
            _extraction(
                (VOTE, "The council voted 7–2 to replace the Harbor Bridge."),
                (STATE, "The state will cover $250 million of the cost."),
                # Its words and numbers are all in the quote's sentence, so it passes the support
                # gate; it says the opposite, which takes the verifier to see.
                (ARROYO, "Miguel Arroyo told the council the bond will cut $38 from bills."),
            ),
            {
                "judgements": [
                    {"claim": "c1", "verdict": "supported"},
                    {"claim": "c2", "verdict": "supported"},
                    {"claim": "c3", "verdict": "unsupported"},
                ]
            },
            SYNTH,
        ]
    )
    report = summarize_text(bridge, client=fake, settings=Settings(verify=True))
    verdicts = [f.verification.verdict if f.verification else None for f in report.facts]
    # A paraphrase the words cannot confirm is uncertain: marked, and still used.
    assert verdicts == ["supported", "uncertain", "unsupported"]
    invented = report.facts[2]
    assert invented.verification is not None and invented.verification.support < 0.55
    assert any("f3 unsupported" in w for w in report.warnings)
    judge, synth = fake.calls[1], fake.calls[3]
    assert judge.schema.name == "judgements" and report.usage.calls == 4
    # After the article, each fact is judged against its quote's sentence and the ones around it.
    passages = judge.messages[1]["content"].split("</article>")[1]
    assert "since 1958" in passages  # the rest of the vote sentence
    assert "A federal grant of $95 million" in passages  # the next one
    synth_prompt = synth.messages[1]["content"]
    assert "will cut" not in synth_prompt and "f2: The state will cover" in synth_prompt
    enum = synth.schema.schema["$defs"]["CitedText"]["properties"]["facts"]["items"]["enum"]
    assert enum == ["f1", "f2"]
    markdown = to_markdown(report)
    assert "*(verified)*" in markdown and "*(unsupported: the article does not say" in markdown
    assert "*(not verified: the article may not say this)*" in markdown
    assert "verified 1/3" in markdown


def test_without_verify_there_is_no_extra_call(bridge: str) -> None:
    fake = FakeChatClient(responder=extractive_responder)
    report = summarize_text(bridge, client=fake)
    assert [c.schema.name for c in fake.calls] == ["extraction", "summary", "interpretation"]
    assert all(f.verification is None for f in report.facts)


def test_a_fact_in_another_language_is_judged_by_the_model_alone(bridge: str) -> None:
    fake = FakeChatClient(
        [
            _extraction((VOTE, "Le conseil a voté pour remplacer le pont.")),
            {"judgements": [{"claim": "c1", "verdict": "uncertain"}]},
            dict(
                SYNTH,
                implications=[
                    {"party": "the city", "text": "x", "facts": ["f1"]},
                    {"party": "the city", "text": "x too.", "facts": ["f1"]},
                    {"party": "the city", "text": "x again.", "facts": ["f1"]},
                ],
                analysis=passing_analysis(["f1"]),
            ),
        ]
    )
    report = summarize_text(bridge, client=fake, settings=Settings(verify=True, language="fr"))
    (fact,) = report.facts
    assert fact.verification is not None
    assert (fact.verification.verdict, fact.verification.lexical) == ("uncertain", None)


def test_verify_flag_through_the_loopback_server(server: FakeOpenAIServer, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(SOURCE.replace(". ", ".\n\n"), "utf-8")
    args = ["summarize", str(article), "--verify", "--format", "json", "--no-cache"]
    result = CliRunner().invoke(app, [*args, "--base-url", server.base_url, "--model", "m"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["facts"] and all(f["verification"]["verdict"] for f in body["facts"])
    names = [r["response_format"]["json_schema"]["name"] for r in server.chat_requests]
    assert names == ["extraction", "judgements", "summary", "interpretation"]
