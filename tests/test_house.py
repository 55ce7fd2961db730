"""The house rules a newcomer relies on: imports run one way, modules read in one sitting."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "analyst"
MOST_LINES = 400


def test_imports_run_one_way_through_the_layers() -> None:
    """pyproject.toml's import-linter contract: a module imports only from layers below it."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.fail("lint-imports is not installed (it comes with the dev extra)")
    done = subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    broken = done.stdout[done.stdout.find("Broken contracts") :]
    assert done.returncode == 0, broken or done.stdout + done.stderr


def test_an_import_against_the_layers_is_caught(tmp_path: Path) -> None:
    """The contract is live: a copy of the package where text/ imports the pipeline fails it."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None
    shutil.copytree(PACKAGE, tmp_path / "analyst", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "analyst" / "text" / "upward.py").write_text("import analyst.pipeline\n")
    done = subprocess.run(
        [command, "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)},
    )
    assert done.returncode != 0
    assert "analyst.text.upward -> analyst.pipeline" in done.stdout


def test_no_module_is_over_400_lines() -> None:
    """A module a newcomer reads in one sitting."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text("utf-8").splitlines())) > MOST_LINES
    }
    assert not long, f"over {MOST_LINES} lines: {long}"
