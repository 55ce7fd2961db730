"""The library: reports kept in one SQLite file, searchable, and surviving a crash.

``<folder>/library.sqlite`` holds each report ``add`` is given (its JSON, zlib-compressed) and,
for the report files of the folder itself (a batch's output), where each is and what it was when
read (size and modification time), so a rescan reads only what changed (``analyst.library.scan``).
Beside the rows, an FTS5 index over each report's title, summary, facts, notes and names.

A report is in the library once ``add`` returns, and a process killed while it writes leaves
the library as it was before: one transaction per report (its row and its index entry together)
in SQLite's write-ahead log with ``synchronous=FULL``. ``Library(None)`` keeps its reports in
memory only (``analyst serve --no-library``, and the app's tests).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from analyst.errors import ConfigError
from analyst.files import display
from analyst.library.files import file_id, read_report
from analyst.library.query import MARK_CLOSE, MARK_OPEN, Query, day_of, highlights
from analyst.schema import Report

FILE = "library.sqlite"
VERSION = 1  # PRAGMA user_version of the layout below
# The search's column weights, in bm25's order: a word in the title counts most.
WEIGHTS = (10.0, 4.0, 2.0, 2.0, 3.0)
LAYOUT = """
CREATE TABLE IF NOT EXISTS reports (
    n INTEGER PRIMARY KEY,          -- the search index's rowid
    id TEXT NOT NULL UNIQUE,
    title TEXT, site TEXT, day TEXT, language TEXT, source TEXT,
    facts INTEGER NOT NULL, summary TEXT NOT NULL,
    added REAL NOT NULL,
    file TEXT UNIQUE,               -- a report file of the folder (NULL: kept here, in body)
    size INTEGER, mtime INTEGER,    -- the file's, when it was read
    body BLOB                       -- the report's JSON, zlib-compressed
);
CREATE INDEX IF NOT EXISTS reports_day ON reports(day);
CREATE INDEX IF NOT EXISTS reports_site ON reports(site);
CREATE INDEX IF NOT EXISTS reports_language ON reports(language);
CREATE TABLE IF NOT EXISTS skipped (  -- JSON files of the folder that are not reports
    file TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, why TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
    title, summary, facts, notes, names, tokenize = 'unicode61 remove_diacritics 2'
);
"""
_COLUMNS = "r.id, r.title, r.site, r.day, r.language, r.source, r.facts, r.summary, r.added, r.file"


@dataclass(frozen=True)
class Entry:
    """A report as the library lists it."""

    id: str
    title: str | None
    site: str | None
    date: str | None
    language: str | None
    source: str | None
    facts: int
    summary: str
    added: float
    file: str | None = None
    snippet: str | None = None  # where the search words are, with ``highlights`` in it
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "site": self.site,
            "date": self.date,
            "language": self.language,
            "source": self.source,
            "facts": self.facts,
            "summary": self.summary,
            "added": self.added,
            "file": self.file,
            "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
            "links": {"self": f"/v1/library/{self.id}", "html": f"/reports/{self.id}"},
        }


@dataclass(frozen=True)
class Found:
    """One page of a search, and how many match in all."""

    entries: list[Entry]
    total: int
    query: Query


def site_of(report: Report) -> str | None:
    """The site's name as the page gives it, else the host it came from."""
    if report.metadata.site:
        return report.metadata.site
    host = urlsplit(report.source.url or "").hostname
    return host.removeprefix("www.") if host else None


def indexed(report: Report) -> tuple[str, str, str, str, str]:
    """What the search reads of a report: title, summary, facts, notes, names."""
    names = [n for e in report.entities for n in (e.name, *e.aliases)]
    return (
        report.title or "",
        report.summary,
        "\n".join(f.text for f in report.facts),
        "\n".join(n.text for n in report.notes),
        "\n".join(names),
    )


