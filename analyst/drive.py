"""Drivers: carry out a pipeline computation's model calls, answering from the call cache first.

The pipeline never calls a client itself. It is a generator (``Calls[R]``) that yields each
``ChatRequest`` and is sent the ``Completion``; a driver does the I/O. ``run`` serves one article on
a blocking ``ChatClient``; ``arun`` serves many at once on an ``AsyncChatClient`` (a client with
only a blocking ``complete`` runs in a worker thread). Both consult the same ``CallCache``.

Only replies the pipeline *accepted* are stored: a reply stays pending until the pipeline's next
move shows whether it passed validation (a fresh request, or the end) or not (a re-ask). So a
later run — ``--retry-failed`` after a model failure, say — asks the model again instead of
replaying the invalid reply.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from analyst.backends.base import AsyncChatClient, ChatClient, ChatRequest, Completion
from analyst.cache import CallCache
from analyst.structured import Calls

R = TypeVar("R")


class _Ledger:
    """The cache side of a driver: lookups, and stores once a reply's fate is known."""

    def __init__(self, cache: CallCache | None, identity: str) -> None:
        self._cache = cache
        self._identity = identity
        self._pending: tuple[ChatRequest, Completion] | None = None

    def lookup(self, request: ChatRequest) -> Completion | None:
        if self._pending is not None and request.attempt == 1:
            self._cache_pending()  # the previous reply passed: the pipeline moved on
        self._pending = None
        return self._cache.lookup(self._identity, request) if self._cache else None

    def paid(self, request: ChatRequest, reply: Completion) -> None:
        self._pending = (request, reply)

    def finished(self) -> None:
        if self._pending is not None:
            self._cache_pending()

    def _cache_pending(self) -> None:
        assert self._pending is not None
        if self._cache is not None:
            self._cache.store(self._identity, *self._pending)
        self._pending = None


def run(
    calls: Calls[R], client: ChatClient, cache: CallCache | None = None, identity: str = ""
) -> R:
    """Answer every request of ``calls`` with ``client`` (or the cache) and return its result."""
    ledger = _Ledger(cache, identity)
    try:
        request = next(calls)
        while True:
            reply = ledger.lookup(request)
            if reply is None:
                reply = client.complete(
                    request.messages,
                    schema=request.schema,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                )
                ledger.paid(request, reply)
            request = calls.send(reply)
    except StopIteration as done:
        ledger.finished()
        result: R = done.value
        return result
    finally:
        calls.close()


async def arun(
    calls: Calls[R],
    client: AsyncChatClient | ChatClient,
    cache: CallCache | None = None,
    identity: str = "",
) -> R:
    """``run`` for the event loop: other articles proceed while this one waits on the server."""
    ledger = _Ledger(cache, identity)
    try:
        request = next(calls)
        while True:
            reply = ledger.lookup(request)
            if reply is None:
                reply = await _acomplete(client, request)
                ledger.paid(request, reply)
            request = calls.send(reply)
    except StopIteration as done:
        ledger.finished()
        result: R = done.value
        return result
    finally:
        calls.close()


async def _acomplete(client: AsyncChatClient | ChatClient, request: ChatRequest) -> Completion:
    if isinstance(client, AsyncChatClient):
        return await client.acomplete(
            request.messages,
            schema=request.schema,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
        )
    return await asyncio.to_thread(
        client.complete,
        request.messages,
        schema=request.schema,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
    )
