"""The state every part of the OpenAI client shares: the SDK clients (made on first use, each
on its own event loop), the request body, and the key kept out of everything shown."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import httpx2
import openai

from analyst import errors
from analyst.model import servers
from analyst.model.capped import AsyncCappedTransport, CappedTransport, cap_for
from analyst.model.completions import with_schema
from analyst.model.patience import heard_now
from analyst.model.seam import ChatRequest, ClientInfo, Completion, StructuredMode
from analyst.model.throttle import Throttle
from analyst.secrets import redact_url

# Words of a 500 that says the server could not read the model's own output in the mode asked
# (llama.cpp's chat parser: "The model produced output that does not match the expected
# peg-native format", "... Content-only format"; before its PEG parser, "Failed to parse input").
UNREAD_WORDS = ("does not match the expected", "failed to parse input")
# Placeholder key for servers that want none (llama.cpp, vLLM, Ollama); the SDK insists on one.
_NO_KEY = "sk-no-key-required"
# The shortest key that is masked wherever it could show: real keys are 32 characters and more.
SECRET_AT_LEAST = 16
# The SDK's own connection limits (its documented defaults, restated here rather than imported
# from its private modules).
_CONNECTIONS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


class Core:
    """Talks to ``base_url`` (OpenAI's API when ``None``) through the official SDK."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        mode: StructuredMode = StructuredMode.JSON_SCHEMA,
        extra_body: dict[str, Any] | None = None,
        copying_body: dict[str, Any] | None = None,
        backend: str | None = None,
        stream: bool = True,
        max_reply_bytes: int = cap_for(4096),
        throttle: Throttle | None = None,
        llama_body: tuple[dict[str, Any], dict[str, Any]] | None = None,
    ) -> None:
        if api_key is None and base_url is None:
            raise errors.ModelServerError(
                "no model backend configured: set OPENAI_API_KEY for OpenAI, or --base-url "
                "(OPENAI_BASE_URL) for an OpenAI-compatible server"
            )
        self._model = model
        self._secret = api_key
        self._base_url = base_url
        self._where = redact_url(base_url) if base_url else "the OpenAI API"
        self._sdk_options: dict[str, Any] = {
            "api_key": api_key or _NO_KEY,
            "base_url": base_url,
            # No read timeout of the SDK's: silences are timed here, where the server can be
            # asked why (a read timeout would drop a request still queued at a one-slot server).
            "timeout": httpx2.Timeout(None, connect=timeout, write=timeout),
            "max_retries": max_retries,
        }
        self._max_retries = max_retries
        # Each SDK client is made on first use (each costs ~50 ms, mostly its TLS context).
        self._sync_sdk: openai.OpenAI | None = None  # only to list models
        self._async_sdk: openai.AsyncOpenAI | None = None  # on the caller's event loop
        self._own: OwnLoop | None = None  # the loop (and SDK client) of blocking calls
        self._timeout = timeout
        self._mode = mode
        self._extra_body = extra_body or {}
        # Sent on top of extra_body for a request whose reply copies the prompt (its quotes).
        self._copying_body = copying_body or {}
        # extra_body and copying_body for a server that turns out to be llama.cpp, if none
        # were given: its sampling options, which other servers would refuse or ignore.
        self._llama_body = llama_body
        self._backend = backend or ("openai" if base_url is None else "openai-compatible")
        self._stream = stream
        self._max_reply_bytes = max_reply_bytes
        self._survey: servers.Survey | None = None
        # Shared with whoever sizes a batch: strain seen here lowers its requests in flight.
        self.throttle = throttle or Throttle()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAIChatClient(model={self._model!r}, base_url={self._where!r})"

    @property
    def info(self) -> ClientInfo:
        """The model and the backend: ``openai``, ``local`` (embedded), ``openai-compatible``."""
        return ClientInfo(self._model, self._backend)

    @property
    def mode(self) -> StructuredMode:
        """The structured-output mode this client currently uses."""
        return self._mode

    @property
    def streaming(self) -> bool:
        """Whether replies are streamed (off once the server refused a stream)."""
        return self._stream

    def _body(self, request: ChatRequest, mode: StructuredMode) -> dict[str, Any]:
        """The JSON body of one chat completion request in ``mode``.

        Sent with the SDK's ``post`` (its documented way to send a body as is) rather than
        ``chat.completions.create``, which first walks the body against its type definitions:
        with our schema in ``response_format`` that walk cost more CPU than the rest of the
        request (measured in a batch), and our body is already plain JSON. Retries, auth, timeouts
        and error types are the SDK's either way.
        """
        schema = request.schema
        sent = [{"role": m["role"], "content": m["content"]} for m in request.messages]
        kwargs: dict[str, Any] = {"model": self._model, "max_tokens": request.max_tokens}
        kwargs["temperature"] = request.temperature
        if mode is StructuredMode.JSON_SCHEMA:
            body = openai_strict(schema.schema) if self._backend == "openai" else schema.schema
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": body, "strict": True},
            }
        else:
            # The server will not enforce the schema, so the model has to read it.
            sent = with_schema(sent, schema)
            if mode is StructuredMode.JSON_OBJECT:
                kwargs["response_format"] = {"type": "json_object"}
        kwargs["messages"] = sent
        kwargs.update(self._extra_body)
        if request.copying:
            kwargs.update(self._copying_body)
        return kwargs

    def _async(self) -> openai.AsyncOpenAI:
        own = self._own
        if own is not None and asyncio.get_running_loop() is own.loop:
            return own.sdk
        if self._async_sdk is None:
            self._async_sdk = _async_sdk(self._max_reply_bytes, self._sdk_options)
        return self._async_sdk

    @property
    def _sdk(self) -> openai.OpenAI:
        with self._lock:
            if self._sync_sdk is None:
                transport = CappedTransport(self._max_reply_bytes, _CONNECTIONS)
                self._sync_sdk = openai.OpenAI(
                    **self._sdk_options, http_client=openai.DefaultHttpxClient(transport=transport)
                )
            return self._sync_sdk

    def list_models(self) -> list[str]:
        """Model ids the server lists at ``/models`` (empty when it lists none)."""
        try:
            return [m.id for m in self._sdk.with_options(timeout=self._timeout).models.list()]
        except openai.APIError:
            return []

    def _clean(self, completion: Completion) -> Completion:
        # A reply that repeats the key (an echoing server or model) must not carry it into
        # reports, caches or --verbose output; a key too short to be secret is left alone.
        if (
            self._secret
            and len(self._secret) >= SECRET_AT_LEAST
            and self._secret in completion.content
        ):
            return dataclasses.replace(completion, content=self._scrub(completion.content))
        return completion

    def _malformed(self, exc: ValueError) -> errors.MalformedReplyError:
        return errors.MalformedReplyError(
            self._scrub(f"{self._where} sent an answer that is not JSON ({exc})")
        )

    def _retried(self) -> str:
        n = self._sdk_options["max_retries"]
        return f" (after {n} retries)" if n else ""

    def _scrub(self, text: str) -> str:
        # A key shorter than any real one ("x", "the", "local": what local servers are given)
        # is no secret, and masking it would rewrite the model's words ("te***t").
        if not self._secret or len(self._secret) < SECRET_AT_LEAST:
            return text
        return text.replace(self._secret, "***")