class Library:
    """The reports of one folder (``None``: in memory), behind one lock: every call may come
    from any thread (``analyst serve`` calls from its worker threads)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.scanned_at = 0.0
        self.scanning = threading.Lock()  # held by a scan_if_stale under way
        self._lock = threading.RLock()
        where = ":memory:" if folder is None else str(folder / FILE)
        try:
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 10000")  # another process may be writing
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > VERSION:
                raise ConfigError(
                    f"the library in {display(folder or Path())} was made by a newer analyst "
                    f"(layout {version}); upgrade analyst or choose another --library"
                )
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            with self._write():
                for statement in LAYOUT.split(";"):  # executescript would commit first
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {VERSION}")
        except sqlite3.DatabaseError as exc:
            where_shown = display(folder / FILE) if folder else "memory"
            raise ConfigError(
                f"cannot open the library {where_shown}: {exc}; move the file away (a new "
                f"library is made) or choose another --library"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"cannot make the library folder {display(folder or Path())}: {exc.strerror}"
            ) from None

    # ---- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is kept, or none of it (a crash rolls it back)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add(self, id: str, report: Report, *, source: str | None = None) -> None:
        """Keep ``report`` as ``id`` (replacing one kept so before); in the library once this
        returns."""
        body = zlib.compress(report.model_dump_json().encode(), 6)
        with self._write() as db:
            self._put(db, id, report, source=source, body=body)

    def _put(
        self,
        db: sqlite3.Connection,
        id: str,
        report: Report,
        *,
        source: str | None = None,
        body: bytes | None = None,
        file: str | None = None,
        size: int | None = None,
        mtime: int | None = None,
    ) -> None:
        row = (
            id,
            report.title,
            site_of(report),
            day_of(report.metadata.date),
            report.metadata.language or report.language,
            source or report.source.url or report.source.path,
            sum(1 for f in report.facts if f.grounded),
            report.summary,
            time.time(),
            file,
            size,
            mtime,
            body,
        )
        old = db.execute("SELECT n FROM reports WHERE id = ?", (id,)).fetchone()
        if old is not None:
            db.execute("DELETE FROM search WHERE rowid = ?", old)
            db.execute("DELETE FROM reports WHERE n = ?", old)
        n = db.execute(
            "INSERT INTO reports (id, title, site, day, language, source, facts, summary, added, "
            "file, size, mtime, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING n",
            row,
        ).fetchone()[0]
        db.execute(
            "INSERT INTO search (rowid, title, summary, facts, notes, names) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (n, *indexed(report)),
        )

    def remove(self, id: str) -> bool:
        """Let go of the report kept as ``id`` (``False``: there is none). A report file of
        the folder is not the library's to delete: a ``ConfigError`` says to delete the file."""
        with self._write() as db:
            row = db.execute("SELECT n, file FROM reports WHERE id = ?", (id,)).fetchone()
            if row is None:
                return False
            if row[1] is not None:
                raise ConfigError(
                    f"{row[1]} is a file of the library's folder: delete the file, and the "
                    "library lets it go on its next look"
                )
            self._drop(db, row[0])
        return True

    def _drop(self, db: sqlite3.Connection, n: int) -> None:
        db.execute("DELETE FROM search WHERE rowid = ?", (n,))
        db.execute("DELETE FROM reports WHERE n = ?", (n,))

    # ---- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM reports").fetchone()[0])

    def entry(self, id: str) -> Entry | None:
        """What the library lists of ``id``."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM reports r WHERE r.id = ?", (id,)
            ).fetchone()
        return Entry(*row) if row else None

    def get(self, id: str) -> Report | None:
        """The report kept as ``id``: read from the library, or from its file (a file changed
        since it was indexed is indexed again; one gone is dropped)."""
        with self._lock:
            row = self._db.execute(
                "SELECT body, file, size, mtime FROM reports WHERE id = ?", (id,)
            ).fetchone()
        if row is None:
            return None
        body, file, size, mtime = row
        if body is not None:
            return Report.model_validate_json(zlib.decompress(body))
        return self._reread(file, (size, mtime))

    def _reread(self, relative: str, indexed: tuple[int, int]) -> Report | None:
        """The report of a file of the folder as it is now; the index is written only when the
        file changed since it was read (indexed again) or is gone or no longer a report
        (dropped)."""
        assert self.folder is not None
        try:
            st = (self.folder / relative).stat()
            found: Report | str = read_report(self.folder, relative)
        except OSError:
            found = "gone"
        if isinstance(found, Report) and indexed == (st.st_size, st.st_mtime_ns):
            return found
        with self._write() as db:
            row = db.execute("SELECT n FROM reports WHERE file = ?", (relative,)).fetchone()
            if not isinstance(found, Report):
                if row is not None:
                    self._drop(db, row[0])
                return None
            self._put(
                db, file_id(relative), found, file=relative, size=st.st_size, mtime=st.st_mtime_ns
            )
        return found

    def search(self, query: Query) -> Found:
        """The reports that match ``query``, best first (by date, newest first, without
        words), one page of them, and how many match."""
        match = query.match()
        # With words, the search index leads and the filters only sift what it finds: "+"
        # keeps SQLite from starting at a column's index instead and running the search once
        # for each row of the site ("year" in one site of 10,000 reports: 169 ms; 13 ms so).
        lead = "+" if match is not None else ""
        where, args = [], []
        for column, test, value in (
            ("site", "=", query.site),
            ("language", "=", query.language),
            ("day", ">=", query.since),
            ("day", "<=", query.until),
        ):
            if value:
                where.append(f"{lead}r.{column} {test} ?")
                args.append(value)
        if match is None:
            tables, snippet, order = "reports r", "NULL", "r.day IS NULL, r.day DESC, r.added DESC"
        else:
            tables = "search JOIN reports r ON r.n = search.rowid"
            where.insert(0, "search MATCH ?")
            args.insert(0, match)
            snippet = f"snippet(search, -1, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 16)"
            order = f"bm25(search, {', '.join(map(str, WEIGHTS))}), r.added DESC"
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM {tables} {condition}", args).fetchone()[
                0
            ]
            rows = self._db.execute(
                f"SELECT {_COLUMNS}, {snippet} FROM {tables} {condition} ORDER BY {order} "
                "LIMIT ? OFFSET ?",
                [*args, query.limit, query.offset],
            ).fetchall()
        entries = []
        for row in rows:
            entry = Entry(*row[:-1])
            if row[-1] is not None:
                text, spans = highlights(row[-1])
                entry = replace(entry, snippet=text, highlights=spans)
            entries.append(entry)
        return Found(entries, total, query)

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        """The sites and languages of the library's reports, with how many of each (the
        page's filters offer these)."""
        out: dict[str, list[tuple[str, int]]] = {}
        with self._lock:
            for column in ("site", "language"):
                out[column + "s"] = self._db.execute(
                    f"SELECT {column}, count(*) FROM reports WHERE {column} IS NOT NULL "
                    f"GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT 200"
                ).fetchall()
        return {k: [(str(a), int(b)) for a, b in v] for k, v in out.items()}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
