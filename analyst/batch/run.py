"""Folders on this machine: a report for every article below a folder — concurrent, resumable.

A run goes like this:

1. find the articles (``folders.find_articles``), passing over links that lead out of the folder
   and the output folder itself;
2. ask the model server how many requests it runs at once (``_fit_server``), and take the
   articles up at most that many requests in flight (``engine.LocalRun``);
3. record the run in the manifest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import TypedDict

from typing_extensions import Unpack

from analyst.batch import web
from analyst.batch.engine import LocalRun
from analyst.batch.folders import exclusive, sweep_temporaries
from analyst.batch.items import WebOptions, list_items
from analyst.batch.manifest import Manifest
from analyst.batch.provider import MAX_ROUND, BatchClient
from analyst.batch.results import (
    BatchResult,
    EventCallback,
)
from analyst.errors import AnalystError, ConfigError, InputError
from analyst.files import as_path
from analyst.model.seam import Client
from analyst.output.formats import FILE_FORMATS
from analyst.reading.fetch import is_url
from analyst.session import Session
from analyst.settings import Settings

# Requests in flight against a remote server when not told otherwise.
DEFAULT_CONCURRENCY = 4
# Slots of the embedded server in a batch. A report now reads its article and writes ~50
# tokens, and reading is what two cores are busy with: 20 BBC articles took 180.5 s on 1 slot,
# 218.6 s on 2 and 227.6 s on 3 (benchmarks/local_model.py --batch, README), each added slot
# also reading the shared system text once more.
LOCAL_SLOTS = 1
# Articles open at once when the requests go to a provider batch (each round holds one request
# of each): enough for large rounds, few enough to keep their texts in memory.
ROUND_ARTICLES = 2000


class FolderOptions(TypedDict, total=False):
    """The keyword arguments of ``summarize_folder`` besides the folders (see
    ``asummarize_folder``)."""

    settings: Settings | None
    client: Client | None
    concurrency: int | None
    formats: Sequence[str]
    pattern: str | None
    retry_failed: bool
    force: bool
    budget_tokens: int | None
    on_event: EventCallback | None
    web_options: WebOptions | None


def summarize_folder(
    folder: str | PathLike[str], *, out_dir: str | PathLike[str], **options: Unpack[FolderOptions]
) -> BatchResult:
    """Write a report for every article below ``folder`` into ``out_dir``, mirroring the tree.

    Runs its own event loop; inside one (Jupyter, an async app), ``await asummarize_folder``,
    which takes the same arguments and documents them.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(asummarize_folder(folder, out_dir=out_dir, **options))
    raise ConfigError(
        "summarize_folder runs its own event loop and one is already running here "
        "(Jupyter, an async app): use `await analyst.asummarize_folder(...)` instead"
    )


