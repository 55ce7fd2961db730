"""Facts cite numbered sentences; every call of every article begins with one system text."""

from __future__ import annotations

import json
import re

import pytest

from analyst import Settings, summarize_text
from analyst.prompts import Prompts
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

# The tasks a report's system text describes, in order (``pipeline.system_tasks``), on a server
# that is not the embedded model: written facts and summary.
HANDBOOK = ("extract", "fact_support", "summarize", "synthesize", "synthesis_gate", "verify")


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
    system = prompts.system(HANDBOOK)
    assert system.startswith(prompts.render("system"))
    assert system.index('## Task "extract"') < system.index('## Task "verify"')
    assert prompts.render("extract") in system and prompts.render("extract_quotes") not in system
    assert prompts.render("extract_quotes") in prompts.system(("extract_quotes",))


def test_a_cited_fact_is_its_sentence_and_costs_only_its_number(bridge: str) -> None:
    probe = FakeChatClient([{"facts": []}])
    summarize_text(bridge, client=probe)
    numbered = _numbered(probe.calls[0].messages[-1]["content"])
    vote = next(n for n, t in numbered.items() if "voted 7–2" in t)
    state = next(n for n, t in numbered.items() if "$250 million" in t)
    fake = FakeChatClient([{"sentences": [state, vote, state, 9999]}, SYNTH])
    report = summarize_text(bridge, client=fake, settings=Settings(fact_text="sentence"))
    request = fake.calls[0]
    numbers = request.schema.schema["properties"]["sentences"]
    assert numbers["items"]["enum"] == sorted(numbered) and numbers["minItems"] == 5
    assert '## Task "extract": the sentences that state' in request.messages[0]["content"]
    assert "at most" in request.messages[-1]["content"].rsplit("Task", 1)[-1]
    # Each sentence once, in the article's order, its text the sentence itself.
    assert [f.evidence for f in report.facts] == [numbered[vote], numbered[state]]
    vote_fact, state_fact = report.facts
    assert vote_fact.cited and vote_fact.text == " ".join(vote_fact.evidence.split())
    # "…, according to the city's finance office." is said beside the fact, not in it.
    assert state_fact.cited
    assert state_fact.text == "The state will cover $250 million through its infrastructure fund."
    assert state_fact.attributed_to == "the city's finance office"
    assert all(bridge[f.start : f.end] == f.evidence for f in report.facts)
    assert any("1 sentence number(s) the article does not have" in w for w in report.warnings)


def test_a_cited_facts_trailing_attribution_moves_beside_it() -> None:
    text = (
        "Harbour repairs approved\n\n"
        "The harbour board approved the repair plan on Monday after a long debate. "
        "The repairs will cost £600m over ten years, the board's chair Alice Moreau said. "
        '"We have waited long enough for this work to begin," said Paul Grant.'
    )
    probe = FakeChatClient([{"facts": []}])
    summarize_text(text, client=probe)
    numbered = _numbered(probe.calls[0].messages[-1]["content"])
    cost = next(n for n, t in numbered.items() if "£600m" in t)
    quote = next(n for n, t in numbered.items() if "waited" in t)
    from analyst.testing import extractive_responder

    fake = FakeChatClient([{"sentences": [cost, quote]}], responder=extractive_responder)
    report = summarize_text(text, client=fake, settings=Settings(fact_text="sentence"))
    cost_fact, quote_fact = report.facts
    assert cost_fact.text == "The repairs will cost £600m over ten years."
    assert "Alice Moreau" in (cost_fact.attributed_to or "")
    assert cost_fact.standing == "attributed"
    assert cost_fact.evidence.endswith("Alice Moreau said.")  # the proof keeps every word
    # A quotation keeps its speaker in its words.
    assert quote_fact.text == quote_fact.evidence


def test_a_summary_of_sentences_is_the_articles_own_in_its_order(bridge: str) -> None:
    probe = FakeChatClient([{"facts": []}])
    summarize_text(bridge, client=probe)
    numbered = _numbered(probe.calls[0].messages[-1]["content"])
    vote = next(n for n, t in numbered.items() if "voted 7–2" in t)
    state = next(n for n, t in numbered.items() if "$250 million" in t)
    first = min(numbered)
    facts = {"facts": [{"sentence": vote, "text": "The council voted 7–2 to replace the bridge."}]}
    fake = FakeChatClient([facts, {"sentences": [state, vote, first, 9999]}])
    settings = Settings(summary="sentences", analysis="composed")
    report = summarize_text(bridge, client=fake, settings=settings)
    summary_call = fake.calls[1]
    numbers = summary_call.schema.schema["properties"]["sentences"]
    wanted = numbers["minItems"]
    assert numbers["maxItems"] == wanted and summary_call.max_tokens <= 16 + 8 * wanted
    assert "<facts>" not in summary_call.messages[-1]["content"]  # the article and its request
    picked = sorted({vote, state, first})
    assert report.summary == " ".join(" ".join(numbered[n].split()) for n in picked)
    assert [bridge[s.start : s.end] for s in report.summary_spans] == [numbered[n] for n in picked]
    assert len(fake.calls) == 2  # no re-ask of a summary made of the article's sentences


