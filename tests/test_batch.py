"""`analyst batch` / `summarize_folder` against the loopback server: outputs, manifest, resume."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyst import Report, Settings
from analyst.batch import summarize_folder
from analyst.batch.folders import find_articles
from analyst.cli import app
from analyst.errors import ConfigError, InputError
from analyst.testing import FakeChatClient, extractive_responder
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer, error, reply

ODD_NAME = "odd name – ünï ✓.txt"


def _folder(root: Path) -> Path:
    """Two good articles at the top, one nested, one with an odd name, an empty and a binary file,
    a link out of the tree, a hidden file and a file that is not an article."""
    folder = root / "articles"
    (folder / "2026" / "11").mkdir(parents=True)
    bridge = (EXAMPLES / "harbor-bridge.txt").read_text("utf-8")
    grid = (EXAMPLES / "grid-battery.txt").read_text("utf-8")
    (folder / "bridge.txt").write_text(bridge, "utf-8")
    (folder / "grid.md").write_text(grid, "utf-8")
    # Variants differ in their first sentences, so no two articles share a model call.
    again = bridge.replace("voted 7–2", "voted 8–1")
    (folder / "2026" / "11" / "bridge-again.txt").write_text(again, "utf-8")
    (folder / ODD_NAME).write_text(grid.replace("on Thursday", "on Friday"), "utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / ".hidden.txt").write_text(bridge, "utf-8")
    (folder / "notes.csv").write_text("a,b\n", "utf-8")
    outside = root / "secret.txt"
    outside.write_text("Do not read this file; it is outside the folder.", "utf-8")
    (folder / "escape.txt").symlink_to(outside)
    return folder


def _rows(out: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(out / "manifest.sqlite") as db:
        db.row_factory = sqlite3.Row
        return {r["path"]: dict(r) for r in db.execute("SELECT * FROM files")}


def _args(server: FakeOpenAIServer, folder: Path, out: Path, *more: str) -> list[str]:
    return ["batch", str(folder), "-o", str(out), "--base-url", server.base_url, *more]


def test_mixed_folder_writes_reports_records_failures_and_exits_8(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    result = CliRunner().invoke(app, _args(server, folder, out, "--format", "json,md"))
    assert result.exit_code == 8, result.output
    good = ["bridge.txt", "grid.md", "2026/11/bridge-again.txt", ODD_NAME]
    for name in good:
        report = Report.model_validate_json((out / f"{name}.json").read_text("utf-8"))
        assert report.facts and all(f.grounded for f in report.facts)
        assert (out / f"{name}.md").read_text("utf-8").startswith("# ")
    rows = _rows(out)
    assert sorted(rows) == sorted([*good, "empty.txt", "binary.txt"])
    assert {p for p, r in rows.items() if r["status"] == "ok"} == set(good)
    assert rows["empty.txt"]["error_kind"] == "input" and "empty" in rows["empty.txt"]["error"]
    assert rows["binary.txt"]["error_kind"] == "input"
    assert rows["bridge.txt"]["calls"] == 3 and len(rows["bridge.txt"]["sha256"]) == 64
    assert json.loads(rows["bridge.txt"]["outputs"]) == ["bridge.txt.json", "bridge.txt.md"]
    # Nothing of the link's target was read, nothing hidden, no CSV, nothing outside -o.
    assert "escape.txt" in result.stderr and "leads out of" in result.stderr
    assert not any("secret" in r["content"] for r in server.chat_requests[0]["messages"])
    assert len(server.chat_requests) == 3 * len(good)
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == {f"{n}.{x}" for n in good for x in ("json", "md")} | {
        "manifest.sqlite",
        ".analyst.lock",
    } | {w for w in written if w.startswith("manifest.sqlite-")}
    assert "2 of 6 articles failed" in result.stderr
    assert "failed: input" in result.stdout


def test_second_run_sends_nothing_to_the_server(server: FakeOpenAIServer, tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    first = summarize_folder(folder, out_dir=out, settings=_settings(server))
    sent = len(server.chat_requests)
    assert first.ok == 4 and first.failed == {"input": 2} and sent == 12
    second = summarize_folder(folder, out_dir=out, settings=_settings(server))
    assert len(server.chat_requests) == sent
    assert second.skipped == 4 and second.ok == 0 and second.calls == 0
    assert second.failed == {"input": 2}  # failures are tried again (cheaply: no calls)


def test_a_new_format_is_written_from_the_cache(server: FakeOpenAIServer, tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server))
    sent = len(server.chat_requests)
    again = summarize_folder(
        folder, out_dir=out, settings=_settings(server), formats=["json", "md"]
    )
    assert again.ok == 4 and again.cache_hits == 12 and len(server.chat_requests) == sent
    assert (out / "grid.md.md").is_file()


def test_changed_synthesis_request_reruns_only_synthesis(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server))
    sent = len(server.chat_requests)
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "synthesize_input.md").write_text('Task "synthesize", as JSON, in $language.')
    again = summarize_folder(folder, out_dir=out, settings=_settings(server, prompts_dir=prompts))
    new = server.chat_requests[sent:]
    assert len(new) == 4
    assert {r["response_format"]["json_schema"]["name"] for r in new} == {"interpretation"}
    assert again.ok == 4 and again.cache_hits == 8 and again.calls == 4


def test_changed_task_prompt_reruns_every_call(server: FakeOpenAIServer, tmp_path: Path) -> None:
    # Every task is in the one system text every call begins with (the shared prefix), so a
    # changed task is a changed prompt for every call.
    folder, out = _folder(tmp_path), tmp_path / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server))
    sent = len(server.chat_requests)
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "synthesize.md").write_text("Write the implications and the analysis.")
    again = summarize_folder(folder, out_dir=out, settings=_settings(server, prompts_dir=prompts))
    assert again.ok == 4 and again.cache_hits == 0 and again.calls == 12
    assert len(server.chat_requests) == sent + 12


def test_an_edited_article_is_redone(server: FakeOpenAIServer, tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server))
    sent = len(server.chat_requests)
    path = folder / "grid.md"
    path.write_text(path.read_text("utf-8").replace("megawatt", "MW"), "utf-8")
    again = summarize_folder(folder, out_dir=out, settings=_settings(server))
    assert again.ok == 1 and again.skipped == 3
    assert len(server.chat_requests) == sent + 3


def test_retry_failed_takes_up_only_the_failures(server: FakeOpenAIServer, tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server))
    (folder / "empty.txt").write_text((EXAMPLES / "harbor-bridge.txt").read_text("utf-8"))
    (folder / "new.txt").write_text((EXAMPLES / "grid-battery.txt").read_text("utf-8"))
    again = summarize_folder(folder, out_dir=out, settings=_settings(server), retry_failed=True)
    assert again.ok == 1 and again.failed == {"input": 1} and again.skipped == 5
    assert (out / "empty.txt.json").is_file() and not (out / "new.txt.json").exists()


def test_force_redoes_every_report_but_the_cache_still_answers(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server))
    sent = len(server.chat_requests)
    again = summarize_folder(folder, out_dir=out, settings=_settings(server), force=True)
    assert again.ok == 4 and again.skipped == 0 and again.cache_hits == 12
    assert len(server.chat_requests) == sent
    with pytest.raises(ConfigError, match="contradict"):
        summarize_folder(
            folder, out_dir=out, settings=_settings(server), force=True, retry_failed=True
        )


def test_invalid_model_output_fails_one_article_and_the_batch_goes_on(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text((EXAMPLES / "harbor-bridge.txt").read_text("utf-8"))
    (folder / "b.txt").write_text((EXAMPLES / "grid-battery.txt").read_text("utf-8"))
    # a.txt's extraction and its two re-asks get no JSON.
    server.enqueue_for("Riverton", *[reply("not json at all")] * 3)
    result = summarize_folder(folder, out_dir=tmp_path / "out", settings=_settings(server))
    assert result.ok == 1 and result.failed == {"model-output": 1}
    path, kind, message = result.failures[0]
    assert (path, kind) == ("a.txt", "model-output") and "invalid after 3 attempts" in message
    row = _rows(tmp_path / "out")["a.txt"]
    assert row["status"] == "failed" and row["calls"] == 3  # the failed attempts are counted


def test_a_refused_key_stops_the_batch_with_exit_4(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    server.enqueue(*[error(401, "Incorrect API key provided: sk-canar***")] * 20)
    key = "sk-canary-batch-0123456789"
    result = CliRunner().invoke(app, [*_args(server, folder, out), "--api-key", key])
    assert result.exit_code == 4
    assert "refused the API key" in result.stderr and key not in result.output
    assert len(server.chat_requests) <= 4  # it stopped instead of trying every article


def test_concurrency_keeps_that_many_requests_in_flight(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    text = (EXAMPLES / "grid-battery.txt").read_text("utf-8")
    for i in range(8):
        (folder / f"{i}.txt").write_text(f"{text}\nEdition {i}.")
    server.delay = 0.2
    result = summarize_folder(
        folder, out_dir=tmp_path / "out", settings=_settings(server), concurrency=4
    )
    assert result.ok == 8
    assert server.peak_in_flight == 4


def test_a_blocking_client_runs_in_threads(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text((EXAMPLES / "harbor-bridge.txt").read_text() + f" {i}.")
    fake = FakeChatClient(responder=extractive_responder)
    result = summarize_folder(
        folder, out_dir=tmp_path / "out", client=fake, settings=Settings(cache=False)
    )
    assert result.ok == 3 and len(fake.calls) == 9


def test_the_output_folder_inside_the_input_is_not_read(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    out = folder / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server), formats=["json", "md"])
    again = summarize_folder(
        folder, out_dir=out, settings=_settings(server), formats=["json", "md"]
    )
    assert again.total == 6  # the .md reports were not taken for articles


def test_one_batch_at_a_time_per_output_folder(server: FakeOpenAIServer, tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    out.mkdir()
    with open(out / ".analyst.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ConfigError, match="another analyst batch"):
            summarize_folder(folder, out_dir=out, settings=_settings(server))


def test_glob_selects_and_bad_folders_are_input_errors(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    result = summarize_folder(folder, out_dir=out, settings=_settings(server), pattern="2026/**/*")
    assert result.total == 1 and (out / "2026/11/bridge-again.txt.json").is_file()
    with pytest.raises(InputError, match="no articles matching"):
        summarize_folder(folder, out_dir=out, settings=_settings(server), pattern="*.pdf")
    with pytest.raises(InputError, match="does not exist"):
        summarize_folder(tmp_path / "nope", out_dir=out, settings=_settings(server))
    with pytest.raises(ConfigError, match="inside the folder"):
        find_articles(folder, pattern="../*.txt")


def test_undecodable_file_names_are_handled(server: FakeOpenAIServer, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9.txt"  # latin-1 bytes, not UTF-8
    with open(raw, "wb") as f:
        f.write((EXAMPLES / "grid-battery.txt").read_bytes())
    result = summarize_folder(folder, out_dir=tmp_path / "out", settings=_settings(server))
    assert result.ok == 1
    assert list(_rows(tmp_path / "out")) == ["caf\\xe9.txt"]
    assert os.path.exists(os.fsencode(tmp_path / "out") + b"/caf\xe9.txt.json")


def _settings(server: FakeOpenAIServer, **kw: Any) -> Settings:
    # The call cache is shared by every run of a cache folder: this test's own (see conftest).
    cache_dir = Path(os.environ["ANALYST_CACHE_DIR"])
    return Settings(
        base_url=server.base_url,
        model="fake-model",
        max_retries=0,
        cache=True,
        cache_dir=cache_dir,
        **kw,
    )


# ---- crash safety, in a real subprocess ------------------------------------------------------


def _spawn(
    server: FakeOpenAIServer, folder: Path, out: Path, tmp_path: Path
) -> subprocess.Popen[str]:
    env = {**os.environ, "ANALYST_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.Popen(
        [sys.executable, "-m", "analyst", *_args(server, folder, out, "--concurrency", "3")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_ok(out: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (out / "manifest.sqlite").exists():
            try:
                if sum(r["status"] == "ok" for r in _rows(out).values()) >= n:
                    return
            except sqlite3.OperationalError:
                pass  # the table is not there yet
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} reports after {timeout} s")


def _many(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    text = (EXAMPLES / "grid-battery.txt").read_text("utf-8")
    for i in range(n):
        (folder / f"{i:02}.txt").write_text(f"{text}\nEdition {i}.", "utf-8")
    return folder


def test_kill_9_mid_batch_then_resume_gives_every_report_once(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _many(tmp_path, 12), tmp_path / "reports"
    server.delay = 0.15
    proc = _spawn(server, folder, out, tmp_path)
    _wait_for_ok(out, 3)
    proc.kill()  # SIGKILL: no handler runs
    proc.communicate()
    rows = _rows(out)
    assert 3 <= sum(r["status"] == "ok" for r in rows.values()) < 12
    assert any(r["status"] == "running" for r in rows.values())  # in flight when killed
    sent = len(server.chat_requests)
    server.delay = 0.0
    resumed = _spawn(server, folder, out, tmp_path)
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    rows = _rows(out)
    assert sorted(rows) == [f"{i:02}.txt" for i in range(12)]
    assert all(r["status"] == "ok" for r in rows.values())
    for i in range(12):
        report = Report.model_validate_json((out / f"{i:02}.txt.json").read_text("utf-8"))
        assert f"Edition {i}." in (folder / f"{i:02}.txt").read_text() and report.facts
    assert not list(out.rglob("*.tmp"))
    # Resuming paid only for the articles not finished: at most 2 calls each.
    done_before = 3
    assert len(server.chat_requests) - sent <= 3 * (12 - done_before)


def test_ctrl_c_finishes_what_is_in_flight_and_says_how_to_resume(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _many(tmp_path, 12), tmp_path / "reports"
    server.delay = 0.15
    proc = _spawn(server, folder, out, tmp_path)
    _wait_for_ok(out, 2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "run the same command again to resume" in stderr
    rows = _rows(out)
    # Those that had asked the model finished; those still waiting for a slot gave it up.
    finished = {p for p, r in rows.items() if r["status"] == "ok"}
    assert 2 <= len(finished) < 12, (stderr, rows)
    assert {r["status"] for p, r in rows.items() if p not in finished} <= {"interrupted"}
    for path in finished:
        Report.model_validate_json((out / f"{path}.json").read_text("utf-8"))
    resumed = _spawn(server, folder, out, tmp_path)
    resumed.communicate(timeout=120)
    assert resumed.returncode == 0
    assert sum(r["status"] == "ok" for r in _rows(out).values()) == 12


def test_a_dead_server_stops_the_batch_instead_of_failing_every_article(tmp_path: Path) -> None:
    folder, out = _many(tmp_path, 30), tmp_path / "reports"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["batch", str(folder), "-o", str(out), "--base-url", f"http://127.0.0.1:{port}/v1"]
    result = CliRunner().invoke(app, [*args, "--model", "m", "--max-retries", "0"])
    assert result.exit_code == 4, result.output
    assert "articles in a row failed on the model server" in result.stderr
    assert "cannot connect" in result.stderr
    statuses = [r["status"] for r in _rows(out).values()]
    assert statuses.count("failed") < 30 and "ok" not in statuses


def test_a_setting_that_changes_reports_redoes_them(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path), tmp_path / "reports"
    summarize_folder(folder, out_dir=out, settings=_settings(server))
    again = summarize_folder(folder, out_dir=out, settings=_settings(server, language="fr"))
    assert again.ok == 4 and again.skipped == 0
    report = json.loads((out / "bridge.txt.json").read_text("utf-8"))
    assert report["language"] == "fr"
