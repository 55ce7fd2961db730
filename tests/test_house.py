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


def _owners() -> dict[str, list[str]]:
    from analyst.digest.write import STAGE as DIGEST
    from analyst.pipeline import STAGES
    from analyst.stages.calls import CALLS

    owners: dict[str, list[str]] = {}
    for stage in (CALLS, *STAGES, DIGEST):
        for name in stage.prompts:
            owners.setdefault(name, []).append(stage.name)
    return owners


def test_every_prompt_file_is_declared_by_one_stage_and_every_declared_one_exists() -> None:
    owners = _owners()
    files = {p.stem for p in (ROOT / "prompts").glob("*.md")}
    undeclared = sorted(files - set(owners))
    assert not undeclared, (
        f"prompts/{undeclared[0]}.md is a prompt file no stage declares: add it to the "
        "prompts of the stage that renders it (its STAGE = Stage(..., prompts=...))"
    )
    missing = sorted(set(owners) - files)
    assert not missing, f"declared but there is no prompts/{missing[0]}.md ({owners[missing[0]]})"
    shared = {name: who for name, who in owners.items() if len(who) > 1}
    assert not shared, f"prompts declared by more than one stage: {shared}"


def test_a_stage_renders_only_the_prompts_it_declares() -> None:
    """Each ``render("name"`` in a stage's modules names a prompt that stage declares (the
    context's shared prompts aside)."""
    import re

    from analyst.pipeline import STAGES
    from analyst.stages.calls import CALLS

    shared = set(CALLS.prompts)
    for stage in STAGES:
        folder = PACKAGE / "stages" / stage.name
        files = list(folder.glob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
        rendered = {
            m for f in files for m in re.findall(r'render\(\s*"(\w+)"', f.read_text("utf-8"))
        }
        stray = rendered - set(stage.prompts) - shared
        assert not stray, f"stage {stage.name} renders {sorted(stray)} without declaring them"


def test_every_package_ships_in_the_wheel() -> None:
    """A package missing from pyproject.toml's list works from a checkout and is absent from
    a plain ``pip install .``."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
            "packages"
        ]
    )
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found <= listed, f"not in [tool.setuptools] packages: {sorted(found - listed)}"
