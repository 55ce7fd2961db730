"""Facts cite numbered sentences; every call of every article begins with one system text."""

from __future__ import annotations

import json
import re

from analyst import Settings, summarize_text
from analyst.prompts import HANDBOOK, Prompts
from analyst.testing import FakeChatClient, passing_analysis
from tests.fakeserver import FakeOpenAIServer

SYNTH = {
    "summary": ["The council approved a new bridge.", "It costs $412 million."],
    "implications": [
        {"party": "the city", "text": "must now raise the money.", "facts": ["f1"]},
        {"party": "the state", "text": "may ask for more oversight.", "facts": ["f1"]},
        {"party": "drivers", "text": "can expect years of works.", "facts": ["f1"]},
    ],
    "analysis": passing_analysis(["f1"]),
}


def _numbered(prompt: str) -> dict[int, str]:
    """The sentences as the prompt numbers them."""
    return {int(n): t.strip() for n, t in re.findall(r"\[(\d+)\] ([^\[\n]*)", prompt)}


def test_a_cited_sentence_is_the_facts_evidence_exactly(bridge: str) -> None:
    probe = FakeChatClient([{"facts": []}])
    summarize_text(bridge, client=probe)  # no fact: only to see the numbered article
    numbered = _numbered(probe.calls[0].messages[-1]["content"])
    vote = next(n for n, t in numbered.items() if "voted 7–2" in t)
    state = next(n for n, t in numbered.items() if "$250 million" in t)
    fake = FakeChatClient(
        [
            {
                "facts": [
                    {"sentence": vote, "text": "The council voted 7–2 to replace the bridge."},
                    {"sentence": state, "text": "The state will cover $250 million."},
                    {"sentence": 9999, "text": "A sentence the article does not have."},
                ]
            },
            SYNTH,
        ]
    )
    report = summarize_text(bridge, client=fake)
    schema = fake.calls[0].schema.schema
    enum = schema["$defs"]["CitingFact"]["properties"]["sentence"]["enum"]
    assert enum == sorted(numbered) and schema["properties"]["facts"]["minItems"] == 5
    assert [f.text for f in report.facts] == [
        "The council voted 7–2 to replace the bridge.",
        "The state will cover $250 million.",
    ]
    for fact, n in zip(report.facts, (vote, state), strict=True):
        assert fact.match == "exact" and fact.evidence == numbered[n]
        assert bridge[fact.start : fact.end] == fact.evidence
    assert any("sentence number the article does not have" in w for w in report.warnings)


def test_a_reply_that_quotes_instead_is_still_grounded(bridge: str) -> None:
    # A server that does not enforce the schema, a model that copies anyway: a quote is
    # evidence too, located as with --evidence quote.
    quoted = {"section": "s1", "evidence": "The state will cover $250 million", "text": "x"}
    fake = FakeChatClient([{"facts": [dict(quoted, text="The state pays $250 million.")]}, SYNTH])
    report = summarize_text(bridge, client=fake)
    assert [f.evidence for f in report.facts] == ["The state will cover $250 million"]


def test_quote_mode_shows_no_numbers_and_asks_for_quotes(bridge: str) -> None:
    fake = FakeChatClient([{"facts": []}])
    summarize_text(bridge, client=fake, settings=Settings(evidence="quote"))
    request = fake.calls[0]
    assert not _numbered(request.messages[-1]["content"])
    assert "evidence" in json.dumps(request.schema.schema)
    assert '"evidence": copy a short passage' in request.messages[0]["content"]


def test_every_call_of_every_article_begins_with_the_same_system_text(
    server: FakeOpenAIServer, settings: Settings, bridge: str
) -> None:
    from dataclasses import replace

    settings = replace(settings, verify=True)
    summarize_text(bridge, settings=settings)
    summarize_text(bridge.replace("Riverton", "Lakeside"), settings=settings)
    systems = {r["messages"][0]["content"] for r in server.chat_requests}
    assert len(systems) == 1 and len(server.chat_requests) >= 8
    (system,) = systems
    for task in HANDBOOK:  # every task is described in it, each request names its own
        assert f'## Task "{task}"' in system
    names = [r["messages"][-1]["content"].rsplit("Task ", 1)[-1][:14] for r in server.chat_requests]
    assert {n.split('"')[1] for n in names} >= {"extract", "summarize", "synthesize", "verify"}
    # Within an article, each call's user message begins with the same article text.
    first = [r["messages"][1]["content"] for r in server.chat_requests[: len(names) // 2]]
    article = first[0].split("</article>")[0]
    assert all(m.startswith(article) for m in first)


def test_the_system_text_is_the_rules_then_every_task_file() -> None:
    prompts = Prompts.load()
    system = prompts.system()
    assert system.startswith(prompts.render("system"))
    assert system.index('## Task "extract"') < system.index('## Task "verify"')
    assert prompts.render("extract") in system and prompts.render("extract_quotes") not in system
    assert prompts.render("extract_quotes") in prompts.system("extract_quotes")
