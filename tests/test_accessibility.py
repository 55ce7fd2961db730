"""Every page analyst writes passes axe-core in Debian's Chromium with no serious or critical
violation: a report, a digest, a batch's index, and the pages ``analyst serve`` serves (its home
page, and its library listed and searched)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("axe_playwright_python")

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # noqa: E402

from analyst import summarize_folder  # noqa: E402
from analyst.digest.briefing import Digest  # noqa: E402
from analyst.library import Library  # noqa: E402
from analyst.output.digest import to_html as digest_html  # noqa: E402
from analyst.output.html import to_html  # noqa: E402
from analyst.schema import Report  # noqa: E402
from analyst.settings import Settings  # noqa: E402
from tests.test_serve import Served  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SERIOUS = ("serious", "critical")


def _report(name: str) -> Report:
    return Report.model_validate_json((EXAMPLES / f"{name}.report.json").read_text("utf-8"))


def _violations(page: Any) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def _pages(tmp_path: Path, settings: Settings) -> dict[str, Path]:
    """A report page, a digest page, and a batch's index (a real batch, on the test server)."""
    bridge = _report("harbor-bridge")
    digest = Digest.model_validate_json((EXAMPLES / "digest" / "briefing.json").read_text("utf-8"))
    (tmp_path / "report.html").write_text(to_html(bridge), "utf-8")
    (tmp_path / "digest.html").write_text(digest_html(digest), "utf-8")
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("harbor-bridge.txt", "grid-battery.txt"):
        (folder / name).write_bytes((EXAMPLES / name).read_bytes())
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(
            summarize_folder, folder, out_dir=tmp_path / "out", settings=settings, formats=["html"]
        ).result()
    assert result.ok == 2
    return {
        "report": tmp_path / "report.html",
        "digest": tmp_path / "digest.html",
        "index": tmp_path / "out" / "index.html",
    }


@pytest.mark.parametrize("name", ["report", "digest", "index"])
def test_the_written_pages_pass_axe(
    name: str, page: Any, tmp_path: Path, settings: Settings
) -> None:
    page.goto(_pages(tmp_path, settings)[name].as_uri())
    assert _violations(page) == []


@pytest.mark.parametrize("path", ["/", "/library", "/library?q=bridge&since=2026-01-01"])
def test_the_served_pages_pass_axe(
    path: str, settings: Settings, page: Any, tmp_path: Path
) -> None:
    library = Library(tmp_path)
    for report in (EXAMPLES / "digest" / "reports").glob("*.json"):
        library.add(report.stem, Report.model_validate_json(report.read_bytes()))
    with Served(replace(settings), concurrency=1, queue=2, library=library) as served:
        page.goto(served.url + path)
        page.wait_for_load_state("networkidle")
        assert _violations(page) == []
    library.close()
