"""A report file of a library's folder: its id, and the report in it or why there is none."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from analyst.errors import InputError
from analyst.files import read_bytes
from analyst.schema import Report

REPORT_CAP = 256 * 2**20  # a report with its article's text, and more


def file_id(relative: str) -> str:
    """A report file's id: the same for the same path, in any library made of the folder."""
    return hashlib.sha256(relative.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def read_report(folder: Path, relative: str) -> Report | str:
    """The report in the file, or why it is not one."""
    try:
        return Report.model_validate_json(read_bytes(folder / relative, REPORT_CAP))
    except InputError as exc:
        return str(exc)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "the top"
        return f"not an analyst report ({where}: {problem['msg']})"
