"""Files: reading an article's bytes, writing all-or-nothing, and paths as printable text."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path, PurePath
from typing import BinaryIO

from analyst.errors import ConfigError, InputError


def as_path(value: object, name: str) -> Path:
    """A path argument (``str`` or ``os.PathLike``) as a Path; anything else a ``ConfigError``."""
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        return Path(value)
    raise ConfigError(f"{name} must be a path (str or os.PathLike), not {type(value).__name__}")


def read_bytes(path: Path, limit: int = 64 * 2**20, *, regular_only: bool = False) -> bytes:
    """The bytes of an article file (at most ``limit``), or an ``InputError`` that says why not.

    Read in pieces against the limit, never whole: ``/dev/zero``, a FIFO fed forever or a file
    that grows while read must not take the machine's memory. ``regular_only`` (a batch) refuses
    FIFOs, devices and sockets: opened without blocking, so a FIFO with no writer cannot stall.
    """
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_NONBLOCK if regular_only else 0))
        with os.fdopen(fd, "rb") as f:
            if regular_only and not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError(f"{display(path)} is not a regular file")
            return read_capped(f, limit, what=display(path))
    except FileNotFoundError:
        raise InputError(f"{display(path)}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{display(path)} is a directory; `analyst batch` reads folders") from None
    except OSError as exc:
        raise InputError(f"cannot read {display(path)}: {exc.strerror}") from None


def read_capped(stream: BinaryIO, limit: int, *, what: str) -> bytes:
    """At most ``limit`` bytes of ``stream``; more is an ``InputError`` (exit 3)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(2**20, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise InputError(f"{what} is over the {limit:,}-byte cap (--max-input-bytes)")
    return b"".join(chunks)


def write_atomic(path: Path, text: str) -> None:
    """Write all or nothing: a reader never sees half a file, a crash never leaves one.

    Only a regular file is replaced (by a temporary file renamed over it). What is not one is
    written into as it is — a device (``/dev/null``, ``/dev/full``, a terminal), a FIFO, a
    symlink to ``/proc/self/fd/1`` — never replaced by a file: as root, a rename over
    ``/dev/null`` would turn the device into a regular file. A symlink to a regular file
    keeps the link and replaces the file it points to.
    """
    try:
        found = os.stat(path)  # follows links
    except FileNotFoundError:
        found = None  # a new file (or a link that leads nowhere yet: replaced as a file)
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if found is not None and not stat.S_ISREG(found.st_mode):
        _write_into(path, text)
        return
    if found is not None and path.is_symlink():
        path = Path(os.path.realpath(path))
    directory = path.parent if str(path.parent) else Path(".")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)  # a file replaced keeps its mode
    except OSError:
        mode = 0o666 & ~_umask()  # a new one gets what open() would give it
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)  # mkstemp makes it 0600, whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_into(path: Path, text: str) -> None:
    """``text`` written into a node that is not a regular file (a device, a FIFO, a terminal),
    whole: a short write is retried, a full device ("No space left") is an ``OSError``."""
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _umask() -> int:
    """The process's umask: Linux shows it in /proc; elsewhere set and restore it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def display(path: PurePath) -> str:
    """A path as text that any terminal, log and SQLite column can hold.

    File names on Linux are bytes; those that are not UTF-8 show their odd bytes as ``\\xNN``.
    """
    raw = os.fsencode(path.as_posix())
    return raw.decode("utf-8", errors="backslashreplace")


# C0 and C1 controls, DEL, and the line and paragraph separators: what can move a terminal's
# cursor, recolour it, or start a line that looks like analyst's own.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\n``, ``\\x1b``): safe for a terminal.

    A file name can hold an escape sequence or a newline; printed raw it recolours the terminal
    or forges a line ("analyst: all good, 0 failed.txt").
    """
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)
