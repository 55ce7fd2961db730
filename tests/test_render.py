"""The Markdown and terminal views carry the same content as the report."""

from __future__ import annotations

import io

from rich.console import Console

from analyst import Report, Settings, summarize_text
from analyst.output.plain import to_json, to_markdown
from analyst.output.terminal import to_rich
from analyst.testing import FakeChatClient, passing_analysis

FACTS = {
    "facts": [
        {"section": "s1", "evidence": "The Riverton city council voted 7–2", "text": "It voted."},
        {"section": "s2", "evidence": "Not in the article at all, invented", "text": "Invented."},
    ]
}
SYNTH = {
    "summary": "The council approved a bridge. Work starts in spring.",
    "implications": [
        {"party": "the city", "text": f"Point {n}.", "facts": ["f1"]}
        for n in ("one", "two", "three")
    ],
    "analysis": passing_analysis(["f1"]),
}


def _report(bridge: str, keep: bool) -> Report:
    fake = FakeChatClient([FACTS, SYNTH])
    return summarize_text(bridge, client=fake, settings=Settings(keep_ungrounded=keep))


def test_markdown_has_every_part(bridge: str) -> None:
    md = to_markdown(_report(bridge, keep=True))
    assert md.startswith("# Riverton Approves $412 Million")
    for part in (
        "## Summary",
        "## Key facts",
        "### A Vote That Ends a Long Argument",
        "## Implications",
        "## AI Analysis",
    ):
        assert part in md
    assert "- **f1** It voted. ✓\n  > The Riverton city council voted 7–2" in md
    assert "✗ (quote not found in the article)" in md
    assert "1. Point one. [f1]" in md
    assert "facts grounded 1/2" in md


def test_rich_view_marks_grounding(bridge: str) -> None:
    out = io.StringIO()
    Console(file=out, width=120, force_terminal=False).print(to_rich(_report(bridge, keep=False)))
    text = out.getvalue()
    assert "✓ f1 It voted." in text and "Invented" not in text
    assert '"The Riverton city council voted 7–2"' in text
    assert "AI Analysis" in text and "warning: 1 of 2 facts left out" in text


def test_json_round_trips(bridge: str) -> None:
    report = _report(bridge, keep=False)
    assert Report.model_validate_json(to_json(report)) == report


def test_the_analysis_shows_each_parts_citations_and_implications_name_their_party(
    bridge: str,
) -> None:
    synth = dict(
        SYNTH,
        implications=[
            {"party": "the council", "text": "must now find contractors.", "facts": ["f1"]},
            {"party": "Riverton", "text": "Residents can plan ahead.", "facts": ["f1"]},
            {"party": "drivers", "text": "face detours.", "facts": ["f1"]},
        ],
    )
    report = summarize_text(bridge, client=FakeChatClient([FACTS, synth]))
    assert [i.text for i in report.implications] == [
        "The council must now find contractors.",
        "Residents can plan ahead.",  # a whole sentence stays as written
        "Drivers face detours.",
    ]
    assert report.implications[0].party == "the council"
    parts = report.analysis.parts
    assert parts is not None and list(parts) == ["significance", "context", "uncertainty", "watch"]
    assert report.analysis.text == " ".join(p.text for p in parts.values())
    md = to_markdown(report)
    assert f"{parts['significance'].text} [f1] {parts['context'].text}" in md
