"""The ``ChatClient`` for OpenAI and every OpenAI-compatible server; the only openai SDK importer.

Replies are streamed from every server that can (all of them: OpenAI, llama.cpp, Ollama, LM
Studio, vLLM), so ``timeout`` bounds a silence, never a reply still being written; a server that
refuses a stream is asked without one from then on. A silent request is not abandoned while the
server says it is at work (``patience``); cancelled (its connection closed) when it is not, and
only then sent again. Transient HTTP failures (408, 409, 429, 5xx, connection errors) are retried
by the SDK (``max_retries``), never a second layer here.

What this module adds besides is the structured-output ladder: ask for ``json_schema``; when a
server rejects that, or fails to read the model's output in that mode (llama.cpp's "does not
match the expected … format" 500), fall back to ``json_object``, then to prompt-only, and
remember the mode that worked for the rest of this client's life. A reply whose prompt the
server reports much shorter than what was sent (Ollama cuts a prompt to its ``num_ctx`` and
answers 200) is refused with the setting to raise.

A blocking ``complete`` runs ``acomplete`` on an event loop of the client's own, in a thread, so
both ways share one implementation of all this.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import json
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from analyst import errors
from analyst.model import servers
from analyst.model.capped import AsyncCappedTransport, CappedTransport, ReplyTooLarge, cap_for
from analyst.model.patience import Heard, Silent, heard_now, watched
from analyst.model.replies import Streamed, completion, whole_completion, with_schema
from analyst.model.seam import (
    BatchState,
    ChatRequest,
    ClientInfo,
    Completion,
    StructuredMode,
    progress_listener,
)
from analyst.model.throttle import Throttle
from analyst.secrets import redact_url

T = TypeVar("T")

_LADDER = [StructuredMode.JSON_SCHEMA, StructuredMode.JSON_OBJECT, StructuredMode.PROMPT]
# Words in an error body that say the server did not like our response_format.
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar")
# Words of a 500 that says the server could not read the model's own output in the mode asked
# (llama.cpp's chat parser: "The model produced output that does not match the expected
# peg-native format", "... Content-only format"; before its PEG parser, "Failed to parse input").
_UNREAD_WORDS = ("does not match the expected", "failed to parse input")
# Placeholder key for servers that want none (llama.cpp, vLLM, Ollama); the SDK insists on one.
_NO_KEY = "sk-no-key-required"
# The shortest key that is masked wherever it could show: real keys are 32 characters and more.
SECRET_AT_LEAST = 16
# The SDK's own connection limits and longest Retry-After it honours (its documented defaults,
# restated here rather than imported from its private modules).
_CONNECTIONS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
_SDK_WAITS_AT_MOST = 120.0
# Streamed: the server's usage (and llama.cpp's timings) come in the last chunk.
_STREAM = {"stream": True, "stream_options": {"include_usage": True}}
# A silent request is kept this many times ``timeout`` in all while its server says it is busy.
PATIENCE = 10


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
        self._own: _OwnLoop | None = None  # the loop (and SDK client) of blocking calls
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

    def complete(self, request: ChatRequest) -> Completion:
        """``acomplete``, blocking: run on this client's own event loop."""
        return self._blocking(self.acomplete(request))

    async def asurvey(self) -> servers.Survey:
        """What the server says it is (asked once; ``Survey("openai")`` for OpenAI's API)."""
        if self._survey is None:
            if self._backend == "openai":
                self._survey = servers.Survey("openai")
            else:
                async with self._prober() as http:
                    self._survey = await servers.survey(self._base_url, http)
            if self._survey.kind == "llama.cpp" and self._llama_body and not self._extra_body:
                self._extra_body, self._copying_body = self._llama_body
        return self._survey

    async def acomplete(self, request: ChatRequest) -> Completion:
        """Send the request, streamed where the server allows; step down the structured-output
        ladder if the server refuses a mode; wait on a busy server, not on a dead one."""
        sdk = self._async()
        await self.asurvey()  # once: what the server is decides how requests are made
        silences = 0
        while True:
            mode, stream = self._mode, self._stream
            body = self._body(request, mode)
            try:
                await self._fits(body)
                reply = await watched(
                    functools.partial(self._send, sdk, body, mode, stream),
                    timeout=self._timeout,
                    patience=PATIENCE * self._timeout,
                    ask=self._activity,
                    on_queued=self.throttle.strained,
                    open_means_queued=self._backend != "openai",
                )
            except Silent as silent:
                self.throttle.strained()
                silences += 1
                # A request kept its whole patience while the server worked is not sent again
                # (it would wait as long); nor is one to a server that does not answer at all.
                final = silent.queued or silent.activity is servers.Activity.DOWN
                if final or silences > self._max_retries:
                    raise errors.ModelServerError(
                        silent.say(self._where, self._timeout, silences - 1)
                    ) from None
                continue  # cancelled at the server: sending it again piles nothing
            except openai.APIError as exc:
                if isinstance(exc, openai.RateLimitError) or _status(exc) == 503:
                    self.throttle.strained()
                if not self._refuses_stream(exc, stream):
                    self._step_down_or_raise(exc, mode)
                continue
            except ReplyTooLarge as exc:
                raise _too_large(exc) or errors.ModelServerError(str(exc)) from None
            except ValueError as exc:  # a 200 whose body is not JSON
                raise self._malformed(exc) from None
            await self._read_all(body, reply)
            self.throttle.served()
            return self._clean(reply)

    async def _send(
        self,
        sdk: openai.AsyncOpenAI,
        body: dict[str, Any],
        mode: StructuredMode,
        stream: bool,
        heard: Heard,
    ) -> Completion:
        """One request, streamed or not; ``heard`` is told whenever the server sends."""
        if not stream:
            response = await sdk.post("/chat/completions", body=body, cast_to=ChatCompletion)
            heard.now(spoke=True)
            return completion(response, mode)
        chunks = await sdk.post(
            "/chat/completions",
            body={**body, **_STREAM},
            cast_to=ChatCompletion,
            stream=True,
            stream_cls=openai.AsyncStream[ChatCompletionChunk],
        )
        heard.now()
        if "event-stream" not in chunks.response.headers.get("content-type", ""):
            # A server that ignores `stream` answers the whole completion at once.
            async with chunks:
                data = json.loads(await chunks.response.aread())
            return whole_completion(data, mode)
        reply = Streamed(progress_listener.get(), heard)
        try:
            async with chunks:
                async for chunk in chunks:
                    reply.add(chunk)
        except (httpx2.HTTPError, openai.APIConnectionError, ReplyTooLarge) as exc:
            raise self._broken(exc) from None
        return reply.completion(mode)

    async def _activity(self) -> servers.Activity:
        kind = (await self.asurvey()).kind
        if kind == "openai":
            return servers.Activity.UNKNOWN  # its API has no such question; not worth a GET
        async with self._prober() as http:
            return await servers.activity(self._base_url, kind, http)

    def _prober(self) -> httpx2.AsyncClient:
        """An HTTP client for the server's own endpoints (with the key, when there is one)."""
        headers = {"Authorization": f"Bearer {self._secret}"} if self._secret else {}
        return httpx2.AsyncClient(headers=headers, follow_redirects=False)

    def _refuses_stream(self, exc: openai.APIError, stream: bool) -> bool:
        """Whether the server refused to stream; if so, stop asking it to."""
        status = _status(exc)
        if not stream or status not in (400, 415, 422, 501):
            return False
        text = f"{exc.message} {exc.body}".lower()
        if "stream" not in text:
            return False
        with self._lock:
            self._stream = False
        return True

    async def _fits(self, body: dict[str, Any]) -> None:
        """Refuse a prompt longer than the context the server says it has (Ollama and LM
        Studio would cut its beginning and answer as if nothing were wrong)."""
        if self._backend != "openai":
            survey = await self.asurvey()
            if why := servers.over_context(survey, self._model, body["messages"]):
                raise errors.ContextOverflowError(why)

    async def _read_all(self, body: dict[str, Any], reply: Completion) -> None:
        """Refuse a reply to a prompt the server reports much shorter than what was sent: it
        cut the prompt to fit its context and answered anyway."""
        if servers.was_cut(body["messages"], reply.prompt_tokens):
            kind = (await self.asurvey()).kind if self._backend != "openai" else "openai"
            sent = servers.sent_tokens(body["messages"])
            raise errors.ContextOverflowError(
                f"{self._where} read {reply.prompt_tokens:,} prompt tokens of about {sent:,} "
                "sent: it cut the prompt to fit its context window and answered anyway; "
                + servers.raise_context(kind)
            )

    def _broken(self, exc: Exception) -> errors.ModelServerError:
        # (The SDK turns some transport errors met while reading a stream into its own.)
        if too_large := _too_large(exc):
            return too_large
        return errors.ModelServerError(self._scrub(f"{self._where} broke off its reply: {exc}"))

    def _blocking(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on this client's own loop and wait for it, carrying the caller's
        progress listener; an interrupt cancels it there (closing the request at the server)."""
        with self._lock:
            if self._own is None:
                self._own = _OwnLoop(self._max_reply_bytes, self._sdk_options)
            own = self._own
        listener = progress_listener.get()

        async def listened() -> T:
            progress_listener.set(listener)
            return await work

        future = asyncio.run_coroutine_threadsafe(listened(), own.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

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
        return self._clean(completion(response, StructuredMode.JSON_SCHEMA))

    def _async(self) -> openai.AsyncOpenAI:
        own = self._own
        if own is not None and asyncio.get_running_loop() is own.loop:
            return own.sdk
        if self._async_sdk is None:
            self._async_sdk = _async_sdk(self._max_reply_bytes, self._sdk_options)
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
        """Close the HTTP connections, and stop the loop of blocking calls."""
        if self._sync_sdk is not None:
            self._sync_sdk.close()
        with self._lock:
            own, self._own = self._own, None
        if own is not None:
            own.close()

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
                transport = CappedTransport(self._max_reply_bytes, _CONNECTIONS)
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
            return [m.id for m in self._sdk.with_options(timeout=self._timeout).models.list()]
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
            sent = with_schema(sent, schema)
            if mode is StructuredMode.JSON_OBJECT:
                kwargs["response_format"] = {"type": "json_object"}
        kwargs["messages"] = sent
        kwargs.update(self._extra_body)
        if request.copying:
            kwargs.update(self._copying_body)
        return kwargs

    def _step_down_or_raise(self, exc: openai.APIError, mode: StructuredMode) -> None:
        """Move down the ladder when the server rejected ``mode``; otherwise raise our error."""
        if not self._rejects_format(exc, mode):
            raise self._translate(exc) from None
        with self._lock:
            if self._mode is mode:  # another request may have stepped down already
                self._mode = _LADDER[_LADDER.index(mode) + 1]

    def _rejects_format(self, exc: openai.APIError, mode: StructuredMode) -> bool:
        """Whether the server refused ``mode``, or could not read the model's output in it
        (a 500, or an error event in the stream: only in this mode; the next one down is asked
        once, and kept)."""
        status = _status(exc)
        if mode is StructuredMode.PROMPT or status not in (None, 400, 422, 500, 501):
            return False
        text = f"{exc.message} {exc.body}".lower()
        if any(words in text for words in _UNREAD_WORDS):
            return True
        return status is not None and any(word in text for word in _FORMAT_WORDS)

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
        if status == 400 and "context size" in detail.lower():  # llama.cpp's words
            kind = self._survey.kind if self._survey else "llama.cpp"
            return errors.ContextOverflowError(
                f"{self._where} refused the request: {detail}; {servers.raise_context(kind)}"
            )
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
            if wait is not None and wait > _SDK_WAITS_AT_MOST:
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


def _short_detail(exc: openai.APIError) -> str:
    body = exc.body
    message: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    text = str(message or exc.message or "no detail").replace("\n", " ")
    return text[:300]


def _status(exc: openai.APIError) -> int | None:
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None


async def _unread_is_final(response: httpx2.Response) -> None:
    """Mark a 500 that says the server could not read the model's output as not to be retried
    by the SDK: at temperature 0 the same request fails the same way; the next mode down is
    what helps (``_rejects_format``)."""
    if response.status_code == 500:
        text = (await response.aread()).decode("utf-8", "replace").lower()
        if any(words in text for words in _UNREAD_WORDS):
            response.headers["x-should-retry"] = "false"  # the SDK's own switch


def _async_sdk(max_reply_bytes: int, sdk_options: dict[str, Any]) -> openai.AsyncOpenAI:
    transport = AsyncCappedTransport(max_reply_bytes, _CONNECTIONS)
    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [heard_now],
        "response": [heard_now, _unread_is_final],
    }
    http = openai.DefaultAsyncHttpxClient(transport=transport, event_hooks=hooks)
    return openai.AsyncOpenAI(**sdk_options, http_client=http)


class _OwnLoop:
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
