"""The digest: facts merged across articles with every source, contradictions flagged, prose
citing digest facts, and its views."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import analyst
from analyst import Report, Settings, summarize_text
from analyst.cli import app
from analyst.digest import load_reports
from analyst.digest.briefing import Digest
from analyst.digest.match import key, weigh
from analyst.digest.merge import Given, merge
from analyst.digest.people import same_entity
from analyst.errors import InputError
from analyst.model.seam import Message, OutputSchema
from analyst.output import digest as views
from analyst.testing import FakeChatClient, extractive_responder

ORIGINAL = "\n\n".join(
    [
        "Harbor Bridge vote",
        "The Riverton city council voted 7-2 on Tuesday to replace the Harbor Bridge.",
        "The new span will cost $412 million and open in 2030.",
        "Council member Dana Okafor, the finance chair, said the vote closes a long argument.",
        "The state will cover $250 million through its infrastructure fund.",
    ]
)
# Another outlet: the same story, reworded, with the vote count and Okafor's role different.
OTHER = "\n\n".join(
    [
        "Riverton to replace Harbor Bridge",
        "Riverton's city council voted 6-3 on Tuesday to replace the Harbor Bridge.",
        "The new span will cost $412m and open in 2030.",
        "Council member Dana Okafor, the deputy finance chair, said the vote closes a long "
        "argument.",
        "Officials expect tolls to stay at their current level.",
    ]
)
UNRELATED = "\n\n".join(
    [
        "Grid battery opens",
        "A 1,200 MWh battery opened in Castlebay on Monday, the operator Voltline said.",
        "It can power 80,000 homes for four hours.",
    ]
)


def _every_sentence(messages: Sequence[Message], schema: OutputSchema) -> Any:
    """The extractive fake, citing every sentence of the article as a fact."""
    if schema.name != "extraction":
        return extractive_responder(messages, schema)
    prompt = messages[-1]["content"]
    cited = re.findall(r"\[(\d+)\] ([^\[\n]*)", prompt)
    return {"facts": [{"sentence": int(n), "text": t.strip()} for n, t in cited]}


def _report(text: str) -> Report:
    settings = Settings(model="m", base_url="x", include_text=True, verify=False)
    client = FakeChatClient(responder=_every_sentence)
    return summarize_text(text, client=client, settings=settings)


@pytest.fixture(scope="module")
def reports() -> list[Report]:
    return [_report(t) for t in (ORIGINAL, OTHER, UNRELATED)]


def test_the_rules_tell_same_from_contradicting_from_apart() -> None:
    a = key("a1/f1", "a1", "The council voted 7-2 on Tuesday to approve the $412 million bridge.")
    b = key("a2/f1", "a2", "On Tuesday the council voted 7-2 to approve a $412m bridge.")
    c = key("a3/f1", "a3", "The council voted 6-3 on Tuesday to approve the $412 million bridge.")
    d = key("a4/f1", "a4", "The council rejected the $412 million bridge on Tuesday.")
    e = key("a5/f1", "a5", "The council voted 7-2 on Tuesday to approve the bridge, in May 2024.")
    f = key("a6/f1", "a6", "The council voted 7-2 on Tuesday to approve the bridge, in June 2024.")
    g = key("a7/f1", "a7", "Eddie Wu, chief executive of Alibaba, took charge of its AI push.")
    h = key("a8/f1", "a8", "Eddie Wu, chairman of Alibaba, took charge of its AI push.")
    other = key("a9/f1", "a9", "Voltline said the Castlebay battery was approved on Tuesday.")
    assert weigh(a, b).outcome == "same"  # "$412m" is "$412 million"
    assert (weigh(a, c).outcome, weigh(a, c).kind) == ("contradicts", "number")
    assert (weigh(a, d).outcome, weigh(a, d).kind) == ("contradicts", "outcome")
    assert (weigh(e, f).outcome, weigh(e, f).kind) == ("contradicts", "date")
    assert (weigh(g, h).outcome, weigh(g, h).kind) == ("contradicts", "role")
    assert weigh(a, other).outcome == "apart"


def test_names_unify_across_articles_only_when_they_name_one_entity() -> None:
    assert same_entity("Time Warner", "TimeWarner", "organisation")
    assert same_entity("Alibaba", "Alibaba Group", "organisation")
    assert same_entity("Wu", "Eddie Wu", "person")
    assert not same_entity("US", "World Business Report", "organisation")
    assert not same_entity("Eddie", "Eddie Wu", "person")


def test_same_facts_merge_with_every_source_and_contradictions_show_both(
    reports: list[Report],
) -> None:
    digest = merge([Given(r) for r in reports]).digest
    texts = {a.id: r.source.text or "" for a, r in zip(digest.articles, reports, strict=True)}
    shared = [f for f in digest.facts if f.articles == 2]
    assert any("2030" in f.text for f in shared)  # "$412 million" and "$412m": one fact
    for fact in digest.facts:  # every source quote is where it says, in its article
        for s in fact.sources:
            assert texts[s.article][s.start : s.end] == s.evidence
    kinds = {c.kind for c in digest.contradictions}
    assert kinds == {"number", "role"}
    vote = next(c for c in digest.contradictions if c.kind == "number")
    values = sorted(v.value for v in vote.versions)
    assert values == ["2, 7", "3, 6"]
    # Two sides, never averaged: each version's fact keeps its own article's quote.
    quotes = [digest.fact(v.facts[0]).sources[0].evidence for v in vote.versions]
    assert any("7-2" in q for q in quotes) and any("6-3" in q for q in quotes)
    single = [f for f in digest.facts if f.single_source]
    assert any("Castlebay" in f.text for f in single)
    assert len({f.story for f in digest.facts}) == 2  # the bridge, and the battery
    outcomes = {d.outcome for d in digest.decisions}
    assert {"same", "contradicts"} <= outcomes


def test_the_prose_cites_digest_facts_and_unknown_ids_or_invented_numbers_go(
    reports: list[Report],
) -> None:
    reply = {
        "summary": [
            "Two outlets report the Harbor Bridge vote.",
            "They disagree on the vote count, put at 9-0 by no one.",
        ],
        "implications": [
            {"text": "Riverton must now fund the bridge.", "facts": ["d1", "d99"]},
            {"text": "Drivers can expect the new span by 2030.", "facts": ["d1"]},
            {
                "text": "The new span will cost $412 million and open in 2030.",
                "facts": ["d2"],
            },
        ],
        "analysis": {"text": "The vote count is disputed between the outlets.", "facts": ["d1"]},
    }
    fake = FakeChatClient([reply])
    digest = analyst.digest(reports, client=fake, settings=Settings(model="m", base_url="x"))
    assert len(fake.calls) == 1 and fake.calls[0].schema.name == "digest_writing"
    prompt = fake.calls[0].messages[-1]["content"]
    assert "d1 (2 articles)" in prompt and "Where they disagree" in prompt
    assert "9-0" not in digest.summary and "Harbor Bridge vote" in digest.summary
    assert digest.implications[0].facts == ["d1"]
    assert any("unknown digest facts" in w for w in digest.warnings)
    assert any("no source gives" in w for w in digest.warnings)
    assert any("1 of 4 implication and analysis sentences restate" in w for w in digest.warnings)
    assert digest.usage is not None and digest.usage.calls == 1
    Digest.model_validate_json(digest.model_dump_json())  # citations resolve


def test_a_digest_too_long_for_one_call_is_reduced_by_levels_and_ends(
    reports: list[Report],
) -> None:
    many = [
        _report(ORIGINAL.replace("7-2", f"{n}-1").replace("Harbor", f"Harbor{n}"))
        for n in range(12)
    ]
    fake = FakeChatClient(responder=extractive_responder)
    settings = Settings(model="m", base_url="x", context_window=1900)
    digest = analyst.digest(many, client=fake, settings=settings)
    names = [c.schema.name for c in fake.calls]
    assert names.count("digest_notes") >= 2 and names[-1] == "digest_writing"
    assert any("reduced in" in w for w in digest.warnings)
    assert digest.summary and all(
        i in {f.id for f in digest.facts} for p in digest.implications for i in p.facts
    )


def test_pairs_between_go_to_the_model_once_and_are_recorded(reports: list[Report]) -> None:
    near = _report(
        "Bridge\n\nDana Okafor, the finance chair, said the vote had settled an argument of "
        "many years."
    )
    given = load_reports([reports[0], near])
    merged = merge(given)
    assert merged.between, "the two wordings are close but not alike: left to the model"
    pair = merged.between[0]
    judged = merge(given, {(pair.a.id, pair.b.id): "same"}).digest
    decision = next(d for d in judged.decisions if (d.a, d.b) == (pair.a.id, pair.b.id))
    assert (decision.outcome, decision.how) == ("same", "model")
    fake = FakeChatClient(responder=extractive_responder)  # judges every pair apart
    written = analyst.digest([reports[0], near], client=fake, settings=Settings(model="m"))
    assert [c.schema.name for c in fake.calls] == ["digest_judgements", "digest_writing"]
    assert "Dana Okafor" in fake.calls[0].messages[-1]["content"]
    assert len(written.facts) == len(merged.digest.facts)  # judged apart: not merged


def test_the_cli_digests_a_folder_of_reports_in_every_view(
    reports: list[Report], tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for n, r in enumerate(reports):
        (folder / f"r{n}.json").write_text(r.model_dump_json(), "utf-8")
    runner = CliRunner()
    for name in ("b.json", "b.md", "b.html"):
        done = runner.invoke(
            app, ["digest", str(folder), "--facts-only", "-o", str(tmp_path / name)]
        )
        assert done.exit_code == 0, done.output
    loaded = Digest.model_validate_json((tmp_path / "b.json").read_text("utf-8"))
    assert len(loaded.articles) == 3 and loaded.contradictions
    markdown = (tmp_path / "b.md").read_text("utf-8")
    assert "## Where sources disagree" in markdown and "reported by 2 of 3" in markdown
    schema = runner.invoke(app, ["schema", "--digest"])
    assert json.loads(schema.output)["title"] == "Digest"
    # A stray JSON file beside the reports (a package.json) is left out and said; it failed
    # the whole digest before. Named on its own, it is still an input error.
    (folder / "package.json").write_text('{"not": "a report"}', "utf-8")
    stray = runner.invoke(app, ["digest", str(folder), "--facts-only", "-f", "md"])
    assert stray.exit_code == 0, stray.output
    assert "package.json is not an analyst report" in stray.output and "left out" in stray.output
    bad = runner.invoke(app, ["digest", str(folder / "package.json"), "--facts-only"])
    assert bad.exit_code == InputError.exit_code and "is not an analyst report" in bad.output
    missing = runner.invoke(app, ["digest", str(tmp_path / "nope")])
    assert missing.exit_code == InputError.exit_code


def test_a_failed_digest_of_a_folder_leaves_no_reports_folder_behind(tmp_path: Path) -> None:
    empty = tmp_path / "articles"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "analyst", "digest", str(empty), "--facts-only"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == InputError.exit_code and "Traceback" not in done.stderr
    assert not (tmp_path / "articles.reports").exists()


def test_the_page_shows_hostile_text_as_text(page: Any, tmp_path: Path) -> None:
    hostile = ORIGINAL.replace(
        "said the vote",
        "said <script>window.pwned = 1</script> <img src=x onerror=alert(1)> the vote",
    )
    reports = [_report(hostile), _report(OTHER)]
    html = views.to_html(merge([Given(r) for r in reports]).digest)
    path = tmp_path / "digest.html"
    path.write_text(html, "utf-8")
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(path.as_uri())
    assert page.evaluate("window.pwned") is None and not dialogs
    assert "<script>window.pwned" in page.inner_text("body")
    sides = page.locator(".contradiction").first.locator(".version")
    assert sides.count() == 2
    boxes = [sides.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]  # side by side


def test_what_is_new_is_what_no_earlier_article_states(reports: list[Report]) -> None:
    def dated(report: Report, day: str) -> Report:
        metadata = report.metadata.model_copy(update={"date": day})
        return report.model_copy(update={"metadata": metadata})

    earlier, later = dated(reports[0], "2026-11-12"), dated(reports[1], "2026-11-13")
    digest = merge([Given(earlier), Given(later)]).digest
    latest, new = digest.new_facts()
    assert latest == "2026-11-13" and new
    assert all(f.sources[0].article == "a2" and f.articles == 1 for f in new)
    shared = next(f for f in digest.facts if f.articles == 2)
    assert shared.first_reported == "2026-11-12" and shared not in new
    assert "## New on 2026-11-13" in views.to_markdown(digest)
    assert merge([Given(reports[0])]).digest.new_facts() == (None, [])  # one date: nothing new


def test_figures_and_dates_that_differ_between_outlets_are_flagged() -> None:
    # The Courier says the state pays $260 million (the Ledger: $250 million), the Sable Valley
    # News that construction starts in May 2027 (the others: April): neither is a fact the
    # model chose, so only the notes and the text find them.
    from analyst.digest import digest
    from analyst.output.digest import to_markdown
    from analyst.testing import FakeChatClient, extractive_responder

    folder = Path(__file__).resolve().parent.parent / "examples" / "digest" / "articles"
    reports = []
    for name in ("riverton-ledger", "riverton-courier", "sable-valley-news"):
        fake = FakeChatClient(responder=extractive_responder, backend="local")
        text = (folder / f"{name}.txt").read_text("utf-8")
        reports.append(analyst.summarize_text(text, client=fake))
    d = digest(reports, client=FakeChatClient(responder=extractive_responder, backend="local"))
    amounts = [x for x in d.differences if x.kind == "amount"]
    assert [[s.value for s in x.sides] for x in amounts] == [["$250 million", "$260 million"]]
    dates = {tuple(sorted(s.value for s in x.sides)) for x in d.differences if x.kind == "date"}
    assert dates == {("2027-04", "2027-05")}
    # What two outlets compute alike is one note with both sources.
    multiple = next(n for n in d.notes if n.kind == "multiple")
    assert multiple.articles == 2 and "2.3 times" in multiple.text
    assert "## Figures and dates that differ" in to_markdown(d)
    # Without the articles' text, the quotes and the notes' own lines still give the amounts.
    assert all(r.source.text is None for r in reports)


def test_look_alike_facts_propose_pairs_linear_in_their_number() -> None:
    # A beat's stock phrases put 400 facts in one LSH bucket: every pair of it was proposed
    # (80,000), 2,000 reports ran out of memory. Now each fact proposes a bounded number.
    from analyst.digest import match

    towns = [f"Town{n}" for n in range(400)]
    keys = [
        match.key(f"a{n}/f1", f"a{n}", f"The council of {t} voted on Tuesday to approve the "
                  f"budget of ${100 + n} million for road repairs and a new library.")
        for n, t in enumerate(towns)
    ]  # fmt: skip
    pairs = match.candidates(keys)
    assert pairs and len(pairs) <= (match.PAIRS_PER_FACT + match.STAR + 1) * len(keys)


def test_many_reports_naming_the_same_people_are_one_entity_each() -> None:
    from analyst.digest.merge import Given, merge
    from analyst.schema import Entity

    examples = Path(__file__).resolve().parent.parent / "examples"
    base = _report((examples / "harbor-bridge.txt").read_text("utf-8"))
    people = ["Dana Okafor", "Miguel Arroyo", "Okafor"]
    reports = [
        base.model_copy(
            update={
                "source": base.source.model_copy(update={"sha256": f"{n:064x}"}),
                "entities": [
                    Entity(id=f"e{k}", name=p, type="person", mentions=1)
                    for k, p in enumerate(people)
                ],
            }
        )
        for n in range(300)
    ]
    digest = merge([Given(r) for r in reports]).digest
    names = sorted(e.name for e in digest.entities)
    assert names == ["Dana Okafor", "Miguel Arroyo"]  # "Okafor" is Dana Okafor
    assert len(digest.entities[0].articles) == 300


def test_a_role_that_differs_is_found_though_the_quotations_differ() -> None:
    from analyst.digest.match import key, weigh

    a = key(
        "a1/f3",
        "a1",
        "Council member Dana Okafor, vice chair of the transportation committee, said the city "
        'had "studied this bridge to death" and that the new span was overdue.',
    )
    b = key(
        "a2/f3",
        "a2",
        "Council member Dana Okafor, who chairs the transportation committee, said the decision "
        'closes "ten years of studies that all reached the same conclusion."',
    )
    assert weigh(a, b).outcome == "contradicts" and weigh(a, b).kind == "role"
    # A short frame keeps its quotation: "X said" alone tells two statements nothing apart.
    c = key("a1/f4", "a1", 'Okafor said "the bridge will be finished by the spring of 2030."')
    d = key("a2/f4", "a2", 'Okafor said "the council studied every option for ten years."')
    assert weigh(c, d).outcome != "same"
