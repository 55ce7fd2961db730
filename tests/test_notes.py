"""The notes: figures in perspective, what to watch, who says what, tensions, fact standing;
and the implications and the analysis composed from them on the embedded model."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from analyst import Settings, summarize_text
from analyst.evaluation.proof import proof_figures, recomputes
from analyst.output.plain import to_markdown
from analyst.schema import COMPUTED_KINDS, Report
from analyst.testing import FakeChatClient, extractive_responder
from analyst.text import ahead, amounts, perspective, prose, speech
from analyst.text.split import spans

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _report(name: str, **settings: object) -> Report:
    text = (EXAMPLES / name).read_text("utf-8")
    fake = FakeChatClient(responder=extractive_responder, backend="local")
    return summarize_text(text, client=fake, settings=Settings(include_text=True, **settings))  # type: ignore[arg-type]


def _derive(text: str, language: str = "en") -> list[perspective.Derived]:
    found = spans(text)
    return perspective.derive(amounts.find(text, found, language=language), text, found)


@pytest.fixture(scope="module")
def bridge() -> Report:
    return _report("harbor-bridge.txt")


def test_the_funding_adds_up_and_the_state_pays_61_percent(bridge: Report) -> None:
    sums = [n for n in bridge.notes if n.kind == "sum"]
    assert len(sums) == 1
    note = sums[0]
    assert [i.text for i in note.inputs] == [
        "$250 million",
        "$95 million",
        "$67 million",
        "$412 million",
    ]
    assert note.result == 412_000_000 and note.operation == "sum"
    assert "61%" in note.text
    share = next(n for n in bridge.notes if n.kind == "share")
    assert share.text == "$250 million is 61% of $412 million"
    # Each input is the article's text at its offsets, and the result follows from them.
    source = bridge.source.text or ""
    assert all(source[i.start : i.end] == i.text for i in note.inputs)
    assert all(recomputes(n, source) for n in bridge.notes if n.kind in COMPUTED_KINDS)


def test_the_rehabilitation_is_compared_with_the_replacement(bridge: Report) -> None:
    multiple = next(n for n in bridge.notes if n.kind == "multiple")
    assert multiple.text == "$412 million is 2.3 times about $180 million"
    assert multiple.formula == "412,000,000 / 180,000,000 = 2.28889"
    # The yearly maintenance cost of delay ("each year ... $9 million") is a rate: never
    # compared with a lump sum.
    assert not any("$9 million" in i.text for n in bridge.notes for i in n.inputs)


def test_what_to_watch_is_dated_in_order(bridge: Report) -> None:
    watch = [n for n in bridge.notes if n.kind == "watch"]
    dates = [n.date or "" for n in watch]
    assert dates == sorted(dates)  # ISO strings of mixed precision sort as dates here
    by_date = {n.date: n.text for n in watch}
    assert "bidding" in by_date["2027-01"]  # "in January", after a November article
    assert "contractor" in by_date["2027-06"]  # "by June"
    assert "2027-04" in by_date and "2030" in by_date  # "in April 2027", "until 2030"
    # Inspections in 2019 and 2023, the bond approved in 2024, the grant in August: the past.
    assert not {"2019", "2023", "2024", "2026-08"} & set(by_date)


def test_who_says_what(bridge: Report) -> None:
    quote = next(n for n in bridge.notes if n.kind == "quote")
    assert quote.speaker == "Dana Okafor"
    assert quote.role == "who chairs the transportation committee"
    claims = {n.speaker: n.role for n in bridge.notes if n.kind == "claim"}
    assert claims["Miguel Arroyo"] == "City finance director"
    assert "the city's finance office" in claims
    # "He said ..." is the finance director, named in the sentence before.
    he = [n for n in bridge.notes if n.kind == "claim" and "credit rating" in n.text]
    assert he and he[0].speaker == "Miguel Arroyo"


def test_facts_are_labelled_by_how_the_article_gives_them(bridge: Report) -> None:
    labels = {f.text[:40]: (f.standing, f.attributed_to) for f in bridge.facts}
    state = next(v for k, v in labels.items() if k.startswith("The state will cover"))
    assert state == ("attributed", "the city's finance office")
    construction = next(v for k, v in labels.items() if k.startswith("Construction is scheduled"))
    assert construction[0] == "forecast"
    assert all(f.standing in ("stated", "attributed", "forecast", "estimate") for f in bridge.facts)


def test_a_tension_holds_both_sides(bridge: Report) -> None:
    tension = next(n for n in bridge.notes if n.kind == "tension")
    assert len(tension.spans) == 2 and tension.speaker == "Paul Brandt and Irene Soto"


def test_the_embedded_model_gets_a_composed_analysis_that_cites_and_does_not_restate(
    bridge: Report,
) -> None:
    assert bridge.analysis.composed and bridge.usage.calls == 2  # extraction and summary
    ids = {n.id for n in bridge.notes}
    assert set(bridge.analysis.notes) <= ids
    assert all(set(i.notes) <= ids and i.notes for i in bridge.implications)
    assert not any(i.background for i in bridge.implications)
    figures = proof_figures(bridge, bridge.source.text or "")
    assert figures.restated == 0 and figures.invented == 0 and figures.recompute_errors == 0
    assert figures.full_analysis and figures.on_nothing == 0
    text = bridge.analysis.text
    assert "$250 million + $95 million + $67 million = $412 million" in text
    assert "June 2027, a contractor to be chosen" in text
    # The computed figures are not "invented": the gate reads them from the notes.
    assert not any("never mentions" in w for w in bridge.warnings)


def test_the_views_show_the_notes_and_what_the_analysis_rests_on(bridge: Report) -> None:
    markdown = to_markdown(bridge)
    assert "## Notes" in markdown and "### Numbers in perspective" in markdown
    assert "`412,000,000 / 180,000,000 = 2.28889`" in markdown
    assert "*Composed by analyst from the notes and the facts.*" in markdown
    assert "attributed to the city's finance office" in markdown
    assert re.search(r"\[f\d+(, f\d+)*, n\d+", markdown)


def test_the_grid_battery_costs_per_unit_and_its_staff() -> None:
    report = _report("grid-battery.txt")
    texts = [n.text for n in report.notes]
    assert "$540 million for 300 MW is $1.8 million per MW" in texts
    assert "$540 million for up to 1,200 MWh is about $450,000 per MWh" in texts
    assert "11 of 24 staff is 46%" in texts
    watch = {n.date for n in report.notes if n.kind == "watch"}
    assert watch == {"2028", "2040"}  # "two cold snaps in January forced": the past
    quote = next(n for n in report.notes if n.kind == "quote")
    assert quote.speaker == "Ravi Menon" and quote.role == "Clean Grid Alliance"


def test_an_article_without_numbers_dates_or_quotes_says_so_and_gets_no_filler() -> None:
    text = "A Quiet Day\n\nThe library reopened. Readers came back. The staff were pleased."
    fake = FakeChatClient(responder=extractive_responder, backend="local")
    report = summarize_text(text, client=fake)
    assert report.notes == []
    assert report.notes_absent == ["numbers", "dates", "quotes", "tensions"]
    assert report.implications == []  # nothing computed, nothing disputed: no implication
    assert "names no date ahead" in report.analysis.text
    assert "The article gives no figures to put in perspective" in to_markdown(report)


def test_a_capable_model_writes_the_prose_citing_notes_and_background_is_marked() -> None:
    text = (EXAMPLES / "harbor-bridge.txt").read_text("utf-8")
    fake = FakeChatClient(responder=extractive_responder)
    report = summarize_text(text, client=fake)
    assert not report.analysis.composed and fake.calls[-1].schema.name == "interpretation"
    schema = fake.calls[-1].schema.schema["$defs"]["CitedText"]
    assert {"notes", "background"} <= set(schema["required"])
    assert schema["properties"]["notes"]["items"]["enum"][:2] == ["n1", "n2"]
    sent = fake.calls[-1].messages[-1]["content"]
    assert "n1 (sum): $250 million + $95 million + $67 million = $412 million" in sent


def test_background_is_left_out_on_the_embedded_model_unless_asked(bridge: Report) -> None:
    text = (EXAMPLES / "harbor-bridge.txt").read_text("utf-8")
    facts = {"facts": [{"sentence": n, "text": "x"} for n in (1, 2)]}
    interpretation = {
        "implications": [
            {"party": "The city", "text": "must now pay", "facts": ["f1"], "notes": ["n1"],
             "background": False},
            {"party": "Bridges", "text": "usually last fifty years", "facts": [], "notes": [],
             "background": True},
            {"party": "The state", "text": "pays most of it", "facts": ["f1"], "notes": ["n2"],
             "background": False},
        ],
        "analysis": {
            name: {"text": "A sentence long enough to pass the schema's length check here, and "
                   "more words to be sure.", "facts": ["f1"], "notes": [], "background": False}
            for name in ("significance", "context", "uncertainty", "watch")
        },
    }  # fmt: skip
    summary = {"summary": ["One.", "Two.", "Three."]}
    kept = summarize_text(
        text,
        client=FakeChatClient(
            [facts, summary, interpretation], responder=extractive_responder, backend="local"
        ),
        settings=Settings(
            analysis="model", background=True, fact_text="written", summary="written"
        ),
    )
    assert [i.background for i in kept.implications] == [False, True, False]
    assert "*(background: the model's own knowledge, not in the article)*" in to_markdown(kept)
    dropped = summarize_text(
        text,
        client=FakeChatClient(
            [facts, summary, interpretation], responder=extractive_responder, backend="local"
        ),
        settings=Settings(analysis="model", fact_text="written", summary="written"),
    )
    assert len(dropped.implications) == 2
    assert any("background" in w for w in dropped.warnings)


# ---- the text modules on their own -------------------------------------------------------------


def test_amounts_read_scales_ranges_and_what_is_not_a_quantity() -> None:
    text = (
        "Profits rose 76% to $1.13bn (£600m) in 2004. No. 10 said the 1958 bridge cost £5m. "
        "It stores 1,200 megawatt-hours. Prices fell 2.5 percentage points. "
        "Between 5 p.m. and 9 p.m. demand peaks. The index fell to -3%."
    )
    found = {a.surface: a for a in amounts.find(text, spans(text))}
    assert found["$1.13bn"].value == 1.13e9 and found["$1.13bn"].unit == "dollar"
    assert found["£600m"].value == 6e8 and found["£600m"].unit == "pound sterling"
    assert found["1,200 megawatt-hours"].dimension == "energy"
    assert found["2.5 percentage"].dimension == "points"
    assert not {"2004", "10", "1958", "5 p", "9 p", "5", "9"} & set(found)
    assert found["-3%"].value == -3


def test_never_mix_currencies_ranges_or_rates() -> None:
    mixed = "The fund paid $100 million while rivals paid £50 million and £50 million more."
    assert not [d for d in _derive(mixed) if d.kind in ("sum", "multiple")]
    ranged = "Passengers can claim between 150 euros and 300 euros, compared with the old rules."
    assert not [d for d in _derive(ranged) if d.kind == "multiple"]
    rate = "The replacement costs $412 million. Each year of delay costs about $9 million more."
    assert not [d for d in _derive(rate) if d.kind == "multiple"]


def test_changes_in_points_and_a_range_is_not_a_change() -> None:
    fell = _derive("The bank cut its rate from 4.75% to 4.5% on Tuesday.")
    change = next(d for d in fell if d.kind == "change")
    assert change.unit == "percentage point" and change.result == pytest.approx(-0.25)
    assert [a.surface for a in change.inputs] == ["4.75%", "4.5%"]
    assert not [d for d in _derive("Tickets cost from £6 to £10 each.") if d.kind == "change"]
    rose = next(d for d in _derive("Profits jumped 76% to $1.13bn.") if d.kind == "before")
    assert rose.result == pytest.approx(1.13e9 / 1.76)


def test_parts_that_say_they_complete_a_whole_and_do_not() -> None:
    text = (
        "The project will cost $500 million. The state pays $300 million. "
        "A grant brings $100 million. The remaining $60 million comes from bonds."
    )
    gap = next(d for d in _derive(text) if d.kind == "discrepancy")
    assert gap.result == 460e6 and gap.inputs[-1].value == 500e6


def test_lists_and_tables_give_no_figures_to_derive() -> None:
    text = "1. Apples 30\n2. Pears 20\n3. Plums 50\nSection 4 lists 100 items."
    assert not [d for d in _derive(text) if d.kind == "sum"]


def test_dates_ahead_resolve_against_the_article_date() -> None:
    text = (
        "The council will vote next spring. A contractor is to be chosen by June. "
        "The plant closed in 2022. Officials expect a decision within six months. "
        "It may have developed slowly. The plan must still be ratified by parliament."
    )
    base = dt.datetime(2026, 11, 12)
    items = ahead.find(text, spans(text), base=base, language="en")
    dated = {i.date_text: i.date for i in items if i.kind == "watch"}
    assert dated == {"next spring": "2027-03", "by June": "2027-06", "within six months": "2027-05"}
    pending = [i.text for i in items if i.kind == "pending"]
    assert any("ratified" in p for p in pending)
    # Without a date of its own, a year ahead still counts where the sentence looks ahead.
    undated = ahead.find("The utility plans to retire it by 2028. It opened in 2019.",
                         spans("The utility plans to retire it by 2028. It opened in 2019."),
                         base=None, language="en")  # fmt: skip
    assert [(i.date, i.date_text) for i in undated] == [("2028", "by 2028")]


def test_non_english_numbers_and_dates() -> None:
    text = (
        "Der Umsatz stieg von 2,5 Milliarden Euro auf 3,1 Milliarden Euro. "
        "Das Werk soll bis 2028 fertig sein. Es wurde 2019 gebaut."
    )
    found = amounts.find(text, spans(text, language="de"), language="de")
    assert [(a.value, a.unit) for a in found] == [(2.5e9, "euro"), (3.1e9, "euro")]
    items = ahead.find(text, spans(text), base=dt.datetime(2026, 3, 1), language="de")
    assert [i.date for i in items] == ["2028"]


def test_quotations_and_their_speakers() -> None:
    text = (
        "Northfield's chief executive, Laura Chen, said prices would fall.\n"
        '"Batteries cover the evening peak, not a week of cloudy weather," said Ravi Menon of '
        "the Clean Grid Alliance.\n"
        'Mr Smith told reporters: "We will appeal against this ruling."\n'
        'He added: "It is not the end of the road for us."\n'
        'The bridge was rated "poor" by inspectors.'
    )
    found = speech.quotations(text, spans(text))
    assert [(q.speaker, q.text[:12]) for q in found] == [
        ("Ravi Menon", "Batteries co"),
        ("Mr Smith", "We will appe"),
        ("Mr Smith", "It is not th"),
    ]  # "poor" is a term, not a quotation
    claims = speech.attributions(text, spans(text))
    assert (claims[0].speaker, claims[0].role) == ("Laura Chen", "Northfield's chief executive")


def test_an_amount_with_its_scale_is_one_term_for_the_gates() -> None:
    article = "Each ticket was $1 cheaper. The plan costs $3.2bn."
    assert prose.invented("The airline was fined $1 million.", article, names=False) == [
        "1 million"
    ]
    assert prose.invented("The plan costs $3.2 billion.", article, names=False) == []


def test_a_version_3_report_still_loads(bridge: Report) -> None:
    data = json.loads(bridge.model_dump_json())
    data["schema_version"] = "3"
    del data["notes"], data["notes_absent"]
    for fact in data["facts"]:
        del fact["standing"], fact["attributed_to"]
    for implication in data["implications"]:
        del implication["notes"], implication["background"]
    del data["analysis"]["notes"], data["analysis"]["composed"]
    for part in data["analysis"]["parts"].values():
        del part["notes"], part["background"]
    old = Report.model_validate(data)
    assert old.notes == [] and old.facts[0].standing is None
    assert "## Notes" not in to_markdown(old)


def test_reading_amounts_leaves_the_root_logger_as_it_was() -> None:
    import logging

    from analyst.text import amounts

    before = list(logging.root.handlers)
    text = "The state will pay $250 million, and the city $67 million."
    assert amounts.find(text, [(0, len(text))])
    assert logging.root.handlers == before  # quantulum3 calls logging.basicConfig()
