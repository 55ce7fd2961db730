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
    live.reply(Progress(40, '{"summary": ["A.", "B."]}', 4.0))
    assert "140 tokens written" in str(status.renderable.text)
    assert "10.0 tokens/s" in str(status.renderable.text)
    assert "A." not in out.getvalue()
