"""Provider batches: --submit openai-batch, and --export-batch / --import-batch, against the
loopback server's Batch API (files, batches, expiry, failed lines, failed validation)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyst.cli import app
from analyst.testing import extractive_responder
from tests.fakeserver import BatchPlan, FakeOpenAIServer, error, reply

ARTICLES = {
    "bridge.txt": "Harbor Bridge Vote\n\nThe city council voted 7-2 on Tuesday to replace the "
    "Harbor Bridge. The state will pay $250 million of the cost.\n\nConstruction begins in April "
    "2027 and ends in 2030, the city's engineers said.",
    "grid.txt": "Battery Plant Opens\n\nNorthfield Electric switched on a 300-megawatt battery "
    "plant on Monday. It can power 200,000 homes for four hours.\n\nThe utility said prices at "
    "peak hours should fall by a tenth next year.",
    "tram.md": "# Tramway Approved\n\nThe metropole approved the T10 tramway with 112 votes on "
    "Monday evening. The line will carry 40,000 passengers a day.\n\nShop owners on the avenue "
    "asked for compensation during three years of works.",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    source = tmp_path / "in"
    source.mkdir()
    for name, text in ARTICLES.items():
        (source / name).write_text(text, "utf-8")
    return source


def _batch(server: FakeOpenAIServer, source: Path, out: Path, *extra: str) -> Any:
    args = ["batch", str(source), "-o", str(out), "--base-url", server.base_url, "--model", "m"]
    return CliRunner().invoke(app, [*args, *extra])


def _reports(out: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(out.rglob("*.json")):
        report = json.loads(path.read_text("utf-8"))
        found[path.name] = {k: report[k] for k in ("summary", "facts", "implications", "analysis")}
    return found


def test_submit_gives_the_reports_of_direct_calls_in_two_rounds(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    # --no-cache: the reference run must not answer the rounds from the shared call cache.
    direct = _batch(server, folder, tmp_path / "direct", "--no-cache")
    assert direct.exit_code == 0, direct.output
    sent_directly = len(server.chat_requests)
    result = _batch(
        server, folder, tmp_path / "rounds", "--submit", "openai-batch", "--poll-seconds", "0.01"
    )
    assert result.exit_code == 0, result.output
    assert len(server.chat_requests) == sent_directly  # nothing went to /chat/completions
    assert _reports(tmp_path / "rounds") == _reports(tmp_path / "direct") != {}
    # Round 1: the three extractions; round 2: the summaries; round 3: the analyses.
    schemas = [
        line["body"]["response_format"]["json_schema"]["name"] for line in server.batch_lines
    ]
    assert schemas == ["extraction"] * 3 + ["summary"] * 3 + ["interpretation"] * 3
    assert len(server.batches) == 3
    body = server.batch_lines[0]
    assert (body["method"], body["url"]) == ("POST", "/v1/chat/completions")
    # A second run is answered by the manifest: no new batch.
    again = _batch(
        server, folder, tmp_path / "rounds", "--submit", "openai-batch", "--poll-seconds", "0.01"
    )
    assert again.exit_code == 0 and len(server.batches) == 3


def test_expired_requests_go_into_the_next_round(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.batch_plans.append(BatchPlan(polls=2, expire_after=1))
    result = _batch(
        server, folder, tmp_path / "out", "--submit", "openai-batch", "--poll-seconds", "0.01"
    )
    assert result.exit_code == 0, result.output
    assert len(_reports(tmp_path / "out")) == 3
    # 1 extraction answered before expiry; the 2 others retried beside the first summary.
    sizes = [b["request_counts"]["total"] for b in server.batches.values()]
    assert sizes == [3, 3, 3, 2]


def test_a_failed_line_fails_only_its_article_and_retry_failed_redoes_it(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.enqueue_for("Battery Plant", error(500, "the model crashed"))
    out = tmp_path / "out"
    result = _batch(server, folder, out, "--submit", "openai-batch", "--poll-seconds", "0.01")
    assert result.exit_code == 8, result.output
    assert sorted(_reports(out)) == ["bridge.txt.json", "tram.md.json"]
    retry = _batch(
        server, folder, out, "--submit", "openai-batch", "--poll-seconds", "0.01", "--retry-failed"
    )
    assert retry.exit_code == 0, retry.output
    assert sorted(_reports(out)) == ["bridge.txt.json", "grid.txt.json", "tram.md.json"]


def test_a_batch_that_fails_validation_fails_its_articles_with_the_reason(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.batch_plans.append(BatchPlan(polls=0, invalid="model m is not available for batches"))
    out = tmp_path / "out"
    result = _batch(server, folder, out, "--submit", "openai-batch", "--poll-seconds", "0.01")
    assert result.exit_code == 8
    assert "not available for batches" in result.output
    assert _reports(out) == {}


def test_submit_refuses_the_embedded_model(folder: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["batch", str(folder), "-o", str(tmp_path / "o"), "--submit", "openai-batch"]
    )
    assert result.exit_code == 2 and "--export-batch" in result.output


def _run_requests(path: Path) -> str:
    """What `vllm run-batch` or OpenAI would write for a request file (extractive answers)."""
    from analyst.model.seam import OutputSchema

    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines()):
        request = json.loads(line)
        body = request["body"]
        fmt = body["response_format"]["json_schema"]
        content = json.dumps(
            extractive_responder(body["messages"], OutputSchema(fmt["name"], fmt["schema"]))
        )
        completion = {
            "id": f"cmpl-{n}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }
        out.append(
            {
                "id": f"req-{n}",
                "custom_id": request["custom_id"],
                "response": {"status_code": 200, "request_id": f"r{n}", "body": completion},
                "error": None,
            }
        )
    return "".join(json.dumps(row) + "\n" for row in out)


def _schema_names(path: Path) -> list[str]:
    """The schema name of each request line of an exported batch file."""
    lines = path.read_text("utf-8").splitlines()
    return [json.loads(x)["body"]["response_format"]["json_schema"]["name"] for x in lines]


def test_export_and_import_rounds_write_the_same_reports(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    # --no-cache: the reference run must not answer the rounds from the shared call cache.
    direct = _batch(server, folder, tmp_path / "direct", "--no-cache")
    assert direct.exit_code == 0
    out, sent = tmp_path / "out", len(server.requests)
    facts = tmp_path / "facts.jsonl"
    first = _batch(server, folder, out, "--export-batch", str(facts), "--stage", "facts")
    assert first.exit_code == 0, first.output
    assert "3 articles wait" in first.output and len(server.requests) == sent
    lines = [json.loads(x) for x in facts.read_text("utf-8").splitlines()]
    assert len(lines) == 3 and {x["url"] for x in lines} == {"/v1/chat/completions"}
    results = tmp_path / "facts-results.jsonl"
    results.write_text(_run_requests(facts), "utf-8")
    synth = tmp_path / "synth.jsonl"
    second = _batch(
        server, folder, out, "--import-batch", str(results), "--export-batch", str(synth)
    )
    assert second.exit_code == 0, second.output
    assert "imported 3 replies" in second.output
    assert _schema_names(synth) == ["summary"] * 3
    synth_results = tmp_path / "synth-results.jsonl"
    synth_results.write_text(_run_requests(synth), "utf-8")
    analyses = tmp_path / "analyses.jsonl"
    third = _batch(
        server, folder, out, "--import-batch", str(synth_results), "--export-batch", str(analyses)
    )
    assert third.exit_code == 0, third.output
    assert _schema_names(analyses) == ["interpretation"] * 3
    analyses_results = tmp_path / "analyses-results.jsonl"
    analyses_results.write_text(_run_requests(analyses), "utf-8")
    fourth = _batch(server, folder, out, "--import-batch", str(analyses_results))
    assert fourth.exit_code == 0, fourth.output
    assert len(server.requests) == sent  # no model server was asked anything
    assert _reports(out) == _reports(tmp_path / "direct")


def test_import_rejects_a_file_that_is_not_batch_results(folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": 1}\n', "utf-8")
    result = CliRunner().invoke(
        app,
        [
            "batch",
            str(folder),
            "-o",
            str(tmp_path / "o"),
            "--import-batch",
            str(bad),
            "--model",
            "m",
        ],
    )
    assert result.exit_code == 3 and "bad.jsonl:1" in result.output


def test_a_run_killed_while_polling_collects_its_batch_instead_of_paying_again(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.batch_plans.append(BatchPlan(polls=10_000))  # the first batch never finishes in time
    out = tmp_path / "out"
    args = [sys.executable, "-m", "analyst", "batch", str(folder), "-o", str(out)]
    args += ["--base-url", server.base_url, "--model", "m", "--submit", "openai-batch"]
    child = subprocess.Popen(
        [*args, "--poll-seconds", "0.05"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not server.batches and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    (first,) = server.batches.values()
    first["_plan"].polls = 0  # the provider finishes it while nobody is polling
    result = _batch(server, folder, out, "--submit", "openai-batch", "--poll-seconds", "0.01")
    assert result.exit_code == 0, result.output
    assert "collecting batch" in result.output
    assert len(_reports(out)) == 3
    # The extractions were paid once; only the summaries and analyses made new batches.
    schemas = [
        line["body"]["response_format"]["json_schema"]["name"] for line in server.batch_lines
    ]
    assert schemas == ["extraction"] * 3 + ["summary"] * 3 + ["interpretation"] * 3
    assert len(server.batches) == 3


def test_identical_articles_share_one_line(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    (folder / "copy.txt").write_text(ARTICLES["bridge.txt"], "utf-8")
    result = _batch(
        server, folder, tmp_path / "out", "--submit", "openai-batch", "--poll-seconds", "0.01"
    )
    assert result.exit_code == 0, result.output
    assert len(_reports(tmp_path / "out")) == 4
    assert [b["request_counts"]["total"] for b in server.batches.values()] == [3, 3, 3]


def test_scripted_reply_shapes_are_validated_like_any_other(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    # An invalid reply from the batch is re-asked in the next round, like a direct one.
    server.enqueue_for("Tramway Approved", reply("not json at all"))
    result = _batch(
        server, folder, tmp_path / "out", "--submit", "openai-batch", "--poll-seconds", "0.01"
    )
    assert result.exit_code == 0, result.output
    assert len(_reports(tmp_path / "out")) == 3
    assert [b["request_counts"]["total"] for b in server.batches.values()] == [3, 3, 3, 1]


def test_verify_adds_a_third_round(server: FakeOpenAIServer, folder: Path, tmp_path: Path) -> None:
    result = _batch(
        server,
        folder,
        tmp_path / "out",
        "--submit",
        "openai-batch",
        "--poll-seconds",
        "0.01",
        "--verify",
    )
    assert result.exit_code == 0, result.output
    schemas = [
        line["body"]["response_format"]["json_schema"]["name"] for line in server.batch_lines
    ]
    assert (
        schemas
        == ["extraction"] * 3 + ["judgements"] * 3 + ["summary"] * 3 + ["interpretation"] * 3
    )
    reports = _reports(tmp_path / "out")
    assert all(f["verification"] for r in reports.values() for f in r["facts"])
