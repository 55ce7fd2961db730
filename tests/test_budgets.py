"""Budgets: --max-input-tokens (refuse or truncate), --budget-tokens per article and per batch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyst import Settings, summarize_text
from analyst.batch import summarize_folder
from analyst.cli import app
from analyst.errors import BudgetError, InputError
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer

ARTICLE = str(EXAMPLES / "harbor-bridge.txt")


def test_an_oversized_article_is_refused_or_truncated(settings: Settings, bridge: str) -> None:
    from dataclasses import replace

    with pytest.raises(InputError, match="over --max-input-tokens 200"):
        summarize_text(bridge, settings=replace(settings, max_input_tokens=200))
    report = summarize_text(bridge, settings=replace(settings, max_input_tokens=200, truncate=True))
    assert any("read only the first" in w for w in report.warnings)
    last_section_end = max(s.end for s in report.sections)
    assert last_section_end < len(bridge) // 2  # only the beginning was read
    assert all(f.start is not None and f.start < last_section_end for f in report.facts)


def test_cli_max_input_tokens_exits_3(server: FakeOpenAIServer) -> None:
    args = ["summarize", ARTICLE, "--base-url", server.base_url, "--model", "m"]
    result = CliRunner().invoke(app, [*args, "--max-input-tokens", "100"])
    assert result.exit_code == 3 and "--truncate" in result.stderr
    assert server.chat_requests == []


def test_a_budget_too_small_for_the_first_call_spends_nothing(
    server: FakeOpenAIServer,
) -> None:
    args = ["summarize", ARTICLE, "--base-url", server.base_url, "--model", "m", "--no-cache"]
    result = CliRunner().invoke(app, [*args, "--budget-tokens", "1000"])
    assert result.exit_code == 7, result.output
    assert "token budget of 1,000" in result.stderr and server.chat_requests == []


def test_the_budget_stops_between_calls_and_is_never_passed(
    server: FakeOpenAIServer, settings: Settings, bridge: str
) -> None:
    from dataclasses import replace

    # Enough for the extraction call (prompt + its 1,500-token reply room), not for synthesis.
    with pytest.raises(BudgetError, match="past its token budget of 4,000"):
        summarize_text(bridge, settings=replace(settings, budget_tokens=4000))
    assert len(server.chat_requests) == 1
    generous = summarize_text(bridge, settings=replace(settings, budget_tokens=20_000))
    spent = generous.usage.prompt_tokens + generous.usage.completion_tokens
    assert spent <= 20_000 and generous.facts


def _folder(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    text = (EXAMPLES / "grid-battery.txt").read_text("utf-8")
    for i in range(n):
        (folder / f"{i:02}.txt").write_text(text.replace("on Thursday", f"on day {i}"), "utf-8")
    return folder


@pytest.mark.parametrize("concurrency", [1, 4, 16])
def test_the_batch_budget_stops_starting_articles_and_a_rerun_goes_on(
    server: FakeOpenAIServer, tmp_path: Path, concurrency: int
) -> None:
    folder, out = _folder(tmp_path, 8), tmp_path / "out"
    args = ["batch", str(folder), "-o", str(out), "--base-url", server.base_url, "--model", "m"]
    budget = ["--batch-budget-tokens", "20000", "--concurrency", str(concurrency)]
    first = CliRunner().invoke(app, [*args, *budget])
    assert first.exit_code == 7, first.output
    assert "token budget (20,000) is spent" in first.stderr
    with sqlite3.connect(out / "manifest.sqlite") as db:
        # Held before sending: at any concurrency the run spends no more than its budget.
        ((spent,),) = db.execute("SELECT SUM(prompt_tokens + completion_tokens) FROM files")
    assert spent <= 20_000
    done = len(list(out.glob("*.json")))
    assert 1 <= done < 8
    with sqlite3.connect(out / "manifest.sqlite") as db:
        assert db.execute("SELECT stopped FROM runs").fetchall() == [("budget",)]
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert len(list(out.glob("*.json"))) == 8


def test_a_per_article_budget_fails_that_article_in_a_batch(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, 2)
    settings = Settings(base_url=server.base_url, model="m", max_retries=0, budget_tokens=500)
    result = summarize_folder(folder, out_dir=tmp_path / "out", settings=settings)
    assert result.failed == {"budget": 2} and server.chat_requests == []
