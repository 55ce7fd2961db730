"""The digest: one briefing over many articles' reports.

    digest = analyst.digest(["out/a.json", "out/b.json"], settings=Settings())

The reduce step over reports, done without a model where it can be (``merge``: facts matched,
merged and set against each other, entities and events unified) and by the model only where it
must (``write``: the pairs the rules leave between, and the prose).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from os import PathLike

from pydantic import ValidationError

from analyst.digest.briefing import Digest, digest_json_schema
from analyst.digest.merge import Given, assemble, merge, prepare
from analyst.digest.write import judge, write
from analyst.errors import ConfigError, InputError
from analyst.files import as_path, display, read_bytes
from analyst.model.ask import AskPolicy, Calls
from analyst.model.seam import Client, ClientInfo
from analyst.model.usage import Meter
from analyst.prompts import Prompts
from analyst.schema import Report
from analyst.session import Session
from analyst.settings import Settings
from analyst.text.tokens import get_encoder

__all__ = ["Digest", "digest", "digest_calls", "digest_json_schema", "load_reports"]

REPORT_CAP = 256 * 2**20  # a report with its article's text, and more


def load_reports(
    items: Sequence[Report | str | PathLike[str]], *, skipped: list[str] | None = None
) -> list[Given]:
    """Reports as given, or read from their JSON files. A file that is not a report is an
    input error; with ``skipped`` (files found in a folder, where a ``package.json`` may sit
    beside the reports) it is left out and said there."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ConfigError("reports must be a list of Report objects or paths")
    given = []
    for item in items:
        if isinstance(item, Report):
            given.append(Given(item))
            continue
        path = as_path(item, "report")
        try:
            report = Report.model_validate_json(read_bytes(path, REPORT_CAP))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "the top"
            why = f"{display(path)} is not an analyst report ({where}: {problem['msg']})"
            if skipped is None:
                raise InputError(why) from None
            skipped.append(f"{why}; left out")
            continue
        given.append(Given(report, display(path)))
    return given


def digest_calls(
    given: Sequence[Given], *, settings: Settings, prompts: Prompts, info: ClientInfo
) -> Calls[Digest]:
    """The digest of ``given`` as a computation of model calls (for a driver to answer)."""
    started = time.monotonic()
    meter = Meter(budget=settings.budget_tokens)
    encoder = get_encoder(info.model, settings.cache_dir)
    policy = AskPolicy.of(settings, encoder, meter, prompts.reask)
    matched = prepare(given)
    merged = assemble(matched)
    if merged.between:
        judged = yield from judge(merged.between, matched.texts, policy, prompts)
        merged = assemble(matched, judged)
    return (yield from write(merged.digest, policy, prompts, info, started=started))


def digest(
    reports: Sequence[Report | str | PathLike[str]],
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    write_prose: bool = True,
    skip_non_reports: bool = False,
) -> Digest:
    """The digest of ``reports`` (Report objects or JSON report paths). ``write_prose=False``:
    the deterministic part only, no model call (no summary, implications or analysis).
    ``skip_non_reports``: a JSON file that is not a report is left out, with a warning (the
    files of a folder), rather than an input error."""
    skipped: list[str] | None = [] if skip_non_reports else None
    given = load_reports(reports, skipped=skipped)
    if not given:
        raise InputError("a digest needs at least one report")
    if not write_prose:
        result = merge(given).digest
    else:
        with Session(settings, client=client) as session:
            calls = digest_calls(
                given, settings=session.settings, prompts=session.prompts, info=session.info
            )
            result = session.run(calls)
    if skipped:
        result = result.model_copy(update={"warnings": [*skipped, *result.warnings]})
    return result
