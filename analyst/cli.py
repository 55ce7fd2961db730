"""The ``analyst`` command: flags → Settings → pipeline → render.

This is the only place where errors become exit codes and the only reader of ``os.environ``
(through ``Settings.from_env``).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from analyst import __version__, errors
from analyst.backends import local
from analyst.backends.local import DEFAULT_MODEL, MODELS, is_assembled, log_file
from analyst.backends.local import runtime_available as local_runtime
from analyst.pipeline import summarize_file, summarize_text
from analyst.render import to_json, to_markdown, to_rich
from analyst.schema import Report, report_json_schema
from analyst.settings import Settings

EXIT_CODES = """\b
Exit codes:
  0  ok
  2  usage: a bad flag, setting, prompt file or -o path
  3  input: the article is missing, empty, binary or undecodable
  4  model server: connection, auth, rate limit after retries, 5xx, unknown model
  5  model output still invalid after the re-asks
  6  the article cannot fit the context window even after splitting"""

_CODES: list[tuple[type[errors.AnalystError], int]] = [
    (errors.ConfigError, 2),
    (errors.InputError, 3),
    (errors.ModelServerError, 4),
    (errors.ModelOutputError, 5),
    (errors.ContextOverflowError, 6),
]

app = typer.Typer(
    help="Read a news article; write its summary, quoted key facts, implications and analysis.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    # Locals can hold API keys: never print them in a traceback.
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


class Format(StrEnum):
    """Output formats."""

    rich = "rich"
    json = "json"
    md = "md"


def _fail(exc: errors.AnalystError, verbose: bool) -> NoReturn:
    code = next(c for cls, c in _CODES if isinstance(exc, cls))
    message = " ".join(str(exc).split())
    print(f"analyst: error: {message}", file=sys.stderr)
    if isinstance(exc, errors.ModelOutputError):
        if verbose:
            print(f"analyst: the model's last reply:\n{exc.raw}", file=sys.stderr)
        else:
            print("analyst: run with --verbose to see the model's last reply", file=sys.stderr)
    raise typer.Exit(code)


def _write_atomic(path: Path, text: str) -> None:
    """Write all or nothing: a reader never sees half a report."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _version(value: bool) -> None:
    if value:
        print(f"analyst {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """analyst: news articles in, analyst reports out."""


@app.command(epilog=EXIT_CODES)
def summarize(
    article: Annotated[str, typer.Argument(help="Article file (.txt, .md), or - for stdin.")],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format", "-f", help="rich (default), json or md; -o FILE.md/.json implies it."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Model: a server's model name, or local / local:qwen2.5-coder-0.5b "
            "[env: ANALYST_MODEL]."
        ),
    ] = None,
    model_path: Annotated[
        Path | None,
        typer.Option(
            help="Serve this GGUF file with the embedded llama.cpp [env: ANALYST_MODEL_PATH]."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 [env: OPENAI_BASE_URL]."
        ),
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="API key [env: OPENAI_API_KEY].", show_default=False)
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per request.")] = None,
    max_retries: Annotated[
        int | None, typer.Option(help="HTTP retries on 429/5xx/connection errors (SDK).")
    ] = None,
    repairs: Annotated[
        int | None, typer.Option(help="Re-asks on invalid output [default: 2].")
    ] = None,
    context_window: Annotated[
        int | None, typer.Option(help="Model context in tokens [default: known or 8192].")
    ] = None,
    pack_tokens: Annotated[
        int | None, typer.Option(help="Article tokens per extraction call [default: 3000].")
    ] = None,
    prompts: Annotated[
        Path | None, typer.Option(help="Folder of prompt files overriding the packaged ones.")
    ] = None,
    keep_ungrounded: Annotated[
        bool, typer.Option(help="Keep facts whose quote was not found, marked.")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not reuse or store replies in the call cache.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more on stderr.")] = False,
) -> None:
    """Write the report of one article."""
    try:
        settings = Settings.from_env(
            os.environ,
            model=model,
            model_path=model_path,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            repairs=repairs,
            context_window=context_window,
            pack_tokens=pack_tokens,
            prompts_dir=prompts,
            keep_ungrounded=keep_ungrounded or None,
            cache=not no_cache,
        )
    except errors.AnalystError as exc:
        _fail(exc, verbose)
    if output is not None:
        folder = output.parent if str(output.parent) else Path(".")
        if not folder.is_dir() or not os.access(folder, os.W_OK) or output.is_dir():
            # Fail before paying for model calls whose report could not be saved.
            _fail(errors.ConfigError(f"cannot write the report to {output}"), verbose)
    if fmt is None:
        suffix = output.suffix.lower() if output else ""
        fmt = {".json": Format.json, ".md": Format.md}.get(suffix, Format.rich)
    err = Console(stderr=True)
    if verbose and settings.uses_local:
        print(f"analyst: embedded server log: {log_file(settings.cache_dir)}", file=sys.stderr)
    try:
        with err.status("reading", spinner="dots") as status:
            show = err.is_terminal

            def on_stage(stage: str) -> None:
                if show:
                    status.update(stage)
                elif verbose:
                    print(f"analyst: {stage}", file=sys.stderr)

            if article == "-":
                report = summarize_text(
                    sys.stdin.buffer.read(), settings=settings, path=None, on_stage=on_stage
                )
            else:
                report = summarize_file(article, settings=settings, on_stage=on_stage)
    except errors.AnalystError as exc:
        _fail(exc, verbose)
    _emit(report, fmt, output)


def _emit(report: Report, fmt: Format, output: Path | None) -> None:
    if fmt is Format.json:
        text = to_json(report)
    elif fmt is Format.md:
        text = to_markdown(report)
    elif output is None:
        Console().print(to_rich(report))
        return
    else:
        buffer = io.StringIO()
        Console(file=buffer, width=100, force_terminal=False).print(to_rich(report))
        text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        _write_atomic(output, text)
    except OSError as exc:
        # Checked before any model call, so this is rare (a full disk); keep the report.
        print(f"analyst: error: cannot write {output}: {exc.strerror}", file=sys.stderr)
        sys.stdout.write(text)
        raise typer.Exit(2) from None
    print(f"analyst: wrote {output}", file=sys.stderr)


@app.command()
def models() -> None:
    """List the embedded models (installed, assembled, default) and the remote backend."""
    settings = Settings.from_env(os.environ)
    runtime = "installed" if local_runtime() else f"not installed ({local.INSTALL_HINT})"
    print(f"embedded runtime (xllamacpp): {runtime}")
    for name, spec in MODELS.items():
        try:
            local.part_paths(spec)
            installed = "installed"
        except errors.ModelServerError:
            installed = "not installed"
        assembled = "assembled" if is_assembled(spec, settings.cache_dir) else "not assembled"
        default = " (default)" if name == DEFAULT_MODEL else ""
        print(f"  local:{name}{default}  {spec.size / 1e9:.2f} GB  {installed}, {assembled}")
        print(f"      {spec.about}")
    if settings.uses_local:
        print("remote backend: none configured (set OPENAI_API_KEY or OPENAI_BASE_URL)")
    else:
        where = settings.base_url or "OpenAI API"
        print(f"remote backend: {where}, model {settings.model_name or '(asked from the server)'}")
    print(f"in use by default: {settings.backend} ({settings.model_name or 'server default'})")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the report."""
    sys.stdout.write(json.dumps(report_json_schema(), indent=2) + "\n")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        print("analyst: interrupted", file=sys.stderr)
        sys.exit(130)
