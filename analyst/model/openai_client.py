"""The ``ChatClient`` for OpenAI and every OpenAI-compatible server; the only openai SDK importer.

Retries of transient HTTP failures (408, 409, 429, 5xx, connection errors) are the SDK's own
(``max_retries``), never a second layer here. What this module adds is the structured-output
ladder: ask for ``json_schema``; when a server rejects that, fall back to ``json_object``, then to
prompt-only, and remember the mode that worked for the rest of this client's life.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai
from openai._constants import DEFAULT_CONNECTION_LIMITS, MAX_RETRY_AFTER_DELAY
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from analyst import errors
from analyst.model.capped import AsyncCappedTransport, CappedTransport, ReplyTooLarge, cap_for
from analyst.model.seam import (
    BatchState,
    ChatRequest,
    ClientInfo,
    Completion,
    OutputSchema,
    Progress,
    StructuredMode,
    progress_listener,
)
from analyst.schema import openai_strict
from analyst.secrets import redact_url

_LADDER = [StructuredMode.JSON_SCHEMA, StructuredMode.JSON_OBJECT, StructuredMode.PROMPT]
# Words in an error body that say the server did not like our response_format.
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar")
# Placeholder key for servers that want none (llama.cpp, vLLM, Ollama); the SDK insists on one.
_NO_KEY = "sk-no-key-required"
# The shortest key that is masked wherever it could show: real keys are 32 characters and more.
SECRET_AT_LEAST = 16
# Streamed: the server's usage (and llama.cpp's timings) come in the last chunk.
_STREAM = {"stream": True, "stream_options": {"include_usage": True}}


class OpenAIChatClient:
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
        stream: bool = False,
        max_reply_bytes: int = cap_for(4096),
    ) -> None:
        if api_key is None and base_url is None:
            raise errors.ModelServerError(
                "no model backend configured: set OPENAI_API_KEY for OpenAI, or --base-url "
                "(OPENAI_BASE_URL) for an OpenAI-compatible server"
            )
        self._model = model
        self._secret = api_key
        self._where = redact_url(base_url) if base_url else "the OpenAI API"
        self._sdk_options: dict[str, Any] = {
            "api_key": api_key or _NO_KEY,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        # Each SDK client is made on first use (each costs ~50 ms, mostly its TLS context): a
        # batch uses only the async one, `summarize` only the blocking one.
        self._sync_sdk: openai.OpenAI | None = None
        self._async_sdk: openai.AsyncOpenAI | None = None
        self._timeout = timeout
        self._mode = mode
        self._extra_body = extra_body or {}
        # Sent on top of extra_body for a request whose reply copies the prompt (its quotes).
        self._copying_body = copying_body or {}
        self._backend = backend or ("openai" if base_url is None else "openai-compatible")
        # Streamed replies: ``timeout`` then bounds the wait for each chunk, not the whole
        # reply, so a slow server that is still writing is never cut off (and retried behind
        # itself), while one that goes silent is; and the terminal can show tokens arrive.
        self._stream = stream
        self._max_reply_bytes = max_reply_bytes
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

    def complete(self, request: ChatRequest) -> Completion:
        """Send the request; step down the structured-output ladder if the server refuses."""
        while True:
            mode = self._mode
            body = self._body(request, mode)
            try:
                if self._stream:
                    chunks = self._sdk.post(
                        "/chat/completions",
                        body={**body, **_STREAM},
                        cast_to=ChatCompletion,
                        stream=True,
                        stream_cls=openai.Stream[ChatCompletionChunk],
                    )
                    return self._clean(self._gather(chunks, mode))
                response = self._sdk.post("/chat/completions", body=body, cast_to=ChatCompletion)
                return self._clean(_completion(response, mode))
            except openai.APIError as exc:
                self._step_down_or_raise(exc, mode)
            except ReplyTooLarge as exc:
                raise _too_large(exc) or errors.ModelServerError(str(exc)) from None
            except ValueError as exc:  # a 200 whose body is not JSON
                raise self._malformed(exc) from None

    async def acomplete(self, request: ChatRequest) -> Completion:
        """``complete`` on the asynchronous SDK client, for batches (same ladder, same errors)."""
        sdk = self._async()
        while True:
            mode = self._mode
            body = self._body(request, mode)
            try:
                if self._stream:
                    chunks = await sdk.post(
                        "/chat/completions",
                        body={**body, **_STREAM},
                        cast_to=ChatCompletion,
                        stream=True,
                        stream_cls=openai.AsyncStream[ChatCompletionChunk],
                    )
                    return self._clean(await self._agather(chunks, mode))
                response = await sdk.post("/chat/completions", body=body, cast_to=ChatCompletion)
                return self._clean(_completion(response, mode))
            except openai.APIError as exc:
                self._step_down_or_raise(exc, mode)
            except ReplyTooLarge as exc:
                raise _too_large(exc) or errors.ModelServerError(str(exc)) from None
            except ValueError as exc:  # a 200 whose body is not JSON
                raise self._malformed(exc) from None

    def _gather(
        self, chunks: openai.Stream[ChatCompletionChunk], mode: StructuredMode
    ) -> Completion:
        """One ``Completion`` from a stream of chunks; a stream that goes silent for
        ``timeout`` seconds, or breaks off, is a server error."""
        reply = _Streamed(progress_listener.get())
        try:
            with chunks:
                for chunk in chunks:
                    reply.add(chunk)
        except (httpx2.HTTPError, openai.APIConnectionError, ReplyTooLarge) as exc:
            raise self._broken(exc) from None
        return reply.completion(mode)

    async def _agather(
        self, chunks: openai.AsyncStream[ChatCompletionChunk], mode: StructuredMode
    ) -> Completion:
        """``_gather`` on the event loop."""
        reply = _Streamed(progress_listener.get())
        try:
            async with chunks:
                async for chunk in chunks:
                    reply.add(chunk)
        except (httpx2.HTTPError, openai.APIConnectionError, ReplyTooLarge) as exc:
            raise self._broken(exc) from None
        return reply.completion(mode)

    def _broken(self, exc: Exception) -> errors.ModelServerError:
        # (The SDK turns some transport errors met while reading a stream into its own.)
        if too_large := _too_large(exc):
            return too_large
        if isinstance(exc, httpx2.TimeoutException | openai.APITimeoutError):
            return errors.ModelServerError(
                f"{self._where} stopped sending its reply for {self._timeout:g} s"
            )
        return errors.ModelServerError(self._scrub(f"{self._where} broke off its reply: {exc}"))

    # ---- provider batches (OpenAI's Batch API; `vllm run-batch` reads the same lines) -------

    def batch_line(self, custom_id: str, request: ChatRequest) -> dict[str, Any]:
        """One line of a batch input file: the request ``complete`` would send, with schema."""
        body = self._body(request, StructuredMode.JSON_SCHEMA)
        return {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": body,
        }

    async def submit_batch(self, jsonl: bytes, *, description: str) -> str:
        """Upload a request file and start a batch on it; returns the batch id."""
        sdk = self._async()
        try:
            uploaded = await sdk.files.create(
                file=("analyst-requests.jsonl", jsonl, "application/jsonl"), purpose="batch"
            )
            batch = await sdk.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={"description": description[:512]},
            )
        except openai.APIError as exc:
            raise self._translate(exc) from None
        return batch.id

    async def batch_state(self, batch_id: str) -> BatchState:
        """Poll one batch."""
        try:
            batch = await self._async().batches.retrieve(batch_id)
        except openai.APIError as exc:
            raise self._translate(exc) from None
        counts = batch.request_counts
        problems = batch.errors.data if batch.errors and batch.errors.data else []
        return BatchState(
            id=batch.id,
            status=batch.status,
            total=counts.total if counts else 0,
            completed=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
            errors=tuple(self._scrub(p.message or p.code or "?") for p in problems),
        )

    async def batch_file(self, file_id: str) -> str:
        """The text of a batch's output or error file."""
        try:
            content = await self._async().files.content(file_id)
        except openai.APIError as exc:
            raise self._translate(exc) from None
        return content.content.decode("utf-8", errors="replace")

    def completion_from_body(self, body: dict[str, Any]) -> Completion:
        """A chat completion body from a batch result file, as a ``Completion``."""
        try:
            response = ChatCompletion.model_validate(body)
        except ValueError as exc:
            raise self._malformed(exc) from None
        return self._clean(_completion(response, StructuredMode.JSON_SCHEMA))

    def _async(self) -> openai.AsyncOpenAI:
        if self._async_sdk is None:
            transport = AsyncCappedTransport(self._max_reply_bytes, DEFAULT_CONNECTION_LIMITS)
            self._async_sdk = openai.AsyncOpenAI(
                **self._sdk_options, http_client=openai.DefaultAsyncHttpxClient(transport=transport)
            )
        return self._async_sdk

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

    def close(self) -> None:
        """Close the HTTP connections."""
        if self._sync_sdk is not None:
            self._sync_sdk.close()

    async def aclose(self) -> None:
        """Close the asynchronous HTTP connections (opened by ``acomplete``)."""
        if self._async_sdk is not None:
            await self._async_sdk.close()
            self._async_sdk = None

    def __enter__(self) -> OpenAIChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _sdk(self) -> openai.OpenAI:
        with self._lock:
            if self._sync_sdk is None:
                transport = CappedTransport(self._max_reply_bytes, DEFAULT_CONNECTION_LIMITS)
                self._sync_sdk = openai.OpenAI(
                    **self._sdk_options, http_client=openai.DefaultHttpxClient(transport=transport)
                )
            return self._sync_sdk

    def with_model(self, model: str) -> OpenAIChatClient:
        """The same connection, asking for another model."""
        clone = copy.copy(self)
        clone._model = model
        clone._lock = threading.Lock()
        return clone

    def list_models(self) -> list[str]:
        """Model ids the server lists at ``/models`` (empty when it lists none)."""
        try:
            return [m.id for m in self._sdk.models.list()]
        except openai.APIError:
            return []

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
            sent = _with_schema(sent, schema)
            if mode is StructuredMode.JSON_OBJECT:
                kwargs["response_format"] = {"type": "json_object"}
        kwargs["messages"] = sent
        kwargs.update(self._extra_body)
        if request.copying:
            kwargs.update(self._copying_body)
        return kwargs

    def _step_down_or_raise(self, exc: openai.APIError, mode: StructuredMode) -> None:
        """Move down the ladder when the server rejected ``mode``; otherwise raise our error."""
        if not isinstance(exc, openai.APIStatusError) or not self._rejects_format(exc, mode):
            raise self._translate(exc) from None
        with self._lock:
            if self._mode is mode:  # another request may have stepped down already
                self._mode = _LADDER[_LADDER.index(mode) + 1]

    def _rejects_format(self, exc: openai.APIStatusError, mode: StructuredMode) -> bool:
        if mode is StructuredMode.PROMPT or exc.status_code not in (400, 422, 500, 501):
            return False
        text = f"{exc.message} {exc.body}".lower()
        return any(word in text for word in _FORMAT_WORDS)

    def _translate(self, exc: openai.APIError) -> errors.AnalystError:
        """One clear error per failure, with the API key scrubbed from anything echoed back."""
        retried = self._retried()
        if isinstance(exc, openai.APITimeoutError):
            return errors.ModelServerError(
                f"{self._where} did not answer within {self._timeout:g} s{retried}"
            )
        if too_large := _too_large(exc):
            return too_large
        if isinstance(exc, openai.APIConnectionError):
            return errors.ModelServerError(f"cannot connect to {self._where}{retried}")
        if not isinstance(exc, openai.APIStatusError):
            return errors.ModelServerError(self._scrub(f"{self._where} failed: {exc}"))
        status = exc.status_code
        detail = self._scrub(_short_detail(exc))
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return errors.AuthenticationError(
                f"{self._where} refused the API key ({status}): {detail}", status_code=status
            )
        if isinstance(exc, openai.NotFoundError):
            available = self.list_models()
            if self._model in available:  # the model is there: the address is what is wrong
                return errors.ModelServerError(
                    f"{self._where} answered 404 for chat completions ({detail}), though it "
                    f"serves {self._model!r}: check the base URL (it usually ends in /v1)",
                    status_code=404,
                )
            listed = f"; it serves: {', '.join(available)}" if available else ""
            return errors.UnknownModelError(
                f"{self._where} does not know model {self._model!r} ({detail}){listed}",
                available=available,
            )
        if isinstance(exc, openai.RateLimitError):
            wait = _retry_after(exc.response)
            if wait is not None and wait > MAX_RETRY_AFTER_DELAY:
                # The SDK does not wait that long, so it did not retry at all.
                return errors.ModelServerError(
                    f"{self._where} is rate limiting (429) and asks to wait {wait:,.0f} s "
                    f"before trying again: {detail}",
                    status_code=status,
                )
            return errors.ModelServerError(
                f"{self._where} is rate limiting (429){retried}: {detail}", status_code=status
            )
        return errors.ModelServerError(
            f"{self._where} answered {status}: {detail}", status_code=status
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


def _too_large(exc: BaseException) -> errors.ModelServerError | None:
    """Our error for a reply over the size cap, found as ``exc`` or what it was raised from."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ReplyTooLarge):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    return errors.ModelServerError(f"the model server sent {cause}; refused to read it")


def _retry_after(response: httpx2.Response) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number of seconds; dates are rare)."""
    value = response.headers.get("retry-after", "")
    try:
        return float(value)
    except ValueError:
        return None


def _completion(response: ChatCompletion, mode: StructuredMode) -> Completion:
    if not response.choices:
        raise errors.MalformedReplyError("the server's answer has no choices")
    choice = response.choices[0]
    usage = response.usage
    timings = (response.model_extra or {}).get("timings")
    return Completion(
        content=choice.message.content or "",
        finish_reason=choice.finish_reason,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        mode=mode,
        refusal=getattr(choice.message, "refusal", None),
        timings=timings,
        cached_tokens=_cached_tokens(usage, timings),
    )


class _Streamed:
    """A reply put together from its chunks, telling ``listener`` (if any) of each token."""

    def __init__(self, listener: Callable[[Progress], None] | None) -> None:
        self.listener = listener
        self.started = time.perf_counter()
        self.parts: list[str] = []
        self.finish: str | None = None
        self.refusal: str | None = None
        self.usage: Any = None
        self.timings: dict[str, Any] | None = None
        self.seen = False

    def add(self, chunk: ChatCompletionChunk) -> None:
        self.seen = True
        self.usage = chunk.usage or self.usage
        self.timings = (chunk.model_extra or {}).get("timings") or self.timings
        for choice in chunk.choices:
            self.finish = choice.finish_reason or self.finish
            self.refusal = getattr(choice.delta, "refusal", None) or self.refusal
            if choice.delta.content:
                self.parts.append(choice.delta.content)
                if self.listener is not None:
                    elapsed = time.perf_counter() - self.started
                    self.listener(Progress(len(self.parts), "".join(self.parts), elapsed))

    def completion(self, mode: StructuredMode) -> Completion:
        if not self.seen or (self.finish is None and not self.parts):
            raise errors.MalformedReplyError("the server's streamed answer has no choices")
        return Completion(
            content="".join(self.parts),
            finish_reason=self.finish,
            prompt_tokens=self.usage.prompt_tokens if self.usage else None,
            completion_tokens=self.usage.completion_tokens if self.usage else None,
            mode=mode,
            refusal=self.refusal,
            timings=self.timings,
            cached_tokens=_cached_tokens(self.usage, self.timings),
        )


def _cached_tokens(usage: Any, timings: dict[str, Any] | None) -> int | None:
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    cached = getattr(details, "cached_tokens", None) if details else None
    if isinstance(cached, int):
        return cached
    value = (timings or {}).get("cache_n")
    return int(value) if isinstance(value, int | float) else None


def _with_schema(messages: list[dict[str, str]], schema: OutputSchema) -> list[dict[str, str]]:
    # The note is the schema_in_prompt prompt, filled in by whoever made the schema. It goes at
    # the end of the last message, after the article, so every call of an article still shares
    # its beginning (the prompt cache's prefix).
    text = schema.note or json.dumps(schema.schema, separators=(",", ":"))
    if messages and messages[-1]["role"] == "user":
        last = {**messages[-1], "content": messages[-1]["content"] + "\n\n" + text}
        return [*messages[:-1], last]
    return [*messages, {"role": "user", "content": text}]


def _short_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    message: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    text = str(message or exc.message or "no detail").replace("\n", " ")
    return text[:300]
