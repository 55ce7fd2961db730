"""The README's screenshot of an HTML report, taken by the tests' headless Chromium.

python examples/screenshot.py examples/harbor-bridge.report.html examples/harbor-bridge.report.png [--click f5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import ARGS, executable  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--click", help="a fact id to click first, e.g. f5")
    args = parser.parse_args()
    path = executable()
    if path is None:
        raise SystemExit("no Chromium: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        page.goto(args.page.resolve().as_uri())
        if args.click:
            page.click(f"#fact-{args.click}")
            page.wait_for_timeout(1700)  # let the flash fade to the selection
        page.screenshot(path=str(args.png))
        browser.close()


if __name__ == "__main__":
    main()
