"""The Markdown and terminal views carry the same content as the report."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
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


# ---- -o: what is at the path is written into, never replaced, unless it is a regular file ---


def _render(report_json: Path, output: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "analyst", "render", str(report_json), "-o", str(output)]
    command += ["--format", "md"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture
def report_json(bridge: str, tmp_path: Path) -> Path:
    path = tmp_path / "r.json"
    path.write_text(to_json(_report(bridge, keep=False)), "utf-8")
    return path


def test_o_writes_into_a_fifo_and_leaves_it_a_fifo(report_json: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    # A daemon: with the old code the FIFO was replaced and this reader would wait forever.
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = _render(report_json, fifo)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0].decode("utf-8").startswith(
        "# Riverton Approves"
    )  # all of it, not 0 bytes


def test_o_through_a_symlink_replaces_the_file_and_keeps_the_link(
    report_json: Path, tmp_path: Path
) -> None:
    target = tmp_path / "real.md"
    target.write_text("old", "utf-8")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    done = _render(report_json, link)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text("utf-8").startswith("# Riverton Approves")


@pytest.mark.skipif(os.geteuid() != 0, reason="making device nodes needs root")
def test_o_on_a_device_writes_into_it_and_a_full_one_is_a_clear_error(
    report_json: Path, tmp_path: Path
) -> None:
    # Device nodes of our own (null and full) in a temporary folder: as root the old code turned
    # /dev/null itself into a regular file.
    null, full = tmp_path / "null", tmp_path / "full"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    done = _render(report_json, null)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)
    failed = _render(report_json, full)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "cannot write" in failed.stderr and "No space left" in failed.stderr
    assert failed.stdout.startswith("# Riverton Approves")  # what was made is kept
    assert stat.S_ISCHR(os.stat(full).st_mode)
    assert not list(tmp_path.glob(".*.tmp"))
