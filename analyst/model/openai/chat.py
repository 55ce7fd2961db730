"""Chat completions: streamed where the server allows, watched for silences (``patience``),
stepped down the structured-output ladder when a mode is refused (``failures``)."""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from analyst import errors
from analyst.model import servers
from analyst.model.capped import ReplyTooLarge
from analyst.model.completions import Streamed, completion, whole_completion
from analyst.model.openai.batches import Batches
from analyst.model.openai.core import OwnLoop
from analyst.model.openai.failures import reply_too_large, status_of
from analyst.model.patience import Heard, Silent, watched
from analyst.model.seam import (
    ChatRequest,
    Completion,
    StructuredMode,
    progress_listener,
)

T = TypeVar("T")

# Streamed: the server's usage (and llama.cpp's timings) come in the last chunk.
_STREAM = {"stream": True, "stream_options": {"include_usage": True}}
# A silent request is kept this many times ``timeout`` in all while its server says it is busy.
PATIENCE = 10


class OpenAIChatClient(Batches):
    """Talks to ``base_url`` (OpenAI's API when ``None``) through the official SDK: chat
    completions (here), provider batches (``batches``), errors (``failures``), and the shared
    state (``core``)."""

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
                if isinstance(exc, openai.RateLimitError) or status_of(exc) == 503:
                    self.throttle.strained()
                if not self._refuses_stream(exc, stream):
                    self._step_down_or_raise(exc, mode)
                continue
            except ReplyTooLarge as exc:
                raise reply_too_large(exc) or errors.ModelServerError(str(exc)) from None
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

    def _blocking(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on this client's own loop and wait for it, carrying the caller's
        progress listener; an interrupt cancels it there (closing the request at the server)."""
        with self._lock:
            if self._own is None:
                self._own = OwnLoop(self._max_reply_bytes, self._sdk_options)
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

    def with_model(self, model: str) -> OpenAIChatClient:
        """The same connection, asking for another model."""
        clone = copy.copy(self)
        clone._model = model
        clone._lock = threading.Lock()
        return clone
