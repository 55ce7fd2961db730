"""Each local server as users run it, played by the loopback server with its documented ways.

One test (or a few) per row of the README's table "Model servers": llama.cpp (slots, a queue,
its parser's 500, its context refusal), Ollama (invisible parallelism, a prompt cut to num_ctx
with 200 OK), LM Studio (json_object refused), vLLM (its metrics), and a server that will not
stream. The llama.cpp row is also run against a real llama.cpp server in test_local.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyst import Settings, summarize_text
from analyst.cli import app
from analyst.errors import ModelServerError
from analyst.model.openai import OpenAIChatClient
from analyst.model.seam import ChatRequest, OutputSchema
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer, error

ARTICLE = EXAMPLES / "harbor-bridge.txt"
PEG = "The model produced output that does not match the expected peg-native format"


def _articles(root: Path, n: int) -> Path:
    """``n`` articles that share no model call (each first sentence differs)."""
    folder = root / "articles"
    folder.mkdir()
    text = ARTICLE.read_text("utf-8")
    for i in range(n):
        (folder / f"a{i}.txt").write_text(text.replace("voted 7–2", f"voted {i + 5}–2"), "utf-8")
    return folder


def _batch(server: FakeOpenAIServer, folder: Path, out: Path, *more: str) -> Any:
    args = ["batch", str(folder), "-o", str(out), "--base-url", server.base_url, "--model", "m"]
    return CliRunner().invoke(app, [*args, "--no-cache", *more])


def _summarize(server: FakeOpenAIServer, *more: str) -> Any:
    args = ["summarize", str(ARTICLE), "--format", "json", "--base-url", server.base_url]
    return CliRunner().invoke(app, [*args, "--model", "m", "--no-cache", *more])


# ---- llama.cpp ---------------------------------------------------------------------------------


def test_llama_cpp_one_slot_batch_sends_one_request_at_a_time(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.play("llama.cpp", slots=1)
    server.delay = 0.05
    result = _batch(server, _articles(tmp_path, 3), tmp_path / "out", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "1 request at a time (llama.cpp runs 1 slot)" in result.stderr
    assert server.peak_in_flight == 1 and server.waiting == 0
    assert all(r["stream"] is True for r in server.chat_requests)


def test_llama_cpp_queued_requests_wait_their_turn_and_are_never_sent_twice(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # Four requests in flight at a one-slot server whose every reply takes 0.6 s, against a
    # 1 s timeout: the last in the queue hears nothing for 1.8 s. Before, it was abandoned and
    # sent again behind itself; now /slots says the server is at work, and it waits.
    server.play("llama.cpp", slots=1)
    server.delay = 0.6
    folder = _articles(tmp_path, 4)
    result = _batch(server, folder, tmp_path / "out", "--concurrency", "4", "--timeout", "1")
    assert result.exit_code == 0, result.output
    assert "4 requests at a time (--concurrency)" in result.stderr
    assert server.resent_while_busy == 0 and server.dropped == 0
    assert len(server.chat_requests) == 4 * 3  # extract, summary, analysis: once each
    assert "showed strain" in result.stderr  # and the batch held fewer in flight after


def test_llama_cpp_parser_500_steps_down_once_and_stays_there(server: FakeOpenAIServer) -> None:
    server.play("llama.cpp", slots=1)
    server.enqueue(error(500, PEG))
    result = _summarize(server)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["facts"]
    modes = [(r.get("response_format") or {}).get("type") for r in server.chat_requests]
    assert modes[:2] == ["json_schema", "json_object"]  # the same call, once more, one step down
    assert set(modes[2:]) == {"json_object"}  # and the rest of the run keeps to it


def test_llama_cpp_parser_500_in_the_stream_steps_down_too(server: FakeOpenAIServer) -> None:
    # With a stream, llama.cpp can also put its error in an event instead of the status line.
    server.play("llama.cpp", slots=1)
    server.stream_error = PEG
    result = _summarize(server)
    assert result.exit_code == 0, result.output
    modes = [(r.get("response_format") or {}).get("type") for r in server.chat_requests]
    assert modes[:2] == ["json_schema", "json_object"]


def test_llama_cpp_context_refusal_names_the_flag(server: FakeOpenAIServer) -> None:
    server.play("llama.cpp", slots=1, context=600)
    result = _summarize(server, "--max-retries", "0")
    assert result.exit_code == 6, result.output
    line = result.stderr.strip().splitlines()[0]
    assert "exceeds the available context size" in line and "-c" in line


# ---- Ollama ------------------------------------------------------------------------------------


def test_ollama_silent_truncation_is_refused_with_the_setting(server: FakeOpenAIServer) -> None:
    # Ollama keeps the end of a prompt longer than num_ctx and answers 200; /api/ps does not
    # list the model before its first request, so only the reply's usage can tell.
    server.play("ollama", context=512)
    server.ollama_lists_context = False
    result = _summarize(server)
    assert result.exit_code == 6, result.output
    line = result.stderr.strip().splitlines()[0]
    assert "read 512 prompt tokens of about" in line and "OLLAMA_CONTEXT_LENGTH" in line
    assert len(server.chat_requests) == 1  # not retried: it would be cut the same way


def test_ollama_known_context_refuses_before_sending(server: FakeOpenAIServer) -> None:
    server.play("ollama", context=512)  # the loaded model's context_length, from /api/ps
    server.models = ["m"]
    result = _summarize(server)
    assert result.exit_code == 6, result.output
    assert "ollama holds 512 tokens for m, and this prompt is about" in result.stderr
    assert server.chat_requests == []


def test_ollama_hidden_single_slot_queues_without_duplicates(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # OLLAMA_NUM_PARALLEL=1 cannot be seen. Requests beyond it wait in Ollama's queue with the
    # connection open: analyst keeps them there (sending again would only requeue them), and
    # holds fewer in flight from then on.
    server.play("ollama", slots=1)
    server.delay = 0.5
    folder = _articles(tmp_path, 4)
    result = _batch(server, folder, tmp_path / "out", "--timeout", "1")
    assert result.exit_code == 0, result.output
    assert "ollama does not say how many requests it runs at once" in result.stderr
    assert server.resent_while_busy == 0 and server.dropped == 0
    assert len(server.chat_requests) == 4 * 3
    assert "went down to" in result.stderr


def test_ollama_fits_when_the_context_is_large_enough(server: FakeOpenAIServer) -> None:
    server.play("ollama", context=8192)
    result = _summarize(server)
    assert result.exit_code == 0, result.output


# ---- LM Studio ---------------------------------------------------------------------------------


def test_lm_studio_refuses_json_object_and_the_ladder_goes_on_to_the_prompt(
    server: FakeOpenAIServer,
) -> None:
    server.play("lm-studio", context=8192)
    server.reject_modes.add("json_schema")  # as for a model whose schema it cannot compile
    result = _summarize(server)
    assert result.exit_code == 0, result.output
    modes = [(r.get("response_format") or {}).get("type") for r in server.chat_requests]
    assert modes[:3] == ["json_schema", "json_object", None]
    assert set(modes[3:]) == {None}


# ---- vLLM --------------------------------------------------------------------------------------


def test_vllm_metrics_say_a_queued_request_is_waiting(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.play("vllm", slots=2)  # its max_num_seqs, which it does not publish either
    server.delay = 0.6
    folder = _articles(tmp_path, 4)
    result = _batch(server, folder, tmp_path / "out", "--timeout", "1", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    assert server.resent_while_busy == 0 and server.dropped == 0


# ---- any server --------------------------------------------------------------------------------


def test_a_server_that_refuses_to_stream_is_asked_without(server: FakeOpenAIServer) -> None:
    server.refuse_stream = True
    result = _summarize(server)
    assert result.exit_code == 0, result.output
    streamed = [bool(r.get("stream")) for r in server.chat_requests]
    assert streamed == [True] + [False] * (len(streamed) - 1)


def test_a_server_that_ignores_stream_answers_whole(server: FakeOpenAIServer) -> None:
    server.ignore_stream = True
    result = _summarize(server)
    assert result.exit_code == 0, result.output
    assert all(r.get("stream") for r in server.chat_requests)


def test_the_library_call_waits_on_a_busy_server_too(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The blocking API runs the same code on the client's own loop.
    server.play("llama.cpp", slots=1)
    server.delay = 1.3
    settings = Settings(base_url=server.base_url, model="m", timeout=1, max_retries=0)
    report = summarize_text(ARTICLE.read_text("utf-8"), settings=settings)
    assert report.facts and server.resent_while_busy == 0


def test_openai_silence_is_not_taken_for_a_queue(server: FakeOpenAIServer) -> None:
    # Not a queue of ours: the OpenAI API's silence is abandoned and retried as before (played
    # here by the loopback server, reached as if it were OpenAI's).
    client = OpenAIChatClient(
        model="m", base_url=server.base_url, api_key="k", backend="openai", timeout=0.5
    )
    server.delay = 1.2
    request = ChatRequest([{"role": "user", "content": "hi"}], OutputSchema("x", {}), 10, 0.0)
    with pytest.raises(ModelServerError, match=r"did not answer within 0.5 s \(after 2 retries"):
        client.complete(request)
    client.close()
    assert len(server.chat_requests) == 3


@pytest.mark.parametrize(
    ("kind", "play", "said"),
    [
        ("llama.cpp", {"slots": 2, "context": 4096}, "server: llama.cpp (2 slots, context 4,096"),
        ("ollama", {"context": 8192}, "server: ollama (slots not said (a batch adapts), context"),
        ("vllm", {}, "server: vllm"),
        (None, {}, "server: the server (slots not said"),
    ],
)
def test_analyst_models_says_what_the_server_says(
    server: FakeOpenAIServer, kind: str | None, play: dict[str, int], said: str
) -> None:
    if kind:
        server.play(kind, **play)
    result = CliRunner().invoke(app, ["models"], env={"OPENAI_BASE_URL": server.base_url})
    assert result.exit_code == 0, result.output
    assert said in result.output


def test_a_llama_cpp_server_gets_the_sampling_that_keeps_small_models_from_looping(
    server: FakeOpenAIServer,
) -> None:
    server.play("llama.cpp", slots=1)
    result = _summarize(server)
    assert result.exit_code == 0, result.output
    assert all(r.get("repeat_penalty") in (1.1, 1.0) for r in server.chat_requests)


def test_other_servers_get_no_llama_cpp_options(server: FakeOpenAIServer) -> None:
    server.play("vllm")
    result = _summarize(server)
    assert result.exit_code == 0, result.output
    assert not any("repeat_penalty" in r for r in server.chat_requests)


def test_analyst_models_says_when_nothing_answers() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "ANALYST_MODEL": "m"}
    result = CliRunner().invoke(app, ["models"], env=env)
    assert result.exit_code == 0, result.output
    assert "server: no answer there" in result.output


def test_a_batch_says_why_it_sends_as_many_as_it_does(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    result = _batch(server, _articles(tmp_path, 1), tmp_path / "out")
    assert result.exit_code == 0, result.output
    said = "4 requests at a time (the server does not say how many requests it runs at once"
    assert said in result.stderr
