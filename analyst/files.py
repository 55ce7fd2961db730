"""Files: reading an article's bytes, writing all-or-nothing, and paths as printable text."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePath

from analyst.errors import InputError


def read_bytes(path: Path) -> bytes:
    """The bytes of an article file, or an ``InputError`` that says why not."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory; `analyst batch` reads folders") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def write_atomic(path: Path, text: str) -> None:
    """Write all or nothing: a reader never sees half a file, a crash never leaves one."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def display(path: PurePath) -> str:
    """A path as text that any terminal, log and SQLite column can hold.

    File names on Linux are bytes; those that are not UTF-8 show their odd bytes as ``\\xNN``.
    """
    raw = os.fsencode(path.as_posix())
    return raw.decode("utf-8", errors="backslashreplace")
