"""An HTTP transport for the SDK that stops reading a reply past a size cap.

A reply to a request of ``max_tokens`` has a size it cannot sensibly exceed. A server that sends
far more (a bug, a proxy's error page, a hostile endpoint) must not be read whole: 200 MB of
reply took 10 GB of memory and minutes of tokenizing before this. The cap is checked on the
declared ``Content-Length`` and on the bytes as they arrive, streamed or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx2


class ReplyTooLarge(Exception):
    """The server's reply passed the cap; raised while it is read, so it is never held whole."""


def cap_for(max_tokens: int) -> int:
    """Bytes a reply of up to ``max_tokens`` tokens may take: 1 KiB per token (a streamed
    reply sends one JSON chunk per token) on top of 1 MiB (usage, timings, headers of chunks)."""
    return 2**20 + 1024 * max_tokens


def _capped(request: httpx2.Request) -> bool:
    """Only chat completions have a size bound; a provider batch's result file may be large."""
    return request.url.path.endswith("/chat/completions")


def _declared_over(response: httpx2.Response, cap: int) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ReplyTooLarge(f"a reply of {int(declared):,} bytes, over the {cap:,}-byte cap")


class _Counted(httpx2.SyncByteStream):
    def __init__(self, stream: httpx2.SyncByteStream, cap: int) -> None:
        self._stream, self._cap, self._seen = stream, cap, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._seen += len(chunk)
            if self._seen > self._cap:
                raise ReplyTooLarge(f"a reply over the {self._cap:,}-byte cap")
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _AsyncCounted(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, cap: int) -> None:
        self._stream, self._cap, self._seen = stream, cap, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            self._seen += len(chunk)
            if self._seen > self._cap:
                raise ReplyTooLarge(f"a reply over the {self._cap:,}-byte cap")
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class CappedTransport(httpx2.HTTPTransport):
    """``httpx2.HTTPTransport`` whose responses stop at ``cap`` bytes."""

    def __init__(self, cap: int, limits: httpx2.Limits) -> None:
        super().__init__(limits=limits)
        self._cap = cap

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = super().handle_request(request)
        if not _capped(request):
            return response
        try:
            _declared_over(response, self._cap)
        except ReplyTooLarge:
            response.close()
            raise
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _Counted(response.stream, self._cap)
        return response


class AsyncCappedTransport(httpx2.AsyncHTTPTransport):
    """``httpx2.AsyncHTTPTransport`` whose responses stop at ``cap`` bytes."""

    def __init__(self, cap: int, limits: httpx2.Limits) -> None:
        super().__init__(limits=limits)
        self._cap = cap

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        if not _capped(request):
            return response
        try:
            _declared_over(response, self._cap)
        except ReplyTooLarge:
            await response.aclose()
            raise
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _AsyncCounted(response.stream, self._cap)
        return response
