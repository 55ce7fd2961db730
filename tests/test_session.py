"""One Session behind every entry point: a shared call cache, the async API, the import surface."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyst import (
    ConfigError,
    Report,
    Session,
    Settings,
    asummarize_file,
    asummarize_text,
    summarize_file,
    summarize_folder,
)
from analyst.cli import app
from analyst.evaluation.articles import rouge
from analyst.prompts import Prompts
from analyst.testing import FakeChatClient, extractive_responder
from tests.conftest import EXAMPLES, ROOT
from tests.fakeserver import FakeOpenAIServer


def _settings(server: FakeOpenAIServer, cache: Path) -> Settings:
    return Settings(base_url=server.base_url, model="m", max_retries=0, cache=True, cache_dir=cache)


def test_a_batch_after_summarize_makes_no_call(server: FakeOpenAIServer, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bridge.txt").write_bytes((EXAMPLES / "harbor-bridge.txt").read_bytes())
    settings = _settings(server, tmp_path / "cache")
    single = summarize_file(folder / "bridge.txt", settings=settings)
    assert len(server.chat_requests) == 3
    result = summarize_folder(folder, out_dir=tmp_path / "out", settings=settings)
    assert result.ok == 1 and result.calls == 0 and result.cache_hits == 3
    assert len(server.chat_requests) == 3  # the batch paid for nothing summarize had paid for
    written = Report.model_validate_json((tmp_path / "out" / "bridge.txt.json").read_text("utf-8"))
    assert written.summary == single.summary and written.facts == single.facts


def test_the_cli_batch_answers_from_the_summarize_cache(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    article = tmp_path / "in" / "grid.txt"
    article.parent.mkdir()
    article.write_bytes((EXAMPLES / "grid-battery.txt").read_bytes())
    common = ["--base-url", server.base_url, "--model", "m"]
    runner = CliRunner()
    assert runner.invoke(app, ["summarize", str(article), "-f", "json", *common]).exit_code == 0
    sent = len(server.chat_requests)
    done = runner.invoke(app, ["batch", str(article.parent), "-o", str(tmp_path / "out"), *common])
    assert done.exit_code == 0, done.output
    assert len(server.chat_requests) == sent


def test_async_api_inside_a_running_loop(server: FakeOpenAIServer, tmp_path: Path) -> None:
    settings = _settings(server, tmp_path / "cache")
    path = EXAMPLES / "harbor-bridge.txt"

    async def main() -> tuple[str, str]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        beat = asyncio.create_task(ticker())
        from_file = await asummarize_file(path, settings=settings)
        from_text = await asummarize_text(path.read_text("utf-8"), settings=settings)
        beat.cancel()
        assert ticks > 1  # the loop kept running while the reports were written
        return from_file.summary, from_text.summary

    file_summary, text_summary = asyncio.run(main())
    assert file_summary == text_summary
    assert len(server.chat_requests) == 3  # the second came from the cache


def test_summarize_folder_inside_a_loop_says_what_to_use(tmp_path: Path) -> None:
    async def main() -> None:
        summarize_folder(tmp_path, out_dir=tmp_path / "out", client=FakeChatClient())

    with pytest.raises(ConfigError, match="asummarize_folder"):
        asyncio.run(main())


def test_a_session_reports_many_articles_on_one_client() -> None:
    fake = FakeChatClient(responder=extractive_responder)
    with Session(Settings(), client=fake) as session:
        for path in sorted(EXAMPLES.glob("*.txt")):
            data = path.read_bytes()
            report = session.report(session.read(data, name=path.name))
            assert report.facts and report.model.name == "fake-model"
    assert len(fake.calls) == 6


def test_the_reask_message_is_a_prompt_file(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "reask.md").write_text("Wrong ($error). Again, JSON only.", "utf-8")
    fake = FakeChatClient(["not json"], responder=extractive_responder)
    with Session(Settings(prompts_dir=prompts), client=fake) as session:
        text = (EXAMPLES / "grid-battery.txt").read_text("utf-8")
        session.report(session.read(text))
    reask = fake.calls[1].messages[-1]["content"]
    assert reask.startswith("Wrong (invalid JSON") and reask.endswith("Again, JSON only.")


def test_every_prompt_is_a_file_at_the_top_level() -> None:
    files = {p.stem for p in (ROOT / "prompts").glob("*.md")}
    loaded = Prompts.load()
    assert files == set(loaded.templates)
    for name in files:
        assert loaded.templates[name] == (ROOT / "prompts" / f"{name}.md").read_text("utf-8")


def test_import_analyst_stays_light() -> None:
    code = (
        "import sys, analyst; heavy = ('rich', 'ray', 'trafilatura', 'openai', 'rouge_score');"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_eval_without_rouge_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rouge_score", None)  # as if the eval extra were missing
    with pytest.raises(ConfigError, match=r"analyst\[eval\]"):
        rouge("a summary", "a reference")


def test_help_groups_the_flags_in_panels() -> None:
    result = CliRunner().invoke(app, ["batch", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for panel in ("Input", "Output", "Model", "Limits", "Batch", "Engines"):
        assert f"─ {panel}" in result.stdout
    assert "local|ray" in result.stdout and "facts|verify|synthesis" in result.stdout
    summarize = CliRunner().invoke(app, ["summarize", "--help"], env={"COLUMNS": "120"})
    assert "-m" in summarize.stdout and "rich|json|md" in summarize.stdout


def test_a_manifest_that_kept_its_replies_hands_them_to_the_shared_cache(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bridge.txt").write_bytes((EXAMPLES / "harbor-bridge.txt").read_bytes())
    first = summarize_folder(
        folder, out_dir=tmp_path / "a", settings=_settings(server, tmp_path / "c1")
    )
    assert first.calls == 3
    # A manifest of the earlier layout: the batch's replies in its own `calls` table.
    old = tmp_path / "b"
    old.mkdir()
    shutil.copy(tmp_path / "c1" / "calls.sqlite", old / "manifest.sqlite")
    again = summarize_folder(folder, out_dir=old, settings=_settings(server, tmp_path / "c2"))
    assert again.ok == 1 and again.calls == 0 and again.cache_hits == 3
    assert len(server.chat_requests) == 3
    with sqlite3.connect(old / "manifest.sqlite") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "calls" not in tables and "files" in tables
