"""How many requests to keep in flight at one server, adapted to what it shows it can take.

A server that says how many requests it decodes at once (llama.cpp's ``total_slots``) is given
that many and no more. One that does not (Ollama's ``OLLAMA_NUM_PARALLEL`` is invisible, LM
Studio's and vLLM's limits too) starts at the batch's number and is given fewer when it shows
strain: a request that waited a whole ``--timeout`` for its first word, a 429 or a 503 halves
the limit; it grows back by one after ``GROW_AFTER`` times the limit of requests served without
strain, never past where it started.
"""

from __future__ import annotations

import threading
import time

GROW_AFTER = 4  # requests served, per request of the limit, before it grows by one
# Strain reported within this many seconds of a halving is the same strain (the requests that
# were already in flight): it does not halve again.
SETTLE_SECONDS = 5.0


class Throttle:
    """The number of requests in flight a batch may have at one server (thread-safe)."""

    def __init__(self, limit: int = 4) -> None:
        self._lock = threading.Lock()
        self._limit = self._ceiling = limit
        self._served = 0
        self._halved_at = float("-inf")
        self.halvings = 0  # how often the server showed strain (reported in batch results)

    @property
    def limit(self) -> int:
        """Requests the batch may have in flight now."""
        return self._limit

    def start(self, limit: int) -> None:
        """Begin at ``limit``, which is also the most it will grow back to."""
        with self._lock:
            self._limit = self._ceiling = max(1, limit)
            self._served = 0

    def strained(self) -> None:
        """The server showed strain: halve (once per ``SETTLE_SECONDS``)."""
        with self._lock:
            now = time.monotonic()
            if now - self._halved_at < SETTLE_SECONDS:
                return
            self._halved_at = now
            self.halvings += 1
            self._limit = max(1, self._limit // 2)
            self._served = 0

    def served(self) -> None:
        """A request was answered without strain."""
        with self._lock:
            if self._limit >= self._ceiling:
                return
            self._served += 1
            if self._served >= GROW_AFTER * self._limit:
                self._limit += 1
                self._served = 0