def test_on_the_embedded_model_facts_and_summary_are_cited_by_default(bridge: str) -> None:
    from analyst.testing import extractive_responder

    fake = FakeChatClient(responder=extractive_responder, backend="local")
    report = summarize_text(bridge, client=fake)
    assert [c.schema.schema["required"] for c in fake.calls] == [["sentences"], ["sentences"]]
    assert report.facts and all(f.cited for f in report.facts)
    assert report.summary_spans and report.analysis.composed
    # Written, on request, as on any other server.
    fake = FakeChatClient(responder=extractive_responder, backend="local")
    written = Settings(fact_text="written", summary="written")
    report = summarize_text(bridge, client=fake, settings=written)
    assert "sentences" not in fake.calls[0].schema.schema["properties"]
    assert not report.summary_spans and not any(f.cited for f in report.facts)


def test_citing_modes_need_numbered_sentences() -> None:
    import pytest

    from analyst.errors import ConfigError

    with pytest.raises(ConfigError, match="not with evidence"):
        Settings(fact_text="sentence", evidence="quote")
    with pytest.raises(ConfigError, match="summary must be"):
        Settings(summary="chosen")
    assert Settings(evidence="quote").fact_text == "auto"  # auto falls back to written there


def test_a_fact_that_is_its_sentence_reads_once_in_every_view(bridge: str) -> None:
    from analyst.output.html import to_html
    from analyst.output.plain import to_markdown
    from analyst.output.terminal import to_rich
    from analyst.testing import extractive_responder

    fake = FakeChatClient(responder=extractive_responder, backend="local")
    report = summarize_text(bridge, client=fake)
    whole = next(f for f in report.facts if f.text == " ".join(f.evidence.split()))
    cut = next(f for f in report.facts if f.text != " ".join(f.evidence.split()))
    markdown = to_markdown(report).split("## Key facts")[1].split("## Notes")[0]
    assert markdown.count(whole.text) == 1 and f"> {cut.evidence}" in markdown
    import io

    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(to_rich(report))
    text = " ".join(out.getvalue().split("Key facts")[1].split())
    assert text.count(whole.text[:60]) == 1
    page = to_html(report)
    assert page.count(f"<blockquote>{whole.evidence}") == 0


def test_a_picked_sentence_that_opens_on_he_comes_with_the_one_naming_him(bridge: str) -> None:
    probe = FakeChatClient([{"facts": []}])
    summarize_text(bridge, client=probe)
    numbered = _numbered(probe.calls[0].messages[-1]["content"])
    he = next(n for n, t in numbered.items() if t.startswith("He said the city's credit"))
    first = min(numbered)
    facts = {"facts": [{"sentence": first, "text": "The council voted to replace the bridge."}]}
    fake = FakeChatClient([facts, {"sentences": [he, first]}])
    settings = Settings(summary="sentences", analysis="composed")
    report = summarize_text(bridge, client=fake, settings=settings)
    assert report.summary.startswith(" ".join(numbered[first].split()))
    # "He" alone would be nobody: the sentence before it, which names Miguel Arroyo, leads it.
    assert "Miguel Arroyo told the council" in report.summary
    assert report.summary.index("Miguel Arroyo") < report.summary.index("He said")
    assert len(report.summary_spans) == 3


def test_a_leaning_sentence_that_cannot_have_its_context_is_left_out(
    bridge: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analyst.stages.synthesize import write as synthesize

    probe = FakeChatClient([{"facts": []}])
    summarize_text(bridge, client=probe)
    numbered = _numbered(probe.calls[0].messages[-1]["content"])
    he = next(n for n, t in numbered.items() if t.startswith("He said the city's credit"))
    first, second = sorted(numbered)[:2]
    facts = {"facts": [{"sentence": first, "text": "The council voted to replace the bridge."}]}
    monkeypatch.setattr(synthesize, "FLOOR", 10)  # no room for "He"'s context
    monkeypatch.setattr(synthesize, "SHARE", 0.0)
    fake = FakeChatClient([facts, {"sentences": [first, second, he]}])
    settings = Settings(summary="sentences", analysis="composed")
    report = summarize_text(bridge, client=fake, settings=settings)
    assert "He said" not in report.summary and "Arroyo" not in report.summary
    assert len(report.summary_spans) == 2


def test_on_the_page_each_summary_sentence_leads_to_its_place_in_the_article(
    bridge: str,
) -> None:
    from analyst.output.html import to_html
    from analyst.testing import extractive_responder

    fake = FakeChatClient(responder=extractive_responder, backend="local")
    settings = Settings(include_text=True)
    report = summarize_text(bridge, client=fake, settings=settings)
    page = to_html(report)
    assert report.summary_spans
    for n, span in enumerate(report.summary_spans, start=1):
        assert f'href="#p-sum{n}"' in page
        # The anchor stands right before the sentence's first words in the article.
        after = page.split(f'id="p-sum{n}"></span>', 1)[1]
        first_words = " ".join(bridge[span.start : span.end].split()[:3])
        assert first_words in " ".join(after[:400].split())
    # Without the article on the page, the summary is the plain paragraph.
    bare = report.model_copy(update={"source": report.source.model_copy(update={"text": None})})
    assert 'href="#p-sum1"' not in to_html(bare)
