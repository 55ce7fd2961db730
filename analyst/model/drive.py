"""Drivers: carry out a pipeline computation's model calls, answering from the call cache first.

The pipeline never calls a client itself. It is a generator (``Calls[R]``) that yields each
``ChatRequest`` and is sent the ``Completion``; a driver does the I/O. ``run`` serves one article on
a blocking ``ChatClient``; ``arun`` serves many at once on an ``AsyncChatClient`` (a client with
only a blocking ``complete`` runs in a worker thread). What both do between two calls — the cache,
a malformed answer handed back to the pipeline, the end — is ``_Steps``, written once.

Only replies the pipeline *accepted* are stored: a reply stays pending until the pipeline's next
move shows whether it passed validation (a fresh request, or the end) or not (a re-ask). So a
later run — ``--retry-failed`` after a model failure, say — asks the model again instead of
replaying the invalid reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from analyst.errors import MalformedReplyError
from analyst.model.ask import Calls
from analyst.model.cache import CallCache, call_key
from analyst.model.seam import AsyncChatClient, ChatClient, ChatRequest, Completion, Deferred

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """The article gave up its place before its first request (the batch is stopping)."""


class Gate(Protocol):
    """The way to the requests in flight that a batch shares among its articles."""

    async def enter(self) -> bool:
        """Wait for a slot; ``False`` means withdraw instead (nothing was asked yet)."""
        ...

    def leave(self) -> None:
        """Give the slot back."""
        ...


class _Steps(Generic[R]):
    """A computation between its calls: answers from the cache, stores accepted replies."""

    def __init__(self, calls: Calls[R], cache: CallCache | None, identity: str, model: str):
        self._calls = calls
        self._cache = cache
        self._identity = identity
        self._model = model
        self._key = ""
        self._pending: Completion | None = None
        self.result: R

    def first(self) -> ChatRequest | None:
        return self._advance(lambda: next(self._calls))

    def answer(self, reply: Completion) -> ChatRequest | None:
        self._pending = reply
        return self._advance(lambda: self._calls.send(reply))

    def fail(self, exc: MalformedReplyError) -> ChatRequest | None:
        """The pipeline decides: ask again, or give up (then ``exc`` propagates)."""
        return self._advance(lambda: self._calls.throw(exc))

    def close(self) -> None:
        self._calls.close()

    def _advance(self, move: Callable[[], ChatRequest]) -> ChatRequest | None:
        """Make ``move`` and go on until a request the cache cannot answer, or the end."""
        try:
            request = move()
            while True:
                if self._pending is not None and request.attempt == 1:
                    self._store()  # the previous reply passed: the pipeline moved on
                self._pending = None
                cached = self._lookup(request)
                if cached is None:
                    return request
                request = self._calls.send(cached)
        except StopIteration as finished:
            self._store()
            self.result = finished.value
            return None

    def _lookup(self, request: ChatRequest) -> Completion | None:
        if self._cache is None:
            return None
        self._key = call_key(self._identity, request)
        return self._cache.get(self._key)

    def _store(self) -> None:
        if self._pending is not None and self._cache is not None:
            self._cache.put(self._key, self._model, self._pending)
        self._pending = None


def run(
    calls: Calls[R], client: ChatClient, cache: CallCache | None = None, identity: str = ""
) -> R:
    """Answer every request of ``calls`` with ``client`` (or the cache) and return its result."""
    steps = _Steps(calls, cache, identity, client.info.model)
    try:
        request = steps.first()
        while request is not None:
            try:
                reply = client.complete(request)
            except MalformedReplyError as exc:
                request = steps.fail(exc)
                continue
            request = steps.answer(reply)
        return steps.result
    finally:
        steps.close()  # a no-op once finished; else the computation is abandoned (an error)


async def arun(
    calls: Calls[R],
    client: AsyncChatClient | ChatClient,
    cache: CallCache | None = None,
    identity: str = "",
    gate: Gate | None = None,
) -> R | Deferred | Withdrawn:
    """``run`` for the event loop: other articles proceed while this one waits on the server.

    Each request to the client is made through ``gate`` (shared by every article of a batch, to
    bound the requests in flight). Returns ``Deferred`` when a provider-batch client takes the
    request for later, ``Withdrawn`` when the gate turns the article away.
    """
    steps = _Steps(calls, cache, identity, client.info.model)
    try:
        request = steps.first()
        while request is not None:
            if gate is not None and not await gate.enter():
                return Withdrawn()
            try:
                reply = await _acomplete(client, request)
            except MalformedReplyError as exc:
                request = steps.fail(exc)
                continue
            finally:
                if gate is not None:
                    gate.leave()
            if isinstance(reply, Deferred):
                return reply
            request = steps.answer(reply)
        return steps.result
    finally:
        steps.close()


async def _acomplete(
    client: AsyncChatClient | ChatClient, request: ChatRequest
) -> Completion | Deferred:
    if isinstance(client, AsyncChatClient):
        return await client.acomplete(request)
    return await asyncio.to_thread(client.complete, request)


class SemaphoreGate:
    """A ``Gate`` that only bounds: an ``asyncio.Semaphore`` shared by the articles."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore = semaphore

    async def enter(self) -> bool:
        await self._semaphore.acquire()
        return True

    def leave(self) -> None:
        self._semaphore.release()
