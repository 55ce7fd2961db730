"""Rows of a JSONL file of labelled data, read safely: each line capped, UTF-8 checked, a bad one
named by its line number."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from analyst.errors import InputError
from analyst.files import display
from analyst.reading.clean import no_surrogates

MAX_LINE = 64 * 2**20  # characters in one JSONL row
T = TypeVar("T")


def read_rows(path: Path) -> Iterator[str]:
    """The file's non-empty lines."""
    number = 0
    try:
        with path.open(encoding="utf-8") as f:
            # A line at a time, each capped: /dev/zero or a file with no newline must not
            # become one line as large as memory.
            for number, line in enumerate(iter(lambda: f.readline(MAX_LINE + 1), ""), start=1):
                if len(line) > MAX_LINE:
                    raise InputError(
                        f"{display(path)}:{number}: a row over {MAX_LINE:,} characters"
                    )
                if line.strip():
                    yield line
    except UnicodeDecodeError:
        raise InputError(f"{display(path)}:{number + 1}: not UTF-8 (JSONL is UTF-8)") from None
    except OSError as exc:
        raise InputError(f"cannot read {display(path)}: {exc.strerror}") from None


def text_field(data: dict[str, Any], name: str) -> str:
    """A text field of a row, as a string; lone surrogates (which ``json`` lets through, and no
    output can write) become U+FFFD."""
    value = data[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return no_surrogates(value)


def optional_field(data: dict[str, Any], name: str) -> str | None:
    return None if data.get(name) is None else text_field(data, name)


def load(path: Path, row: Callable[[dict[str, Any]], T], what: str) -> list[T]:
    """Every row of the JSONL at ``path`` made into ``row(data)``; a line that is not JSON or
    lacks a field is an ``InputError`` naming the line, an empty file one saying so."""
    rows: list[T] = []
    for number, line in enumerate(read_rows(path), start=1):
        try:
            rows.append(row(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: not {what} ({exc})") from None
    if not rows:
        raise InputError(f"{path} has no rows")
    return rows
