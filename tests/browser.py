"""Debian's Chromium, driven by Playwright, for the tests that open pages.

Playwright's own browser download cannot reach its servers here: the tests launch the system
browser (``apt-get install chromium``). Without it they are skipped, unless
``ANALYST_REQUIRE_BROWSER`` is set (``.ci/run`` sets it), where a missing browser fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

# Chromium as root in a container, and no reaching for Google's hosts at start.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def executable() -> str | None:
    return (
        os.environ.get("ANALYST_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = executable()
    playwright_api = pytest.importorskip("playwright.sync_api")
    if path is None:
        if os.environ.get("ANALYST_REQUIRE_BROWSER"):
            pytest.fail("no Chromium: apt-get install chromium")
        pytest.skip("no Chromium (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.errors = []
    opened.on("pageerror", lambda e: opened.errors.append(str(e)))
    opened.on(
        "console",
        lambda m: opened.errors.append(m.text) if m.type in ("error", "warning") else None,
    )
    yield opened
    context.close()
