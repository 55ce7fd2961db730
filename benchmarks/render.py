"""How the views scale with the number of facts: a report of harbor-bridge's facts copied N
times over 200 sections, written as Markdown, HTML, JSON and the terminal view.

    python benchmarks/render.py 5000 20000 40000

Each view should grow linearly: the HTML page was quadratic (20,000 facts on one passage: 3.2 s,
now 0.5 s on this machine's kind).
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from analyst import Report, Settings, summarize_text  # noqa: E402
from analyst.output.html import to_html  # noqa: E402
from analyst.output.plain import to_json, to_markdown  # noqa: E402
from analyst.output.terminal import to_rich  # noqa: E402
from analyst.schema import SectionInfo  # noqa: E402
from analyst.testing import FakeChatClient, extractive_responder  # noqa: E402


def big(n: int) -> Report:
    """harbor-bridge's report with its first fact copied ``n`` times over 200 sections."""
    text = (ROOT / "examples" / "harbor-bridge.txt").read_text("utf-8")
    fake = FakeChatClient(responder=extractive_responder)
    report = summarize_text(text, client=fake, settings=Settings(include_text=True))
    first = report.facts[0]
    facts = [first.model_copy(update={"id": f"f{i}", "section": f"s{i % 200}"}) for i in range(n)]
    sections = [
        SectionInfo(id=f"s{i}", heading=f"h{i}", start=0, end=10, tokens=1) for i in range(200)
    ]
    analysis = report.analysis.model_copy(update={"facts": [], "parts": None})
    update = {"facts": facts, "sections": sections, "implications": [], "analysis": analysis}
    return report.model_copy(update=update)


def main() -> None:
    for n in [int(a) for a in sys.argv[1:]] or [5000, 20000]:
        report = big(n)
        for name in ("markdown", "html", "json", "terminal"):
            started = time.perf_counter()
            _view(name, report)
            print(f"{n:>7,} facts  {name:<9} {time.perf_counter() - started:6.2f} s")


def _view(name: str, report: Report) -> None:
    if name == "markdown":
        to_markdown(report)
    elif name == "html":
        to_html(report)
    elif name == "json":
        to_json(report)
    else:
        Console(file=io.StringIO(), width=100).print(to_rich(report))


if __name__ == "__main__":
    main()
