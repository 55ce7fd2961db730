"""What a batch run produces and decides, whichever engine runs it: the running result, progress
events, the configuration hash that makes a report "done", and the report files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Literal

from analyst.batch.folders import mirror
from analyst.batch.manifest import Row
from analyst.files import display, write_atomic
from analyst.output.formats import Format, render
from analyst.pipeline import STAGES
from analyst.prompts import Prompts
from analyst.schema import SCHEMA_VERSION, Report, Usage
from analyst.settings import Settings
from analyst.version import __version__


@dataclass
class BatchResult:
    """What a batch did; live while it runs (progress displays read it)."""

    total: int = 0
    ok: int = 0
    skipped: int = 0  # done in an earlier run (or, with retry_failed, not failed earlier)
    waiting: int = 0  # their next request was exported (--export-batch): no report yet
    failed: dict[str, int] = field(default_factory=dict)  # by error kind
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # path, kind, message
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0
    interrupted: bool = False
    budget_exhausted: bool = False  # the run's token budget was spent; the rest was not started
    warnings: list[str] = field(default_factory=list)
    manifest: Path | None = None
    concurrency: int = 0  # requests in flight at most (the server's slots, or as asked)
    concurrency_why: str = ""
    exported: int | None = None  # requests written to --export-batch's file

    @property
    def failed_count(self) -> int:
        """Articles that failed in this run."""
        return sum(self.failed.values())

    @property
    def done(self) -> int:
        """Articles finished one way or another in this run."""
        return self.ok + self.skipped + self.failed_count + self.waiting

    def fail(self, path: str, kind: str, message: str, usage: Usage) -> None:
        """Count one failed article."""
        self.failed[kind] = self.failed.get(kind, 0) + 1
        self.failures.append((path, kind, message))
        self.add(usage)

    def add(self, usage: Usage) -> None:
        """Count what one article cost."""
        self.calls += usage.calls
        self.cache_hits += usage.cache_hits
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        if usage.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + usage.cost_usd


@dataclass(frozen=True)
class BatchEvent:
    """Progress: ``planned`` (totals known), ``started``/``finished`` (one article; ``status`` is
    ok, failed or skipped), ``stopping`` (Ctrl-C: no new articles)."""

    kind: Literal["planned", "started", "finished", "stopping"]
    result: BatchResult
    path: str = ""
    status: str = ""


EventCallback = Callable[[BatchEvent], None]


def describe_config(settings: Settings, prompts: Prompts, identity: str) -> dict[str, object]:
    """Everything besides the article that decides its report (never the API key)."""
    s = settings
    return {
        "analyst": __version__,
        "schema_version": SCHEMA_VERSION,
        "model": identity,  # backend, server and model; never the key
        "prompts_sha256": prompts.sha256,
        "context_window": s.effective_context_window,
        "pack_tokens": s.pack_tokens,
        "extract_max_tokens": s.extract_max_tokens,
        "synth_max_tokens": s.synth_max_tokens,
        "temperature": s.temperature,
        "repairs": s.repairs,
        "keep_ungrounded": s.keep_ungrounded,
        # What the stages let a user choose (their flags): each changes what a report says.
        **{f.setting: getattr(s, f.setting) for stage in STAGES for f in stage.flags},
        "language": s.language,
        "include_text": s.include_text,
        "max_input_tokens": s.max_input_tokens,
        "truncate": s.truncate,
    }


def config_hash(description: dict[str, object]) -> str:
    """The hash a report's manifest row keeps: a change to any setting redoes the report."""
    blob = json.dumps(description, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def is_done(
    row: Row | None,
    sha256: str,
    config: str,
    *,
    out: Path,
    relative: PurePath,
    formats: Sequence[str],
    force: bool,
    retry_failed: bool,
    failed_before: set[str],
) -> bool:
    """Whether an article can be skipped: its report is written for these bytes and settings
    (or, with ``retry_failed``, it did not fail last time)."""
    if force:
        return False
    if retry_failed:
        return row is None or row.path not in failed_before
    if row is None or row.status != "ok" or (row.sha256, row.config) != (sha256, config):
        return False
    # Done, unless a format asked for now was not written then (or was deleted since). Looked
    # up by the article's own path, not the manifest's text of it: a name that is not UTF-8 is
    # stored with \\xNN escapes, which name no file.
    suffixes = {Format(f).suffix for f in formats}
    return all((out / relative.parent / (relative.name + s)).is_file() for s in suffixes)


def write_outputs(
    out: Path, relative: PurePath, report: Report, formats: Sequence[str]
) -> list[str]:
    """Write the report in each format under ``out``, mirroring ``relative``, atomically."""
    outputs = []
    for fmt in formats:
        target = mirror(out, relative, Format(fmt).suffix)
        write_atomic(target, render(report, Format(fmt)))
        outputs.append(display(target.relative_to(out)))
    return outputs
