"""Folders of articles: finding them, mirroring their paths under ``-o``, one writer at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

from analyst.errors import ConfigError, InputError
from analyst.files import display

# What `analyst batch` reads when no --glob is given (and each of these gzipped: a.html.gz).
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf")


def is_article_name(name: str) -> bool:
    """Whether a file name has an article suffix, possibly under ``.gz``."""
    lowered = name.lower().removesuffix(".gz")
    return lowered.endswith(ARTICLE_SUFFIXES)


@dataclass(frozen=True)
class Found:
    """The articles below a folder, and what was passed over with a reason to tell the user."""

    paths: list[PurePath]  # relative to the folder
    skipped: list[str]


def find_articles(
    folder: Path, *, pattern: str | None = None, exclude: Path | None = None
) -> Found:
    """Article files below ``folder``: those matching ``pattern`` (a glob relative to the folder,
    ``**`` for any depth), else every file with a suffix of ``ARTICLE_SUFFIXES`` (or a .gz of
    one). Hidden files and folders are passed over, as are links that lead out of ``folder`` and
    anything inside ``exclude`` (the output folder)."""
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise InputError(f"{folder} {what}")
    if pattern is not None and (PurePath(pattern).is_absolute() or ".." in PurePath(pattern).parts):
        raise ConfigError(f"--glob {pattern!r} must stay inside the folder (no '..', not absolute)")
    root = folder.resolve()
    excluded = exclude.resolve() if exclude is not None else None
    candidates: Iterator[Path] = (
        folder.glob(pattern)
        if pattern
        else (p for p in folder.rglob("*") if is_article_name(p.name))
    )
    paths: list[PurePath] = []
    skipped: list[str] = []
    for path in candidates:
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        try:
            target = path.resolve()
        except (RuntimeError, OSError):  # RuntimeError: a symlink loop (Python 3.11)
            skipped.append(f"{display(relative)}: a link that loops")
            continue
        if excluded is not None and (target == excluded or target.is_relative_to(excluded)):
            continue
        if not target.is_relative_to(root):
            skipped.append(f"{display(relative)}: a link that leads out of {folder}")
            continue
        if path.is_symlink() and not target.exists():
            skipped.append(f"{display(relative)}: a broken link")
            continue
        if target.is_file():
            paths.append(relative)
        elif target.exists() and not target.is_dir():
            skipped.append(f"{display(relative)}: not a regular file (a FIFO, device or socket)")
    paths.sort(key=lambda p: os.fsencode(p.as_posix()))
    return Found(paths, skipped)


def mirror(out_dir: Path, relative: PurePath, suffix: str) -> Path:
    """Where the report of ``relative`` goes: the same place under ``out_dir``, plus ``suffix``.

    ``a/b.txt`` → ``out_dir/a/b.txt.json``: keeping the article's own suffix means ``b.txt`` and
    ``b.md`` never share a report. Refuses any target that would land outside ``out_dir`` (a link
    planted inside it, say).
    """
    target = out_dir / relative.parent / (relative.name + suffix)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        inside = target.parent.resolve().is_relative_to(out_dir.resolve())
    except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise InputError(f"{display(relative)}: cannot make its report's folder: {exc}") from None
    if not inside:
        raise InputError(f"{display(relative)}: its report would land outside {out_dir}")
    return target


def sweep_temporaries(folder: Path) -> int:
    """Delete what ``write_atomic`` leaves behind when a process is killed mid-write."""
    removed = 0
    for stale in folder.rglob(".*.tmp"):
        if stale.is_file() and not stale.is_symlink():
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """One batch at a time per output folder: two would race on the same reports."""
    lock_path = out / ".analyst.lock"
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another analyst batch is writing to {out}") from None
        yield
