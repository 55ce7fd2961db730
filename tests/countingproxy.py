"""A loopback HTTP proxy in front of a real model server that counts what reaches it.

Every request is passed on as it came and every answer streamed back as it comes (server-sent
events included), so the server behaves exactly as it would for analyst directly. The proxy
records each chat request: when it started and ended, and whether an identical one was still
being answered when it arrived — a request sent again while the server was still on it. A client
that goes away closes the server's connection too, as it would have without the proxy.
"""

from __future__ import annotations

import hashlib
import http.client
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Seen:
    """One chat request as the proxy saw it."""

    digest: str
    started: float
    ended: float | None = None
    status: int | None = None


@dataclass
class Counts:
    """What reached the server."""

    requests: list[Seen] = field(default_factory=list)
    resent_while_busy: int = 0  # arrived while an identical request was still being answered
    peak_in_flight: int = 0

    @property
    def chat(self) -> int:
        return len(self.requests)

    @property
    def repeated(self) -> int:
        """Requests whose body had been sent before (at any time)."""
        return len(self.requests) - len({r.digest for r in self.requests})


class CountingProxy:
    """``CountingProxy(upstream).start()``; give analyst ``.base_url``; read ``.counts``."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self.counts = Counts()
        self._lock = threading.Lock()
        self._serving: dict[str, int] = {}
        self._in_flight = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> CountingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _begin(self, body: bytes) -> Seen:
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            if self._serving.get(digest):
                self.counts.resent_while_busy += 1
            self._serving[digest] = self._serving.get(digest, 0) + 1
            self._in_flight += 1
            self.counts.peak_in_flight = max(self.counts.peak_in_flight, self._in_flight)
            seen = Seen(digest, time.monotonic())
            self.counts.requests.append(seen)
        return seen

    def _end(self, seen: Seen, status: int | None) -> None:
        with self._lock:
            self._serving[seen.digest] -= 1
            self._in_flight -= 1
            seen.ended, seen.status = time.monotonic(), status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:
                self._relay(b"")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._relay(body)

            def _relay(self, body: bytes) -> None:
                chat = self.path.rstrip("/").endswith("/chat/completions")
                seen = proxy._begin(body) if chat else None
                status: int | None = None
                upstream = http.client.HTTPConnection(proxy._host, proxy._port, timeout=3600)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    upstream.request(self.command, self.path, body or None, headers)
                    answer = upstream.getresponse()
                    status = answer.status
                    self.send_response(answer.status)
                    for key, value in answer.getheaders():
                        if key.lower() not in ("transfer-encoding", "connection"):
                            self.send_header(key, value)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    while chunk := answer.read1(65536):
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client went away: closing upstream tells the server
                finally:
                    upstream.close()
                    self.close_connection = True
                    if seen is not None:
                        proxy._end(seen, status)

        return Handler
