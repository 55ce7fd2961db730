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
import contextlib
from typing import TypeVar

from analyst.backends.base import AsyncChatClient, ChatClient, ChatRequest, Completion
from analyst.cache import CallCache, call_key
from analyst.errors import MalformedReplyError
from analyst.structured import Calls

R = TypeVar("R")


class _Ledger:
    """The cache side of a driver: lookups, and stores once a reply's fate is known."""

    def __init__(self, cache: CallCache | None, identity: str, model: str) -> None:
        self._cache = cache
        self._identity = identity
        self._model = model
        self._key = ""
        self._pending: Completion | None = None

    def lookup(self, request: ChatRequest) -> Completion | None:
        if self._pending is not None and request.attempt == 1:
            self.finished()  # the previous reply passed: the pipeline moved on
        self._pending = None
        if self._cache is None:
            return None
        self._key = call_key(self._identity, request)
        return self._cache.get(self._key)

    def paid(self, reply: Completion) -> None:
        self._pending = reply

    def finished(self) -> None:
        if self._pending is not None and self._cache is not None:
            self._cache.put(self._key, self._model, self._pending)
        self._pending = None


def run(
    calls: Calls[R], client: ChatClient, cache: CallCache | None = None, identity: str = ""
) -> R:
    """Answer every request of ``calls`` with ``client`` (or the cache) and return its result."""
    ledger = _Ledger(cache, identity, client.model)
    try:
        request = next(calls)
        while True:
            reply = ledger.lookup(request)
            if reply is None:
                try:
                    reply = client.complete(
                        request.messages,
                        schema=request.schema,
                        max_tokens=request.max_tokens,
                        temperature=request.temperature,
                    )
                except MalformedReplyError as exc:
                    request = calls.throw(exc)  # the pipeline decides: ask again, or give up
                    continue
                ledger.paid(reply)
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
    limit: contextlib.AbstractAsyncContextManager[object] | None = None,
) -> R:
    """``run`` for the event loop: other articles proceed while this one waits on the server.

    Each request to the client is made inside ``limit`` (a semaphore shared by every article,
    say, to bound the requests in flight).
    """
    ledger = _Ledger(cache, identity, client.model)
    try:
        request = next(calls)
        while True:
            reply = ledger.lookup(request)
            if reply is None:
                try:
                    async with limit or contextlib.nullcontext():
                        reply = await _acomplete(client, request)
                except MalformedReplyError as exc:
                    request = calls.throw(exc)  # the pipeline decides: ask again, or give up
                    continue
                ledger.paid(reply)
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
