"""``analyst serve``: the page and the JSON API on a local port (``analyst.serve``)."""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from analyst import errors
from analyst.batch.run import LOCAL_SLOTS
from analyst.cli.options import REPORT_FLAGS, exit_codes, fail, missing_extra, settings_from
from analyst.files import display
from analyst.settings import Settings

if TYPE_CHECKING:
    from analyst.library import Library, Scanned

SERVE = "Serving"
LibraryOption = Annotated[
    Path | None,
    typer.Option(
        "--library",
        help="Keep every report in this folder's library.sqlite, and list the report "
        "files already there (a batch's --out): searchable at /library. Default: "
        "<cache dir>/library.",
        rich_help_panel=SERVE,
        show_default=False,
    ),
]
NoLibraryOption = Annotated[
    bool,
    typer.Option(
        "--no-library",
        help="Keep reports in memory only (gone when the process stops).",
        rich_help_panel=SERVE,
    ),
]


def open_library(
    library: Path | None, no_library: bool, settings: Settings, verbose: bool
) -> tuple[Library, Scanned]:
    """The library the options name (``--library``, else the cache's; none on disk with
    ``--no-library``), its folder's report files indexed."""
    if library is not None and no_library:
        fail(errors.ConfigError("--library and --no-library do not go together"), verbose)
    from analyst.library import Library, scan

    folder = None if no_library else (library or settings.cache_dir / "library")
    try:
        kept = Library(folder)
        return kept, scan(kept)
    except errors.AnalystError as exc:
        fail(exc, verbose)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@settings_from(*REPORT_FLAGS)
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on; anything but loopback needs --token.", rich_help_panel=SERVE
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", rich_help_panel=SERVE)] = 8000,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Reports written at once (default: the embedded server's slots, 1; else 4).",
            rich_help_panel=SERVE,
        ),
    ] = None,
    queue: Annotated[
        int,
        typer.Option(
            help="Reports that may wait; beyond, 429 with Retry-After.", rich_help_panel=SERVE
        ),
    ] = 8,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ANALYST_SERVE_TOKEN",
            help="Bearer token every route requires (browsers: open /?token=...).",
            rich_help_panel=SERVE,
            show_default=False,
        ),
    ] = None,
    max_request_bytes: Annotated[
        int, typer.Option(help="Largest request body, uploads included.", rich_help_panel=SERVE)
    ] = 16 * 2**20,
    library: LibraryOption = None,
    no_library: NoLibraryOption = False,
    *,
    settings: Settings,
    verbose: bool,
) -> None:
    """Serve the report page and the JSON API (POST /v1/reports) on a local port."""
    try:
        import uvicorn  # noqa: F401 - the extra's presence is checked here, used in serve.app

        from analyst.serve.app import create_app, serve_forever, server
    except ImportError:
        missing_extra("serve", "serve", verbose)
    loopback = is_loopback(host)
    if not loopback and not token:
        fail(
            errors.ConfigError(
                f"listening on {host} (not loopback) needs --token or ANALYST_SERVE_TOKEN"
            ),
            verbose,
        )
    if not 1 <= port <= 65535 or queue < 0 or max_request_bytes < 1:
        fail(
            errors.ConfigError("--port must be 1-65535, --queue >= 0, --max-request-bytes >= 1"),
            verbose,
        )
    concurrency = concurrency or (LOCAL_SLOTS if settings.uses_local else 4)
    if not 1 <= concurrency <= 256:
        fail(errors.ConfigError("--concurrency must be between 1 and 256"), verbose)
    if settings.uses_local:
        from dataclasses import replace

        settings = replace(settings, local_slots=concurrency)
    kept, scanned = open_library(library, no_library, settings, verbose)
    app = create_app(
        settings,
        concurrency=concurrency,
        queue=queue,
        max_request_bytes=max_request_bytes,
        token=token,
        loopback=loopback,
        library=kept,
    )
    shown = f"[{host}]" if ":" in host else host
    guard = "a bearer token is required on every route" if token else "no token: loopback only"
    print(
        f"analyst: serving on http://{shown}:{port} ({settings.model}, {concurrency} at a time, "
        f"{queue} may wait; {guard})",
        file=sys.stderr,
    )
    if token and not loopback:
        print(f"analyst: browsers: open http://{shown}:{port}/?token=… once", file=sys.stderr)
    where = f"in {display(kept.folder)}" if kept.folder is not None else "in memory only"
    skipped = f", {len(scanned.skipped)} JSON files that are not reports" if scanned.skipped else ""
    print(
        f"analyst: the library: {scanned.reports:,} reports {where}{skipped}; /library",
        file=sys.stderr,
    )
    try:
        asyncio.run(serve_forever(server(app, host=host, port=port, verbose=verbose)))
    except OSError as exc:
        fail(errors.ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}"), verbose)
    finally:
        kept.close()


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("serve", epilog=exit_codes())(serve)
