"""The report files of a library's folder (a batch's output, say), indexed and kept up to date.

A scan lists the folder's ``*.json`` files (hidden files and folders, and links to folders, left
alone: a link loop cannot hold it), compares each with what was read before (size and
modification time) and reads only what is new or changed: a report is indexed, any other JSON
(``package.json``, a digest) is remembered as skipped with why, a file gone is dropped. The
files stay the truth: the library keeps where each is, not a copy.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from analyst.files import display
from analyst.library.files import file_id, read_report
from analyst.library.store import Library
from analyst.schema import Report

MAX_FILES = 100_000  # a folder with more is not a batch's output
CHUNK = 200  # files written in one transaction: a scan killed midway keeps what it wrote


@dataclass
class Scanned:
    """What a scan found: reports added, changed and gone; files that are not reports."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)  # newly skipped, with why
    reports: int = 0  # in the library after the scan

    def as_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "skipped": self.skipped,
            "reports": self.reports,
        }


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """The folder's JSON files by relative path: (size, mtime in ns)."""
    found: dict[str, tuple[int, int]] = {}
    for root, dirs, names in os.walk(folder):  # links to folders are not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith(".") or not name.endswith(".json"):
                continue
            path = Path(root, name)
            try:
                st = path.stat()
            except OSError:
                continue  # gone since listed, or a broken link
            if not os.path.isfile(path):
                continue
            found[display(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
            if len(found) >= MAX_FILES:
                return found
    return found


def scan(library: Library) -> Scanned:
    """Bring the library up to date with its folder's files."""
    result = Scanned()
    folder = library.folder
    library.scanned_at = time.monotonic()
    if folder is None:
        result.reports = len(library)
        return result
    on_disk = _files(folder)
    with library._lock:
        db = library._db
        known = {
            f: (size, mtime, n)
            for f, size, mtime, n in db.execute(
                "SELECT file, size, mtime, n FROM reports WHERE file IS NOT NULL"
            )
        }
        rows = db.execute("SELECT file, size, mtime FROM skipped")
        skipped = {f: (size, mtime) for f, size, mtime in rows}
    gone = [known[f][2] for f in known if f not in on_disk]
    gone_skipped = [f for f in skipped if f not in on_disk]
    todo = [
        f
        for f, stat in on_disk.items()
        if (f in known and known[f][:2] != stat) or (f not in known and skipped.get(f) != stat)
    ]
    with library._write() as db:
        for n in gone:
            library._drop(db, n)
        db.executemany("DELETE FROM skipped WHERE file = ?", [(f,) for f in gone_skipped])
    result.removed = len(gone)
    for start in range(0, len(todo), CHUNK):
        read = [(f, read_report(folder, f)) for f in todo[start : start + CHUNK]]
        with library._write() as db:
            for relative, found in read:
                size, mtime = on_disk[relative]
                if isinstance(found, Report):
                    result.updated += relative in known
                    result.added += relative not in known
                    db.execute("DELETE FROM skipped WHERE file = ?", (relative,))
                    library._put(
                        db, file_id(relative), found, file=relative, size=size, mtime=mtime
                    )
                else:
                    if relative in known:
                        library._drop(db, known[relative][2])
                        result.removed += 1
                    db.execute(
                        "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)",
                        (relative, size, mtime, found),
                    )
                    result.skipped.append(f"{relative}: {found}")
    result.reports = len(library)
    return result


def scan_if_stale(library: Library, seconds: float = 5.0) -> Scanned | None:
    """A scan, unless one ran in the last ``seconds`` or one is running (a page listed by
    several requests at once reads the folder once)."""
    if library.folder is None or time.monotonic() - library.scanned_at < seconds:
        return None
    if not library.scanning.acquire(blocking=False):
        return None
    try:
        return scan(library)
    finally:
        library.scanning.release()