def _async_sdk(max_reply_bytes: int, sdk_options: dict[str, Any]) -> openai.AsyncOpenAI:
    transport = AsyncCappedTransport(max_reply_bytes, _CONNECTIONS)
    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [heard_now],
        "response": [heard_now, unread_is_final],
    }
    http = openai.DefaultAsyncHttpxClient(transport=transport, event_hooks=hooks)
    return openai.AsyncOpenAI(**sdk_options, http_client=http)


class OwnLoop:
    """An event loop in a daemon thread, with an SDK client of its own, for blocking calls."""

    def __init__(self, max_reply_bytes: int, sdk_options: dict[str, Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="analyst-model-client", daemon=True
        )
        self._thread.start()
        self.sdk = _async_sdk(max_reply_bytes, sdk_options)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        closing = asyncio.run_coroutine_threadsafe(self.sdk.close(), self.loop)
        try:
            closing.result(timeout=5)
        except Exception:  # noqa: BLE001 - closing connections must not fail a finished run
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


def openai_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without the keywords OpenAI's strict mode rejects (string lengths)."""
    cleaned: dict[str, Any] = _drop_keys(schema, {"minLength", "maxLength"})
    return cleaned


def _drop_keys(node: Any, keys: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _drop_keys(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_drop_keys(v, keys) for v in node]
    return node


async def unread_is_final(response: httpx2.Response) -> None:
    """Mark a 500 that says the server could not read the model's output as not to be retried
    by the SDK: at temperature 0 the same request fails the same way; the next mode down is
    what helps (``Failures._rejects_format``)."""
    if response.status_code == 500:
        text = (await response.aread()).decode("utf-8", "replace").lower()
        if any(words in text for words in UNREAD_WORDS):
            response.headers["x-should-retry"] = "false"  # the SDK's own switch
