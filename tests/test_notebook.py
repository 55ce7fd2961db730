"""Reports and digests in Jupyter, as a notebook shows them: a real kernel (ipykernel, on loopback)
runs the cells through nbclient, and the outputs it sends back are read."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

from analyst.digest.briefing import Digest  # noqa: E402
from analyst.output.digest import to_markdown as digest_markdown  # noqa: E402
from analyst.output.html import to_html  # noqa: E402
from analyst.output.plain import to_markdown  # noqa: E402
from analyst.schema import Report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "examples" / "grid-battery.report.json"
DIGEST = ROOT / "examples" / "digest" / "briefing.json"
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'

CELLS = [
    f"""
from pathlib import Path
from analyst import Report
report = Report.model_validate_json(Path({str(REPORT)!r}).read_text("utf-8"))
report = report.model_copy(update={{"title": {HOSTILE!r}}})
report
""",
    f"""
from analyst import Digest
Digest.model_validate_json(Path({str(DIGEST)!r}).read_text("utf-8"))
""",
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in CELLS]
    work = tmp_path_factory.mktemp("notebook")
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()
    shown = []
    for cell in notebook.cells:
        (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
        shown.append(dict(result.data))
    return shown


def _page(frame: str) -> str:
    m = re.fullmatch(r'<iframe [^>]*srcdoc="([^"]*)"></iframe>', frame)
    assert m, frame[:200]
    return html.unescape(m.group(1))


def test_a_report_shows_as_its_page_in_a_sandboxed_frame_and_as_markdown(
    outputs: list[dict[str, str]],
) -> None:
    report = Report.model_validate_json(REPORT.read_text("utf-8"))
    report = report.model_copy(update={"title": HOSTILE})
    shown = outputs[0]
    frame = shown["text/html"]
    assert frame.startswith("<iframe") and 'sandbox="allow-scripts allow-popups"' in frame
    # Nothing of the page is markup in the notebook: the article's text least of all.
    assert "<script" not in frame and "<img" not in frame and "<style" not in frame
    assert _page(frame) == to_html(report)  # the page -o report.html writes, byte for byte
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _page(frame)
    assert shown["text/markdown"] == to_markdown(report)
    assert "\\<script\\>" in shown["text/markdown"]


def test_a_digest_shows_as_its_page_and_as_markdown(outputs: list[dict[str, str]]) -> None:
    digest = Digest.model_validate_json(DIGEST.read_text("utf-8"))
    shown = outputs[1]
    assert _page(shown["text/html"]) == (ROOT / "examples" / "digest" / "briefing.html").read_text(
        "utf-8"
    )
    assert shown["text/markdown"] == digest_markdown(digest)
