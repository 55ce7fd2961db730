"""The terminal view of one article while it is written: stage, tokens, rate, facts as found."""

from __future__ import annotations

import io

from rich.console import Console
from rich.status import Status

from analyst.model.seam import Progress
from analyst.output.live import LiveView


def _live() -> tuple[io.StringIO, Status, LiveView]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    status = console.status("reading")
    return out, status, LiveView(console, status)


def test_facts_appear_once_each_as_soon_as_the_next_begins() -> None:
    out, status, live = _live()
    live.stage("extracting facts (1/1)")
    reply = '{"facts": [{"sentence": 3, "text": "The council voted 7-2."}, {"sentence": 5, "te'
    for n in range(20, len(reply) + 1, 7):
        live.reply(Progress(n, reply[:n], n / 10))
    assert out.getvalue().count("The council voted 7-2.") == 1
    assert "te" not in out.getvalue().split("7-2.")[-1]  # the half-written one is not shown
    whole = reply + 'xt": "The state pays $250 million <b>now</b>."}]}'
    live.reply(Progress(len(whole), whole, 9.0))
    live.reply(Progress(len(whole), whole, 9.5))
    shown = out.getvalue()
    assert shown.count("The council voted 7-2.") == 1
    assert shown.count("The state pays $250 million <b>now</b>.") == 1  # as text, not markup
    assert "tokens/s" in str(status.renderable.text) and "extracting facts" in str(
        status.renderable.text
    )


def test_tokens_add_up_across_calls_and_other_stages_show_no_facts() -> None:
    out, status, live = _live()
    live.stage("extracting facts (1/1)")
    live.reply(Progress(100, '{"facts": []}', 10.0))
    live.stage("writing the summary")
    live.reply(Progress(1, '{"', 2.0))  # the prompt read: the first token at 2 s
    live.reply(Progress(40, '{"summary": ["A.", "B."]}', 4.0))
    assert "140 tokens written" in str(status.renderable.text)
    # The rate of writing: 39 tokens in the 2 s after the first, not 40 in 4.
    assert "19.5 tokens/s" in str(status.renderable.text)
    assert "A." not in out.getvalue()


def test_cited_facts_and_notes_show_as_they_land_with_the_time_left() -> None:
    from analyst.stages.context import Landed, Step

    out, status, live = _live()
    live.event((Step("extracting facts (1/1)", 900, 30), Step("writing the summary", 40, 20)))
    live.stage("extracting facts (1/1)")
    # Before any reply: the plan at the default rates (900 / 45 + 30 / 15 + 40 / 45 + 20 / 15).
    assert 20 <= (live.left() or 0) <= 25
    live.reply(Progress(1, '{"sentences": [', 10.0))  # read 900 tokens in 10 s: 90 a second
    live.reply(Progress(21, '{"sentences": [3, 5, 8', 11.0))  # then 20 tokens a second
    # 9 tokens of this reply left, then the summary: 40 / 90 + 20 / 20.
    assert abs((live.left() or 0) - (9 / 20 + 40 / 90 + 1)) < 0.01
    assert "s left" in str(status.renderable.text)
    live.event(Landed("facts", ("f1 The council voted 7–2.", "f2 The state pays <b>$250m</b>.")))
    live.event(Landed("notes", ("n1 $250m is 61 % of $412m.",)))
    shown = out.getvalue()
    assert "f2 The state pays <b>$250m</b>." in shown and "n1 $250m is 61 % of $412m." in shown
    assert shown.index("f1 The council") < shown.index("n1 $250m")


def test_facts_written_out_are_not_shown_twice_when_they_land() -> None:
    from analyst.stages.context import Landed

    out, _, live = _live()
    live.stage("extracting facts (1/1)")
    reply = '{"facts": [{"sentence": 3, "text": "The council voted 7-2."}]}'
    live.reply(Progress(30, reply, 3.0))
    live.event(Landed("facts", ("f1 The council voted 7-2.",)))
    assert out.getvalue().count("The council voted 7-2.") == 1


def test_a_report_tells_its_plan_then_its_facts_and_notes(bridge: str) -> None:
    from analyst import summarize_text
    from analyst.stages.context import Landed, report_listener
    from analyst.testing import FakeChatClient, extractive_responder

    events: list[object] = []
    token = report_listener.set(events.append)
    try:
        fake = FakeChatClient(responder=extractive_responder, backend="local")
        report = summarize_text(bridge, client=fake)
    finally:
        report_listener.reset(token)
    plan, facts, notes = events
    assert isinstance(plan, tuple)
    assert [s.stage for s in plan] == ["extracting facts (1/1)", "writing the summary"]
    assert plan[0].read > 500 and plan[0].write < 60  # the article read, numbers written
    assert isinstance(facts, Landed) and isinstance(notes, Landed)
    assert facts.kind == "facts" and len(facts.lines) == len(report.facts)
    assert notes.kind == "notes" and len(notes.lines) == len(report.notes) > 0


def test_the_line_stays_current_while_a_prompt_is_read() -> None:
    import time

    from analyst.stages.context import Step

    _, status, view = _live()
    with view as live:
        live.event((Step("extracting facts (1/1)", 900, 30),))
        live.stage("extracting facts (1/1)")
        first = str(status.renderable.text)
        time.sleep(1.2)  # no reply yet: only the ticker renders
        later = str(status.renderable.text)
    assert "· 0 s ·" in first and "· 1 s ·" in later
    assert "about 22 s left" in first and "about 21 s left" in later  # 900 / 45 + 30 / 15
