"""A content-addressed cache of model replies, in SQLite, so the same call is never paid twice.

The key is the sha256 of everything that decides a reply: which model on which server, the schema,
the messages (so the prompts and the article), ``max_tokens`` and ``temperature``. Change the
synthesis prompt and only the synthesis calls miss; edit the article and every call misses. Keys
and stored replies never include the API key. Only finished replies (``finish_reason == "stop"``)
are stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

from analyst.model.seam import ChatRequest, Completion, StructuredMode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    content TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    mode TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class CallCache:
    """Model replies by key, in one SQLite file (WAL mode, safe across threads and processes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Why the cache stopped (a full or read-only disk), once: it then answers nothing and
        # keeps nothing, and the report says so; the model's replies are never lost to it.
        self.problem: str | None = None
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL skips the fsync per commit; a power cut may lose the last replies
        # (they are asked again), never corrupt the file.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.commit()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def take_over(self, other: Path) -> int:
        """Move the replies of another file's ``calls`` table here (batch manifests kept their
        batch's replies until every run shared this cache); returns how many were new here."""
        with self._lock, self._db:
            self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
            try:
                tables = self._db.execute(
                    "SELECT 1 FROM other.sqlite_master WHERE type = 'table' AND name = 'calls'"
                ).fetchone()
                if tables is None:
                    return 0
                before = self._db.total_changes
                self._db.execute("INSERT OR IGNORE INTO main.calls SELECT * FROM other.calls")
                moved = self._db.total_changes - before
                self._db.execute("DROP TABLE other.calls")
                return moved
            finally:
                self._db.commit()
                self._db.execute("DETACH DATABASE other")

    def get(self, key: str) -> Completion | None:
        """The stored reply for ``key``, marked as cached, or ``None``."""
        if self.problem is not None:
            return None
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT content, finish_reason, prompt_tokens, completion_tokens, mode "
                    "FROM calls WHERE key = ?",
                    (key,),
                ).fetchone()
        except sqlite3.Error as exc:
            self._stop("read", exc)
            return None
        if row is None:
            return None
        return Completion(row[0], row[1], row[2], row[3], StructuredMode(row[4]), cached=True)

    def put(self, key: str, model: str, completion: Completion) -> None:
        """Store ``completion`` when it is a finished answer (see ``cacheable``)."""
        if not cacheable(completion) or self.problem is not None:
            return
        try:
            with self._lock, self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        model,
                        completion.content,
                        completion.finish_reason,
                        completion.prompt_tokens,
                        completion.completion_tokens,
                        completion.mode.value,
                        time.time(),
                    ),
                )
        except sqlite3.Error as exc:  # "database or disk is full", "readonly database"
            self._stop("written", exc)

    def _stop(self, doing: str, exc: sqlite3.Error) -> None:
        self.problem = f"the call cache ({self.path}) could not be {doing} ({exc}); it is off"


def call_key(identity: str, request: ChatRequest) -> str:
    """The sha256 of everything that decides a reply."""
    payload = {
        "identity": identity,
        "messages": [[m["role"], m["content"]] for m in request.messages],
        "schema": [request.schema.name, request.schema.digest],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.copying:  # sampled differently (see ChatRequest); absent, older keys still hold
        payload["copying"] = True
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def cacheable(completion: Completion) -> bool:
    """Only a finished, fresh answer is worth keeping (not a cut-off reply, not a refusal)."""
    return completion.finish_reason == "stop" and not completion.refusal and not completion.cached