async def asummarize_folder(
    folder: str | PathLike[str],
    *,
    out_dir: str | PathLike[str],
    settings: Settings | None = None,
    client: Client | None = None,
    concurrency: int | None = None,
    formats: Sequence[str] = ("json",),
    pattern: str | None = None,
    retry_failed: bool = False,
    force: bool = False,
    budget_tokens: int | None = None,
    on_event: EventCallback | None = None,
    web_options: WebOptions | None = None,
) -> BatchResult:
    """Write a report for every article below ``folder`` into ``out_dir``, mirroring the tree.

    ``folder`` may also be a file of URLs (one a line; ``-``: stdin), or an RSS or Atom feed (a
    URL or a file; ``web_options`` says when a file lists feeds, and which items to take): each
    page is fetched and reported on, its reports named from its URL (``analyst.batch.items``).

    ``pattern`` is a glob relative to ``folder`` (``**`` for any depth); without it every .txt,
    .md, .html, .htm, .pdf file (and .gz of one) is read. Articles done in an earlier run (same
    bytes, same settings and prompts) are skipped; ``retry_failed`` takes up only those that
    failed last time; ``force`` redoes everything. ``concurrency`` defaults to 4 for a server,
    and to the embedded server's slots. ``budget_tokens`` caps the tokens of the whole run: once
    spent, no new article starts (those under way finish) and the result says
    ``budget_exhausted``. ``on_event`` receives progress events.
    """
    web_input = isinstance(folder, str) and (folder == "-" or is_url(folder))
    source: str | Path = str(folder) if web_input else as_path(folder, "folder")
    out = as_path(out_dir, "out_dir")
    settings = Settings.given(settings)
    if retry_failed and force:
        raise ConfigError("--retry-failed and --force contradict each other; choose one")
    unknown = sorted(set(formats) - set(FILE_FORMATS))
    if unknown or not formats:
        known = ", ".join(FILE_FORMATS)
        raise ConfigError(f"batch formats are {known}, not {', '.join(unknown) or 'none'}")
    if "html" in formats:
        settings = replace(settings, include_text=True)  # the page shows the article
    rounds = isinstance(client, BatchClient)
    most = MAX_ROUND if rounds else 256
    if concurrency is not None and not 1 <= concurrency <= most:
        raise ConfigError(f"concurrency must be between 1 and {most}")
    # A server of the user's own says how many requests it runs at once, or shows it.
    ask_server = concurrency is None and client is None and not settings.uses_local and not rounds
    why = "--concurrency" if concurrency is not None else "the default"
    if rounds:
        # A provider batch round holds one request of every open article.
        why = why if concurrency else "a provider batch round"
        concurrency = concurrency or ROUND_ARTICLES
    if client is None and settings.uses_local:
        # The embedded server decodes `slots` requests together: keep that many in flight.
        why = why if concurrency else "the embedded server's slots"
        concurrency = concurrency or LOCAL_SLOTS
        settings = replace(settings, local_slots=concurrency)
    concurrency = concurrency or DEFAULT_CONCURRENCY

    if isinstance(source, Path) and not source.exists():
        raise InputError(f"{source} does not exist")
    options = web_options or WebOptions()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the output folder {out}: {exc.strerror}") from None
    with exclusive(out):
        sweep_temporaries(out)  # half-written reports of a killed run; we hold the lock
        manifest = Manifest(out)
        try:
            found = list_items(
                source,
                out=out,
                pattern=pattern,
                settings=settings,
                options=options,
                manifest=manifest,
            )
        except BaseException:
            manifest.close()
            raise
        session = Session(settings, client=client)
        try:
            concurrency, why, per_slot = await _fit_server(session, concurrency, why, ask_server)
        except BaseException:
            manifest.close()
            await session.aclose()
            raise
        batch = LocalRun(
            source=found.folder,
            out=out,
            items=found.items,
            polite=web.Polite(settings, robots=options.robots),
            manifest_open=manifest,
            session=session,
            formats=tuple(dict.fromkeys(formats)),
            retry_failed=retry_failed,
            force=force,
            budget_tokens=budget_tokens,
            on_event=on_event or (lambda _event: None),
        )
        batch.result.warnings.extend(found.skipped)
        batch.result.concurrency = concurrency
        batch.result.concurrency_why = why
        # `concurrency` bounds the requests in flight; four times as many articles are open, so
        # that while one is between calls (reading, grounding, writing) another has its request
        # ready for the freed slot. A provider round holds one request of each open article.
        # On the embedded server, one article per slot: llama.cpp gives a request the idle slot
        # whose cache shares most with it, so each article's calls stay on the slot that read
        # it. With more open, a waiting article took the slot freed between two calls of
        # another, which then read its article (and the system text) again elsewhere: 4,937
        # prompt tokens computed for a 561-token BBC article. The same holds for a llama.cpp
        # server of the user's own, and for Ollama and LM Studio, which run llama.cpp's slots.
        open_articles = 4 * concurrency
        if rounds or per_slot or (client is None and settings.uses_local):
            open_articles = concurrency
        await batch.run(concurrency, open_articles)
        return batch.result


async def _fit_server(
    session: Session, concurrency: int, why: str, ask: bool
) -> tuple[int, str, bool]:
    """The requests in flight for this run, why, and whether to open one article per request
    (a server whose prompt cache is a slot's); the client's ``Throttle`` starts there."""
    client = session.client
    survey = None
    survey_of = getattr(client, "asurvey", None)  # clients analyst makes have it
    if survey_of is not None and not session.settings.uses_local:
        try:
            survey = await survey_of()
        except AnalystError:
            survey = None  # the first request will say what is wrong, article by article
        if ask and survey is not None and survey.slots:
            concurrency = survey.slots
            why = f"{survey.name} runs {survey.slots} slot{'s' if survey.slots > 1 else ''}"
        elif ask and survey is not None and survey.kind != "openai":
            why = (
                f"{survey.name} does not say how many requests it runs at once: fewer if it "
                "shows strain"
            )
    throttle = getattr(client, "throttle", None)
    if throttle is not None:
        throttle.start(concurrency)
    per_slot = survey is not None and survey.kind in ("llama.cpp", "ollama", "lm-studio")
    return concurrency, why, per_slot
