"""Every server fault, once (recovered) and always (one clean line and its exit code)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from analyst.cli import app
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer, Scripted, error, fault, reply

ARTICLE = str(EXAMPLES / "harbor-bridge.txt")

# name: (the fault, exit code when it persists, words of the one-line error)
FAULTS: dict[str, tuple[Scripted, int, str]] = {
    "429 Retry-After": (error(429, "slow down", {"Retry-After": "0"}), 4, "rate limiting (429)"),
    "500": (error(500, "boom"), 4, "answered 500"),
    "502": (error(502, "bad gateway"), 4, "answered 502"),
    "503": (error(503, "unavailable"), 4, "answered 503"),
    "connection reset": (fault("reset"), 4, "cannot connect"),
    # Streamed (the default): half the reply, then 2.5 s of nothing.
    "stall past the timeout": (fault("stall", 2.5), 4, "reply for 1 s (after 2 retries)"),
    "malformed JSON": (fault("malformed"), 4, "not JSON"),
    "JSON of the wrong shape": (fault("wrong_shape"), 4, "has no choices"),
    "empty content": (reply(""), 5, "invalid after 3 attempts"),
    "finish_reason length": (reply('{"facts": [', finish_reason="length"), 5, "did not fit"),
}
# Faults that are final from the first answer: never retried, a clear message.
FINAL: dict[str, tuple[Scripted, int, str]] = {
    "refusal": (reply("", refusal="I can't help with that."), 5, "the model refused"),
    "401": (error(401, "Incorrect API key provided"), 4, "refused the API key (401)"),
    "404 unknown model": (error(404, "model not found"), 4, "it serves: fake-model"),
}


def _run(server: FakeOpenAIServer, *more: str) -> Any:
    args = ["summarize", ARTICLE, "--format", "json", "--base-url", server.base_url]
    args += ["--model", "m", "--timeout", "1", "--max-retries", "2", "--no-cache", *more]
    return CliRunner().invoke(app, args)


def _clean_failure(result: Any, code: int, words: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("analyst: error: ") and words in lines[0], lines
    assert "Traceback" not in result.output and result.stdout == ""
    assert not result.exception or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_transient_fault_is_recovered(server: FakeOpenAIServer, name: str) -> None:
    server.enqueue(FAULTS[name][0])
    result = _run(server)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["facts"] and report["summary"]
    if name in ("empty content", "finish_reason length"):
        # The failed attempt's tokens are in the usage: 2 extraction calls, summary, analysis.
        assert report["usage"]["calls"] == 4 and report["usage"]["repairs"] == 1


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_persistent_fault_ends_in_one_line_and_its_exit_code(
    server: FakeOpenAIServer, name: str
) -> None:
    item, code, words = FAULTS[name]
    server.always = item
    _clean_failure(_run(server), code, words)


@pytest.mark.parametrize("name", list(FINAL))
def test_final_answers_are_not_retried(server: FakeOpenAIServer, name: str) -> None:
    item, code, words = FINAL[name]
    server.enqueue(item)
    _clean_failure(_run(server), code, words)
    assert len(server.chat_requests) == 1


def test_a_slow_drip_within_the_timeout_is_just_slow(server: FakeOpenAIServer) -> None:
    server.always = fault("drip", 0.6)  # every answer a few bytes at a time, never idle for 1 s
    result = _run(server)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["facts"]


# ---- streamed replies: the timeout bounds a silence, never a reply that is still coming -------


def test_a_streamed_reply_longer_than_the_timeout_is_taken_while_it_keeps_coming(
    server: FakeOpenAIServer,
) -> None:
    # Each reply takes 1.5 s in all, against a 1 s timeout: the Thai article's case, where
    # the SDK gave up on a server still writing and queued its retries behind it.
    server.always = fault("drip", 1.5)
    result = _run(server, "--stream")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["facts"]
    assert all(r["stream"] is True for r in server.chat_requests)


def test_the_same_reply_unstreamed_is_waited_for_not_sent_again(server: FakeOpenAIServer) -> None:
    # Without a stream a reply is silent until it is whole. The server still answers a plain
    # request, so the request is taken to be queued or decoding there: kept, not sent again
    # behind itself (up to PATIENCE times the timeout).
    server.always = fault("stall", 1.5)
    result = _run(server, "--no-stream", "--max-retries", "0")
    assert result.exit_code == 0, result.output
    assert len(server.chat_requests) == 3 and server.resent_while_busy == 0


def test_a_stream_that_goes_silent_is_cut_off_in_one_line(server: FakeOpenAIServer) -> None:
    server.always = fault("stall", 2.5)  # half the reply, then nothing for 2.5 s
    _clean_failure(_run(server, "--stream", "--max-retries", "0"), 4, "stopped sending")


def test_a_streamed_report_is_the_unstreamed_report(server: FakeOpenAIServer) -> None:
    server.prompt_cache = "llama"
    streamed = json.loads(_run(server, "--stream").stdout)
    plain = json.loads(_run(server, "--no-stream").stdout)
    for report in (streamed, plain):
        report.pop("usage")
    assert streamed == plain and streamed["facts"]
    assert [r.get("stream", False) for r in server.chat_requests] == [True] * 3 + [False] * 3


def test_a_streamed_reply_tells_the_listener_and_keeps_its_counts(
    server: FakeOpenAIServer,
) -> None:
    from analyst import Settings, summarize_text
    from analyst.model.seam import Progress, progress_listener

    server.prompt_cache = "llama"
    seen: list[Progress] = []
    token = progress_listener.set(seen.append)
    try:
        settings = Settings(base_url=server.base_url, model="m", stream=True, max_retries=0)
        report = summarize_text((EXAMPLES / "harbor-bridge.txt").read_text(), settings=settings)
    finally:
        progress_listener.reset(token)
    assert report.facts and report.usage.prompt_tokens > 0
    assert report.usage.cached_prompt_tokens  # llama.cpp's timings.cache_n, in the last chunk
    first = [p for p in seen if p.text.startswith('{"facts"')]
    assert first and [p.tokens for p in first] == list(range(1, len(first) + 1))
    assert json.loads(first[-1].text)["facts"]  # the last call-back holds the whole reply
