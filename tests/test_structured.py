"""The bounded re-ask loop, through the shipped FakeChatClient."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyst.errors import ContextOverflowError, ModelOutputError, OutputTooLong
from analyst.model import drive
from analyst.model.ask import AskPolicy, ask, parse_json
from analyst.model.seam import Completion, Message, OutputSchema, StructuredMode
from analyst.model.usage import Meter
from analyst.stages.extract import Extraction
from analyst.stages.replies import strict_json_schema
from analyst.stages.synthesize.replies import Synthesis
from analyst.testing import FakeChatClient, passing_analysis
from analyst.text.tokens import get_encoder

ENC = get_encoder("gpt-4o-mini", Path("/tmp/analyst-test-cache"))
SCHEMA = OutputSchema("extraction", strict_json_schema(Extraction))
MESSAGES: list[Message] = [
    {"role": "system", "content": "system prompt"},
    {"role": "user", "content": "article"},
]
GOOD = {"facts": [{"section": "s1", "evidence": "a quote", "text": "a fact"}]}


def _ask(fake: FakeChatClient, meter: Meter, repairs: int = 2, window: int = 8192) -> Extraction:
    policy = AskPolicy(
        temperature=0.0, repairs=repairs, context_window=window, encoder=ENC, meter=meter
    )
    calls = ask(policy, MESSAGES, Extraction, schema=SCHEMA, max_tokens=500)
    return drive.run(calls, fake)


def test_invalid_then_valid_reasks_once_with_the_error() -> None:
    fake = FakeChatClient(["not json at all", GOOD])
    meter = Meter()
    result = _ask(fake, meter)
    assert result.facts[0].text == "a fact"
    assert (meter.calls, meter.repairs) == (2, 1)
    reask = fake.calls[1].messages
    assert reask[:2] == MESSAGES
    assert reask[2] == {"role": "assistant", "content": "not json at all"}
    assert "not valid" in reask[3]["content"]


def test_reask_cost_stays_flat() -> None:
    # Each re-ask carries only the last bad reply, not all earlier ones.
    fake = FakeChatClient([{"facts": "x"}, {"facts": 1}, GOOD])
    _ask(fake, Meter(), repairs=2)
    assert [len(c.messages) for c in fake.calls] == [2, 4, 4]


def test_still_invalid_after_repairs_attaches_raw_output() -> None:
    fake = FakeChatClient(["{}", "{}", '{"facts": [{"text": 1}]}'])
    meter = Meter()
    with pytest.raises(ModelOutputError) as info:
        _ask(fake, meter, repairs=2)
    assert info.value.attempts == 3
    assert info.value.raw == '{"facts": [{"text": 1}]}'
    assert meter.calls == 3  # every attempt's tokens were counted
    assert meter.prompt_tokens > 0


def test_length_is_never_success_retries_with_room() -> None:
    cut = Completion('{"facts": [', "length", 10, 500, StructuredMode.JSON_SCHEMA)
    fake = FakeChatClient([cut, GOOD])
    meter = Meter()
    _ask(fake, meter)
    assert [c.max_tokens for c in fake.calls] == [500, 1000]


def test_length_without_room_raises_output_too_long() -> None:
    cut = Completion('{"facts": [', "length", 10, 500, StructuredMode.JSON_SCHEMA)
    with pytest.raises(OutputTooLong):
        _ask(FakeChatClient([cut]), Meter(), window=700)


def test_missing_usage_is_estimated() -> None:
    fake = FakeChatClient([Completion('{"facts": []}', "stop", None, None, StructuredMode.PROMPT)])
    meter = Meter()
    _ask(fake, meter)
    assert meter.estimated and meter.prompt_tokens > 0 and meter.completion_tokens > 0
    assert meter.mode is StructuredMode.PROMPT


def test_refusal_is_an_output_error() -> None:
    refused = Completion("", "stop", 5, 0, StructuredMode.JSON_SCHEMA, refusal="I can't help")
    with pytest.raises(ModelOutputError, match="refused"):
        _ask(FakeChatClient([refused]), Meter())


def test_request_over_the_context_window_is_refused_before_sending() -> None:
    fake = FakeChatClient([GOOD])
    with pytest.raises(ContextOverflowError):
        _ask(fake, Meter(), window=40)
    assert fake.calls == []


def test_unknown_fact_citation_is_a_validation_error() -> None:
    reply = {
        "summary": "s",
        "implications": [
            {"party": "the city", "text": "i", "facts": ["f1"]},
            {"party": "the city", "text": "i too.", "facts": ["f1"]},
            {"party": "the city", "text": "i again.", "facts": ["f1"]},
        ],
        "analysis": passing_analysis(["f9"]),
    }
    with pytest.raises(Exception, match="unknown fact ids"):
        Synthesis.model_validate(reply, context={"fact_ids": {"f1"}})


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', '```json\n{"a": 1}\n```', 'Sure! Here it is: {"a": 1} Hope it helps.'],
)
def test_parse_json_finds_the_object(text: str) -> None:
    assert parse_json(text) == {"a": 1}
