"""The openai-SDK client against a real loopback HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from analyst.errors import AuthenticationError, ModelServerError, UnknownModelError
from analyst.model.openai import OpenAIChatClient
from analyst.model.seam import ChatRequest, Message, OutputSchema, StructuredMode
from tests.fakeserver import FakeOpenAIServer, error, reply

SCHEMA = OutputSchema("extraction", {"type": "object"})
MSGS: list[Message] = [{"role": "user", "content": "hi, reply in JSON"}]


_open: list[OpenAIChatClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def _client(server: FakeOpenAIServer, **kw: object) -> OpenAIChatClient:
    args: dict[str, object] = {"model": "fake-model", "base_url": server.base_url, "max_retries": 0}
    args.update(kw)
    client = OpenAIChatClient(**args)  # type: ignore[arg-type]
    _open.append(client)
    return client


def _complete(client: OpenAIChatClient) -> str:
    return client.complete(ChatRequest(MSGS, SCHEMA, 100, 0)).content


def test_sends_strict_json_schema(server: FakeOpenAIServer) -> None:
    server.enqueue(reply({"ok": True}))
    client = _client(server)
    assert _complete(client) == '{"ok": true}'
    fmt = server.chat_requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"] == {
        "name": "extraction",
        "schema": {"type": "object"},
        "strict": True,
    }


def test_falls_back_down_the_ladder_and_remembers(server: FakeOpenAIServer) -> None:
    server.reject_modes = {"json_schema", "json_object"}
    server.enqueue(reply({"a": 1}), reply({"a": 2}))
    client = _client(server)
    completion = client.complete(ChatRequest(MSGS, SCHEMA, 100, 0))
    assert completion.mode is StructuredMode.PROMPT
    assert [r.get("response_format", {}).get("type") for r in server.chat_requests] == [
        "json_schema",
        "json_object",
        None,
    ]
    # Without server-side enforcement the schema travels in the prompt instead.
    first, fallback = server.chat_requests[0]["messages"], server.chat_requests[1]["messages"]
    assert first == MSGS
    # ...at the end of the last message, so every call of an article keeps its shared beginning.
    assert fallback[:-1] == MSGS[:-1] and fallback[-1]["content"].startswith(MSGS[-1]["content"])
    assert '"type":"object"' in fallback[-1]["content"]
    _complete(client)  # remembered: the next call goes straight to prompt mode
    assert "response_format" not in server.chat_requests[-1]
    assert len(server.chat_requests) == 4


def test_json_object_fallback(server: FakeOpenAIServer) -> None:
    server.reject_modes = {"json_schema"}
    server.enqueue(reply({"a": 1}))
    client = _client(server)
    _complete(client)
    assert client.mode is StructuredMode.JSON_OBJECT


def test_401_is_an_auth_error_never_retried_and_key_is_scrubbed(server: FakeOpenAIServer) -> None:
    key = "sk-canary-123456789"
    server.enqueue(error(401, f"Incorrect API key provided: {key}"))
    client = _client(server, api_key=key, max_retries=3)
    with pytest.raises(AuthenticationError) as info:
        _complete(client)
    assert key not in str(info.value)
    assert len(server.chat_requests) == 1
    assert server.headers[0]["authorization"] == f"Bearer {key}"
    assert key not in repr(client)


def test_404_names_the_models_the_server_lists(server: FakeOpenAIServer) -> None:
    server.models = ["qwen2.5-1.5b", "llama-3.2-3b"]
    server.enqueue(error(404, "model 'nope' not found"))
    with pytest.raises(UnknownModelError) as info:
        _complete(_client(server, model="nope"))
    assert "qwen2.5-1.5b, llama-3.2-3b" in str(info.value)
    assert info.value.available == ["qwen2.5-1.5b", "llama-3.2-3b"]


def test_transient_429_and_500_are_retried_by_the_sdk(server: FakeOpenAIServer) -> None:
    server.enqueue(
        error(429, "slow down", {"Retry-After": "0"}),
        error(500, "oops"),
        reply({"ok": 1}),
    )
    assert _complete(_client(server, max_retries=2)) == '{"ok": 1}'
    assert len(server.chat_requests) == 3


@pytest.mark.parametrize(("status", "words"), [(429, "rate limiting"), (503, "answered 503")])
def test_persistent_failure_is_a_server_error(
    server: FakeOpenAIServer, status: int, words: str
) -> None:
    server.enqueue(*[error(status, "busy", {"Retry-After": "0"})] * 3)
    with pytest.raises(ModelServerError, match=words):
        _complete(_client(server, max_retries=1))
    assert len(server.chat_requests) == 2


def test_connection_refused_is_a_server_error() -> None:
    client = OpenAIChatClient(model="m", base_url="http://127.0.0.1:9/v1", max_retries=0)
    _open.append(client)
    with pytest.raises(ModelServerError, match="cannot connect"):
        _complete(client)


def test_missing_usage_is_none(server: FakeOpenAIServer) -> None:
    server.enqueue(reply({"a": 1}, usage=False))
    c = _client(server).complete(ChatRequest(MSGS, SCHEMA, 100, 0))
    assert c.prompt_tokens is None and c.completion_tokens is None


def test_no_backend_configured() -> None:
    with pytest.raises(ModelServerError, match="no model backend configured"):
        OpenAIChatClient(model="gpt-4o-mini")


def test_length_keywords_go_to_enforcing_servers_but_not_to_openai(
    server: FakeOpenAIServer,
) -> None:
    schema = OutputSchema(
        "x", {"type": "object", "properties": {"q": {"type": "string", "maxLength": 9}}}
    )
    for backend, kept in (("openai-compatible", True), ("openai", False)):
        server.enqueue(reply({"q": "a"}))
        client = _client(server, backend=backend)
        client.complete(ChatRequest(MSGS, schema, 10, 0))
        sent = server.chat_requests[-1]["response_format"]["json_schema"]["schema"]
        assert ("maxLength" in sent["properties"]["q"]) is kept


@pytest.mark.parametrize("key", ["x", "the", "local"])
def test_a_short_key_is_no_secret_and_the_reply_is_not_rewritten(
    server: FakeOpenAIServer, key: str
) -> None:
    # "--api-key x" (what local servers are given) turned every "text" into "te***t" (exit 5);
    # "--api-key the", "replace the Harbor Bridge" into "replace *** Harbor Bridge".
    said = '{"text": "The council will replace the Harbor Bridge"}'
    server.enqueue(reply(said))
    assert _complete(_client(server, api_key=key)) == said
    assert server.headers[-1]["authorization"] == f"Bearer {key}"


def test_a_real_key_echoed_in_a_reply_is_still_masked(server: FakeOpenAIServer) -> None:
    key = "sk-canary-1234567890abcdef"
    server.enqueue(reply(f'{{"text": "echo {key}"}}'))
    assert _complete(_client(server, api_key=key)) == '{"text": "echo ***"}'
