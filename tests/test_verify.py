"""The fact verifier: context, cheap signals, one batched call, and the claims evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyst import drive
from analyst.cli import app
from analyst.evaluate import auroc
from analyst.structured import Meter
from analyst.testing import FakeChatClient, extractive_responder
from analyst.tokens import get_encoder
from analyst.verify import check_claims, combine, context_for, lexical_support, overlap
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
        max_tokens=200,
        temperature=0.0,
        repairs=1,
        context_window=8192,
        encoder=get_encoder("m", Path("/tmp/analyst-test-cache")),
        meter=Meter(),
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
