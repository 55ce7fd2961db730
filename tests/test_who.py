"""Who's who and timeline (``--who``): what a sentence states is kept, what none states is not."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from typer.testing import CliRunner

from analyst import Report, Settings, summarize_text
from analyst.cli import app
from analyst.model import seam
from analyst.output.plain import to_markdown
from analyst.output.terminal import to_rich
from analyst.testing import FakeChatClient, extractive_responder
from analyst.text.dates import resolve
from tests.fakeserver import FakeOpenAIServer

ARTICLE = "\n\n".join(
    [
        "Alibaba Reshuffles Its AI Team",
        "Mar 5, 2026 · 4 min read",
        "Alibaba Group chief executive Eddie Wu approved the resignation of Lin Junyang, the "
        "leader of the Qwen AI team, on Tuesday. Lin joined Alibaba in 2019 and built the Qwen "
        "models from the ground up.",
        "Zhou Hao, a former senior scientist at Google DeepMind, will join Alibaba's AI research "
        "unit. Wu, who assumed leadership of the group in September 2023, said the company would "
        "keep investing in open models.",
        "Cloud chief technology officer Jingren Zhou will oversee the Qwen team for now. Analysts "
        "said the changes show how hard the race for AI talent has become in China.",
    ]
)

_NUMBERED = re.compile(r"\[(\d+)\] ([^\[\n]*)")


def _number(prompt: str, words: str) -> int:
    """The number the prompt gives the sentence that contains ``words``."""
    return next(int(n) for n, text in _NUMBERED.findall(prompt) if words in text)


def _who_reply(prompt: str) -> dict[str, Any]:
    def n(words: str) -> int:
        return _number(prompt, words)

    return {
        "entities": [
            {
                "name": "Eddie Wu",
                "type": "person",
                "aliases": ["Wu", "Mr Wu"],  # "Mr Wu" is not in the article: not kept
                "roles": [
                    {"role": "Alibaba Group chief executive", "sentence": n("approved")},
                    {"role": "leader of the Qwen AI team", "sentence": n("Zhou Hao, a former")},
                ],
            },
            {
                "name": "Zhou Hao",
                "type": "person",
                "aliases": [],
                "roles": [
                    {
                        "role": "former senior scientist at Google DeepMind",
                        "sentence": n("Zhou Hao"),
                    },
                    # What a small model once wrote: no sentence makes him the leader of Qwen.
                    {"role": "the new leader of Qwen AI", "sentence": n("Zhou Hao")},
                ],
            },
            {"name": "Lin Junyang", "type": "person", "aliases": ["Lin"], "roles": []},
            {
                "name": "Alibaba Group",
                "type": "organisation",
                "aliases": ["Alibaba"],
                # A person's title, which stands next to the group's name: not the group's.
                "roles": [{"role": "chief executive", "sentence": n("approved")}],
            },
            {"name": "OpenAI", "type": "organisation", "aliases": [], "roles": []},  # not named
            # In the article, but a description, not a name: left out.
            {"name": "research unit", "type": "organisation", "aliases": [], "roles": []},
        ],
        "relations": [
            _relation("Eddie Wu", "leads", "Alibaba Group", n("Zhou Hao, a former")),
            _relation("Zhou Hao", "joins", "Alibaba", n("Zhou Hao, a former")),
            # Both named in one sentence, but none says he left: dropped.
            _relation("Zhou Hao", "leaves", "Alibaba Group", n("Zhou Hao, a former")),
            _relation("Eddie Wu", "competes with", "OpenAI", n("approved")),  # not an entity
            # Reversed: an organisation does not lead a person.
            _relation("Alibaba Group", "leads", "Eddie Wu", n("approved")),
        ],
        "events": [
            {
                "date": "in September 2023",
                "event": "Wu assumed leadership of the group.",
                "who": ["Eddie Wu"],
                "sentence": n("September 2023"),
            },
            {
                "date": "on Tuesday",
                "event": "Eddie Wu approved the resignation of Lin Junyang.",
                "who": ["Eddie Wu", "Lin"],
                "sentence": n("approved"),
            },
            {
                "date": "in 2018",  # no sentence writes it: dropped
                "event": "Lin joined Alibaba.",
                "who": ["Lin Junyang"],
                "sentence": n("built the Qwen"),
            },
            {
                "date": "in 2019",
                "event": "Lin joined Alibaba.",
                "who": ["Lin Junyang"],
                # One sentence off, as the 1.5B model's numbers often are: the sentence that
                # writes the date and states the event is found, and it is the evidence.
                "sentence": n("Zhou Hao, a former"),
            },
        ],
    }


def _relation(subject: str, relation: str, obj: str, sentence: int) -> dict[str, Any]:
    return {"subject": subject, "relation": relation, "object": obj, "sentence": sentence}


def _roles_again(prompt: str) -> dict[str, Any]:
    """The re-ask's reply: the Qwen leader's role moved to the one its sentence gives it to,
    and the invented one given again (and dropped again)."""
    assert '- Eddie Wu: "leader of the Qwen AI team"' in prompt
    assert '- Zhou Hao: "the new leader of Qwen AI"' in prompt
    approved = _number(prompt, "approved")
    return {
        "roles": [
            {"name": "Lin Junyang", "role": "leader of the Qwen AI team", "sentence": approved},
            {"name": "Zhou Hao", "role": "the new leader of Qwen AI", "sentence": approved},
        ]
    }


def _client(reask: bool = True) -> FakeChatClient:
    def respond(messages: Sequence[seam.Message], schema: seam.OutputSchema) -> Any:
        if schema.name == "who":
            return _who_reply(messages[-1]["content"])
        if schema.name == "who_roles":
            return _roles_again(messages[-1]["content"])
        if schema.name == "who_more":
            names = schema.schema["$defs"]["NameKind"]["properties"]["name"]["enum"]
            return {"names": [{"name": n, "type": "other"} for n in names]}
        return extractive_responder(messages, schema)

    return FakeChatClient(responder=respond)


def _report(client: FakeChatClient | None = None, **settings: Any) -> Report:
    configured = Settings(model="m", base_url="x", **{"who": True, **settings})
    return summarize_text(ARTICLE, client=client or _client(), settings=configured)


def test_roles_are_kept_only_where_their_sentence_states_them() -> None:
    report = _report()
    by_name = {e.name: e for e in report.entities}
    # OpenAI is never named
    assert list(by_name) == ["Eddie Wu", "Zhou Hao", "Lin Junyang", "Alibaba Group"]
    wu, zhou, lin = by_name["Eddie Wu"], by_name["Zhou Hao"], by_name["Lin Junyang"]
    assert wu.aliases == ["Wu"] and wu.mentions == ARTICLE.count("Eddie Wu") + ARTICLE.count("Wu")
    assert [r.text for r in wu.roles] == ["Alibaba Group chief executive"]
    assert [r.text for r in zhou.roles] == ["former senior scientist at Google DeepMind"]
    # Wu's second role was the one the sentence gives Lin: dropped, re-asked, given to Lin.
    assert lin.aliases == ["Lin"] and [r.text for r in lin.roles] == ["leader of the Qwen AI team"]
    text = ARTICLE
    for entity in report.entities:
        for role in entity.roles:
            assert text[role.start : role.end] == role.evidence
    warning = next(w for w in report.warnings if w.startswith("who's who"))
    assert not by_name["Alibaba Group"].roles
    assert "2 roles their sentence does not state" in warning
    assert "(1 more found by a re-ask)" in warning
    assert "1 entities the article does not name" in warning
    assert "1 entities that are descriptions, not names" in warning


def test_without_repairs_dropped_roles_are_not_asked_again() -> None:
    client = _client()
    report = _report(client, repairs=0)
    assert "who_roles" not in [c.schema.name for c in client.calls]
    assert not next(e for e in report.entities if e.name == "Lin Junyang").roles
    assert any("3 roles their sentence does not state" in w for w in report.warnings)


def test_relations_are_kept_where_a_sentence_names_both_and_states_it() -> None:
    report = _report()
    ids = {e.name: e.id for e in report.entities}
    kept = [(r.subject, r.relation, r.object) for r in report.relations]
    assert kept == [
        (ids["Eddie Wu"], "leads", ids["Alibaba Group"]),
        (ids["Zhou Hao"], "joins", ids["Alibaba Group"]),
    ]
    leads, joins = report.relations
    # The model cited the wrong sentence for "leads": the one that states it is the evidence.
    assert "chief executive Eddie Wu" in leads.evidence
    assert "will join Alibaba" in joins.evidence
    for relation in report.relations:
        assert ARTICLE[relation.start : relation.end] == relation.evidence
    assert any("3 relations no sentence states" in w for w in report.warnings)


def test_facts_and_implications_name_their_entities_by_id() -> None:
    report = _report()
    ids = {e.name: e.id for e in report.entities}
    for fact in report.facts:
        named = [
            i
            for name, i in ids.items()
            if name in fact.text or (name == "Lin Junyang" and "Lin " in fact.text)
        ]
        assert set(named) <= set(fact.entities)
    wu = next(f for f in report.facts if "Eddie Wu" in f.text)
    assert ids["Eddie Wu"] in wu.entities and ids["Lin Junyang"] in wu.entities
    assert all(not f.entities for f in _report(who=False).facts)


def test_the_timeline_is_ordered_and_says_how_each_date_was_found() -> None:
    report = _report()
    timeline = [(e.date, e.date_source, e.date_text) for e in report.timeline]
    assert timeline == [
        ("2019", "stated", "in 2019"),
        ("2023-09", "stated", "in September 2023"),
        ("2026-03-03", "relative", "on Tuesday"),  # the Tuesday before the article's Mar 5, 2026
        ("2026-03-05", "stated", "Mar 5, 2026"),  # the article's own date, from its byline line
    ]
    assert [e.id for e in report.timeline] == ["t1", "t2", "t3", "t4"]
    assert report.timeline[3].evidence == "Mar 5, 2026 · 4 min read"
    tuesday = report.timeline[2]
    ids = {e.name: e.id for e in report.entities}
    assert tuesday.entities == [ids["Eddie Wu"], ids["Lin Junyang"]]
    assert ARTICLE[tuesday.start : tuesday.end] == tuesday.evidence
    assert "Lin joined Alibaba in 2019" in report.timeline[0].evidence
    assert any("1 events whose date or words" in w for w in report.warnings)


def test_dates_resolve_only_what_can_be_derived() -> None:
    from datetime import datetime

    base = datetime(2026, 3, 5)
    assert resolve("last month", base=base) is not None
    assert resolve("last month", base=None) is None  # relative, and nothing to resolve it by
    assert resolve("the 1990s", base=base) is None  # a year that does not parse as itself
    assert resolve("next spring", base=base) is None
    stated = resolve("March 5, 2026", base=None)
    assert stated is not None and (stated.iso, stated.source) == ("2026-03-05", "stated")


def test_who_is_shown_in_markdown_and_the_terminal_and_round_trips() -> None:
    report = _report()
    markdown = to_markdown(report)
    assert "## Who's who" in markdown and "## Timeline" in markdown
    assert "- **Eddie Wu** (person, also Wu)" in markdown
    assert "  - *leads* **Alibaba Group**" in markdown
    assert '*("on Tuesday", resolved)*' in markdown
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(to_rich(report))
    screen = console.export_text()
    assert "Who's who" in screen and "Timeline" in screen and "2023-09" in screen
    assert "leads Alibaba Group" in screen
    assert Report.model_validate_json(report.model_dump_json()) == report


def test_without_who_there_is_no_call_and_the_system_text_has_no_such_task() -> None:
    client = _client()
    report = _report(client, who=False)
    assert not report.entities and not report.timeline
    assert all(call.schema.name != "who" for call in client.calls)
    assert all('Task "who"' not in call.messages[0]["content"] for call in client.calls)
    with_who = _client()
    _report(with_who)
    assert [c.schema.name for c in with_who.calls].count("who") == 1
    # Every call of the article still shares one system text.
    assert len({c.messages[0]["content"] for c in with_who.calls}) == 1


def test_a_version_1_report_still_loads() -> None:
    data = json.loads(_report().model_dump_json())
    data["schema_version"] = "1"
    del data["entities"], data["timeline"]
    old = Report.model_validate(data)
    assert old.entities == [] and old.timeline == []
    assert _report().schema_version == "5"


def test_the_cli_takes_who(server: FakeOpenAIServer, tmp_path: Any) -> None:
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE)
    args = ["summarize", str(path), "--who", "-f", "json", "--base-url", server.base_url]
    result = CliRunner().invoke(app, [*args, "--model", "m"])
    assert result.exit_code == 0, result.output
    assert any('Task "who"' in r["messages"][0]["content"] for r in server.chat_requests)
    assert "entities" in json.loads(result.stdout)


def test_eval_figures_count_what_the_passages_do_not_give() -> None:
    from analyst.evaluation.proof import proof_figures, recall

    report = _report()
    clean = proof_figures(report, ARTICLE)
    assert (clean.entities, clean.roles, clean.roles_unsupported) == (4, 3, 0)
    assert (clean.events, clean.events_underived) == (4, 0)
    zhou = report.entities[1]
    wrong_role = zhou.roles[0].model_copy(update={"text": "the new leader of Qwen AI"})
    wrong_date = report.timeline[0].model_copy(update={"date": "2018"})
    tampered = report.model_copy(
        update={
            "entities": [report.entities[0], zhou.model_copy(update={"roles": [wrong_role]})],
            "timeline": [wrong_date, *report.timeline[1:]],
        }
    )
    figures = proof_figures(tampered, ARTICLE)
    assert (figures.roles_unsupported, figures.events_underived) == (1, 1)
    assert recall(report, ["Eddie Wu", "Lin Junyang", "Jingren Zhou", "Alibaba Group"]) == 0.75


def test_recall_is_counted_by_an_independent_reader() -> None:
    from analyst.evaluation.proof import named_often, proof_figures, recall

    names = named_often(ARTICLE)  # spaCy's small English pipeline (the eval extra)
    assert names is not None and "Eddie Wu" in names  # "Wu" alone counts as Eddie Wu
    assert "Wu" not in names
    report = _report()
    figures = proof_figures(report, ARTICLE, who=True)
    found = recall(report, names)
    assert found is not None
    assert (figures.named_often, figures.named_found) == (len(names), round(found * len(names)))
    assert proof_figures(report, ARTICLE).named_often == 0  # only asked for with --who


def test_recall_matches_names_written_apart_and_initials() -> None:
    from analyst.evaluation.proof import recall

    report = _report()
    ids = {e.name: e for e in report.entities}
    group = ids["Alibaba Group"]
    assert recall(report, ["AlibabaGroup", "AG", "Eddie  Wu"]) == 1.0
    assert recall(report, ["Jingren Zhou", "Qwen"]) == 0.0
    assert group.aliases == ["Alibaba"]


def test_a_who_reply_that_stays_invalid_costs_the_report_nothing_else() -> None:
    def respond(messages: Sequence[seam.Message], schema: seam.OutputSchema) -> Any:
        if schema.name == "who":
            return {"entities": "not a list"}  # invalid every time, re-asks included
        return extractive_responder(messages, schema)

    report = _report(FakeChatClient(responder=respond))
    assert report.facts and report.summary and not report.entities and not report.timeline
    assert any(w.startswith("no who's who or timeline: ") for w in report.warnings)


def test_names_the_list_left_out_are_sorted_by_one_more_call() -> None:
    asked: list[list[str]] = []
    base = _client()._responder
    assert base is not None
    fallback: Any = base

    def respond(messages: Sequence[seam.Message], schema: seam.OutputSchema) -> Any:
        if schema.name == "who_more":
            names = schema.schema["$defs"]["NameKind"]["properties"]["name"]["enum"]
            asked.append(names)
            kinds = {"Qwen": "organisation", "AI": "other"}
            return {"names": [{"name": n, "type": kinds.get(n, "other")} for n in names]}
        return fallback(messages, schema)

    report = _report(FakeChatClient(responder=respond))
    assert asked == [["AI", "Qwen"]]  # "Alibaba" is an alias of an entity already
    qwen = report.entities[-1]
    assert (qwen.name, qwen.type, qwen.roles, qwen.mentions) == ("Qwen", "organisation", [], 3)
    assert "who's who: 1 entities added from names the article repeats" in report.warnings


def test_titles_written_next_to_a_name_are_found() -> None:
    from types import SimpleNamespace

    from analyst.stages.who.checks import titles_of
    from analyst.text.sentences import Sentence

    text = (
        "Alibaba Group chief executive Eddie Wu approved it. Efforts under CEO Eddie Wu went on. "
        "Robert Sinche, head of currency strategy at Bank of America, agreed. Eddie Wu left."
    )
    spans, start = [], 0
    for n, part in enumerate(text.split(". "), start=1):
        begin = text.index(part, start)
        spans.append(Sentence(n, "s1", begin, begin + len(part)))
        start = begin + len(part)
    ctx: Any = SimpleNamespace(article=SimpleNamespace(text=text), sentences=spans)
    assert titles_of(ctx, "Eddie Wu") == [("Alibaba Group chief executive", 1), ("CEO", 2)]
    assert titles_of(ctx, "Robert Sinche") == [("head of currency strategy at Bank of America", 3)]
