"""The batch manifest: one SQLite row per article saying what happened to it, in the output folder.

It lives beside the reports (``<out>/manifest.sqlite``, WAL mode) together with the batch's call
cache (table ``calls``, see ``analyst.cache``), so a folder of reports carries its own history: the
article's sha256, the hash of the settings and prompts that made its report, its status, the error
if any, its usage and times. A row says ``running`` from the moment an article is taken up until
its report has been renamed into place, so a batch killed with ``kill -9`` leaves ``running`` rows,
and the next run redoes exactly those.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyst.schema import Usage

FILE_NAME = "manifest.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,          -- relative to the input folder, '/'-separated
    sha256 TEXT NOT NULL,           -- of the article's bytes
    config TEXT NOT NULL,           -- hash of the model, settings and prompts
    status TEXT NOT NULL,           -- running | ok | failed | interrupted | waiting
    error_kind TEXT,                -- input | model-server | model-output | context | internal
    error TEXT,
    outputs TEXT,                   -- JSON list of the report files written
    card TEXT,                      -- JSON: title, date, fact counts (the batch's index.html)
    version TEXT,                   -- a feed item's id and update time, when it came from one
    etag TEXT,                      -- a web page's validators, for a conditional GET next time
    last_modified TEXT,
    calls INTEGER,
    cache_hits INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd REAL,
    started REAL,
    finished REAL,
    seconds REAL
);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    items TEXT NOT NULL,            -- JSON: the items as last read, for when it answers 304
    fetched REAL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    config TEXT NOT NULL,
    settings TEXT NOT NULL,         -- what made the reports (never the API key)
    total INTEGER, ok INTEGER, failed INTEGER, skipped INTEGER,
    interrupted INTEGER,
    stopped TEXT                    -- why it ended early: interrupted | budget | an error
);
"""


@dataclass(frozen=True)
class Row:
    """What the manifest knows of one article."""

    path: str
    sha256: str
    config: str
    status: str
    error_kind: str | None
    error: str | None
    outputs: list[str]
    version: str | None = None
    etag: str | None = None
    last_modified: str | None = None


class Manifest:
    """Per-article status in ``<out_dir>/manifest.sqlite``."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / FILE_NAME
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a power cut may lose the last commits, never corrupt the file.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        if "stopped" not in columns:  # a manifest written before the column existed
            self._db.execute("ALTER TABLE runs ADD COLUMN stopped TEXT")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(files)")}
        for column in ("card", "version", "etag", "last_modified"):
            if column not in columns:  # a manifest written before the column existed
                self._db.execute(f"ALTER TABLE files ADD COLUMN {column} TEXT")
        self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def get(self, path: str) -> Row | None:
        """The row of ``path``, if it was ever taken up."""
        row = self._db.execute(
            "SELECT path, sha256, config, status, error_kind, error, outputs, version, etag, "
            "last_modified FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        if row is None:
            return None
        path, sha256, config, status, kind, error, outputs, version, etag, modified = row
        found = json.loads(outputs or "[]")
        return Row(path, sha256, config, status, kind, error, found, version, etag, modified)

    def remember_web(
        self, path: str, *, version: str | None, etag: str | None, last_modified: str | None
    ) -> None:
        """Record what a web article's next fetch needs: its feed version and validators."""
        with self._db:
            self._db.execute(
                "UPDATE files SET version = ?, etag = ?, last_modified = ? WHERE path = ?",
                (version, etag, last_modified, path),
            )

    def feed(self, url: str) -> tuple[str | None, str | None, list[dict[str, Any]]] | None:
        """A feed's validators and items as last read, if it was read before."""
        row = self._db.execute(
            "SELECT etag, last_modified, items FROM feeds WHERE url = ?", (url,)
        ).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    def remember_feed(
        self, url: str, *, etag: str | None, last_modified: str | None, items: list[dict[str, Any]]
    ) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO feeds (url, etag, last_modified, items, fetched) "
                "VALUES (?, ?, ?, ?, ?)",
                (url, etag, last_modified, json.dumps(items), time.time()),
            )

    def failed_paths(self) -> set[str]:
        """Paths whose last attempt failed."""
        return {r[0] for r in self._db.execute("SELECT path FROM files WHERE status = 'failed'")}

    def start(self, path: str, sha256: str, config: str) -> None:
        """Mark ``path`` as taken up (a crash from here on leaves it ``running``)."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO files (path, sha256, config, status, started) "
                "VALUES (?, ?, ?, 'running', ?)",
                (path, sha256, config, time.time()),
            )

    def finish(
        self,
        path: str,
        *,
        status: str,
        usage: Usage,
        outputs: list[str] = [],  # noqa: B006 - read only
        error_kind: str | None = None,
        error: str | None = None,
        card: dict[str, object] | None = None,
    ) -> None:
        """Record how ``path`` ended."""
        with self._db:
            self._db.execute(
                "UPDATE files SET status = ?, error_kind = ?, error = ?, outputs = ?, calls = ?, "
                "cache_hits = ?, prompt_tokens = ?, completion_tokens = ?, cost_usd = ?, "
                "finished = ?, seconds = ?, card = ? WHERE path = ?",
                (
                    status,
                    error_kind,
                    error,
                    json.dumps(outputs),
                    usage.calls,
                    usage.cache_hits,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.cost_usd,
                    time.time(),
                    usage.seconds,
                    json.dumps(card) if card is not None else None,
                    path,
                ),
            )

    def entries(self) -> list[dict[str, Any]]:
        """Every article's last outcome, for the batch's index page: path, status, error,
        outputs, seconds and the report's card (when it has one)."""
        rows = self._db.execute(
            "SELECT path, status, error, outputs, seconds, card FROM files ORDER BY path"
        )
        return [
            {
                "path": path,
                "status": status,
                "error": error,
                "outputs": json.loads(outputs or "[]"),
                "seconds": seconds,
                "card": json.loads(card) if card else None,
            }
            for path, status, error, outputs, seconds, card in rows
        ]

    def begin_run(self, config: str, settings: dict[str, object]) -> int:
        """Record the start of a run; returns its id."""
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO runs (started, config, settings) VALUES (?, ?, ?)",
                (time.time(), config, json.dumps(settings, sort_keys=True)),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def end_run(
        self,
        run_id: int,
        *,
        total: int,
        ok: int,
        failed: int,
        skipped: int,
        interrupted: bool,
        stopped: str | None = None,
    ) -> None:
        """Record how a run ended, and why it stopped early if it did."""
        with self._db:
            self._db.execute(
                "UPDATE runs SET finished = ?, total = ?, ok = ?, failed = ?, skipped = ?, "
                "interrupted = ?, stopped = ? WHERE id = ?",
                (time.time(), total, ok, failed, skipped, int(interrupted), stopped, run_id),
            )
