"""The flags commands share, written once, and the one place they become ``Settings``.

``@settings_from(*names)`` adds the named shared flags to a command and hands the command a
``settings`` built by ``Settings.from_env`` (the environment underneath, the flags on top), so a
flag is declared in one place whichever commands take it. Errors become exit codes in ``fail``,
from the error's own ``exit_code``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from analyst import errors
from analyst.files import printable
from analyst.output.formats import Format
from analyst.pipeline import STAGES
from analyst.secrets import redact_text
from analyst.settings import Settings

MODEL = "Model"
INPUT = "Input"
OUTPUT = "Output"
LIMITS = "Limits"
BATCH = "Batch"
ENGINES = "Engines and provider batches"

F = TypeVar("F", bound=Callable[..., Any])


def flag(
    setting: str | None,
    kind: Any,
    help: str,
    panel: str | None,
    *decls: str,
    default: Any = None,
    **more: Any,
) -> tuple[inspect.Parameter, str | None]:
    """A shared flag: its parameter (``kind`` annotated with its typer.Option) and the Settings
    field it sets (``None``: the command reads it itself)."""
    option = typer.Option(*decls, help=help, rich_help_panel=panel, **more)
    annotation = Annotated[kind, option]  # built at run time, for typer to read
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Parameter("_", keyword, annotation=annotation, default=default), setting


OptStr, OptInt, OptFloat, OptPath = str | None, int | None, float | None, Path | None

# name → (parameter, the Settings field it sets or None)
SHARED: dict[str, tuple[inspect.Parameter, str | None]] = {
    "model": flag(
        "model",
        OptStr,
        "A server's model name, or local / local:qwen2.5-coder-0.5b (env: ANALYST_MODEL).",
        MODEL,
        "--model",
        "-m",
    ),
    "model_path": flag(
        "model_path",
        OptPath,
        "Serve this GGUF file with the embedded llama.cpp (env: ANALYST_MODEL_PATH).",
        MODEL,
    ),
    "base_url": flag(
        "base_url",
        OptStr,
        "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (env: OPENAI_BASE_URL).",
        MODEL,
    ),
    "api_key": flag("api_key", OptStr, "API key (env: OPENAI_API_KEY).", MODEL, show_default=False),
    "timeout": flag(
        "timeout",
        OptFloat,
        "Seconds a request may go without a word from the server before analyst asks it "
        "whether it is still at work (kept up to 10 times as long while it is; default: 120, "
        "900 for the embedded model).",
        MODEL,
    ),
    "max_retries": flag(
        "max_retries",
        OptInt,
        "HTTP retries on 429/5xx/connection errors, by the SDK (default: 2).",
        MODEL,
    ),
    "repairs": flag("repairs", OptInt, "Re-asks on invalid output (default: 2).", MODEL),
    "context_window": flag(
        "context_window",
        OptInt,
        "Model context in tokens (default: known for the model, else 8192).",
        MODEL,
    ),
    "prompts": flag(
        "prompts_dir",
        OptPath,
        "Folder of prompt files overriding the packaged ones, by name.",
        MODEL,
        "--prompts",
    ),
    "stream": flag(
        "stream",
        bool | None,
        "Stream replies: --timeout then bounds silence, not a whole reply, and the terminal "
        "shows tokens arrive (default: on; a server that refuses is asked without).",
        MODEL,
        "--stream/--no-stream",
    ),
    # What the stages add (their declarations: analyst.pipeline.STAGES).
    **{
        f.setting: flag(f.setting, f.kind, f.help, OUTPUT, *f.decls, default=f.default)
        for stage in STAGES
        for f in stage.flags
    },
    "keep_ungrounded": flag(
        "keep_ungrounded",
        bool,
        "Keep facts whose quote was not found, marked.",
        OUTPUT,
        default=False,
    ),
    "language": flag(
        "language",
        OptStr,
        "Write the report in this language (en, fr, German...) (default: the article's).",
        OUTPUT,
    ),
    "include_text": flag(
        "include_text",
        bool,
        "Put the article text the offsets refer to into the report.",
        OUTPUT,
        "--include-text",
        default=False,
    ),
    "pack_tokens": flag(
        "pack_tokens", OptInt, "Article tokens per extraction call (default: 3000).", LIMITS
    ),
    "max_input_tokens": flag(
        "max_input_tokens",
        OptInt,
        "Refuse articles over this many tokens (default: 100,000; see --truncate).",
        LIMITS,
    ),
    "truncate": flag(
        "truncate",
        bool,
        "With --max-input-tokens: read only the beginning.",
        LIMITS,
        "--truncate",
        default=False,
    ),
    "max_input_bytes": flag(
        "max_input_bytes",
        OptInt,
        "Refuse an article file, stdin or inflated gzip over this many bytes (default: 64 MiB).",
        LIMITS,
    ),
    "allow_private_urls": flag(
        "allow_private_urls",
        bool,
        "Fetch URLs that lead to loopback, private, link-local or reserved addresses.",
        INPUT,
        "--allow-private-urls",
        default=False,
    ),
    "budget_tokens": flag(
        "budget_tokens",
        OptInt,
        "Tokens (prompt + replies) one article may cost; never exceeded.",
        LIMITS,
    ),
    "no_cache": flag(
        None,
        bool,
        "Do not reuse or store replies in the call cache.",
        LIMITS,
        "--no-cache",
        default=False,
    ),
    "verbose": flag(
        None,
        bool,
        "Say more on stderr.",
        None,
        "--verbose",
        "-v",
        default=False,
        show_default=False,
    ),
}

# What `summarize` and `batch` take; `eval` takes fewer.
REPORT_FLAGS = tuple(SHARED)

# Flags a command reads itself (no Settings field), declared once for the commands that share
# them; ``settings_from`` hands them to the command as keyword arguments of the same name.
PASSED: dict[str, tuple[inspect.Parameter, str | None]] = {
    "fmt": flag(
        None,
        Format | None,
        "The view (default: rich; -o FILE.md / .json / .html implies md / json / html).",
        OUTPUT,
        "--format",
        "-f",
    ),
    "output": flag(None, OptPath, "Write it here (atomically).", OUTPUT, "--output", "-o"),
    "since": flag(None, OptStr, "Feeds: only items dated this day or later (2026-03-01).", INPUT),
    "max_items": flag(None, OptInt, "Feeds: the newest N items of each (default: 200).", INPUT),
}
SHARED.update(PASSED)


def settings_from(
    *names: str, options: Mapping[str, tuple[inspect.Parameter, str | None]] | None = None
) -> Callable[[F], F]:
    """Give a command the shared flags ``names`` and a ``settings`` argument built from them.

    The command's own signature keeps its own arguments and a ``settings: Settings`` parameter
    (not a flag) and, when it asks for ``verbose``, a ``verbose: bool`` too. ``options``: flags
    of the command's own, declared as a table like ``SHARED``'s; the command gets their values
    as one ``options`` dict, by name.
    """
    table = dict(options or {})

    def decorate(command: F) -> F:
        own = inspect.signature(command, eval_str=True)
        passed = [n for n in names if n in PASSED]
        skip = ("settings", "verbose", "options", *passed)
        kept = [p for p in own.parameters.values() if p.name not in skip]
        added = [SHARED[n][0].replace(name=n) for n in names]
        added += [parameter.replace(name=n) for n, (parameter, _) in table.items()]
        wants_verbose = "verbose" in own.parameters

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            flags = {n: kwargs.pop(n) for n in names}
            verbose = bool(flags.get("verbose"))
            try:
                settings = build_settings(flags)
            except errors.AnalystError as exc:
                fail(exc, verbose)
            if wants_verbose:
                kwargs["verbose"] = verbose
            kwargs.update({n: flags.pop(n) for n in passed})
            if table:
                kwargs["options"] = {n: kwargs.pop(n) for n in table}
            return command(settings=settings, **kwargs)

        parameters = sorted(kept + added, key=lambda p: p.kind)
        wrapper.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper  # type: ignore[return-value]

    return decorate


def build_settings(flags: dict[str, Any]) -> Settings:
    """``Settings`` from the environment, the given flags on top (unset flags change nothing)."""
    overrides: dict[str, Any] = {}
    for name, value in flags.items():
        parameter, field = SHARED[name]
        if field is not None:
            # A flag left off (None, or False for a plain switch) keeps the environment's
            # value; a --x/--no-x pair (bool | None) says False when it means it.
            either = type(None) in typing.get_args(typing.get_args(parameter.annotation)[0])
            overrides[field] = value if value is not False or either else None
    if "no_cache" in flags:
        overrides["cache"] = not flags["no_cache"]
    return Settings.from_env(os.environ, **overrides)


def fail(exc: errors.AnalystError, verbose: bool) -> NoReturn:
    """One ``analyst: error:`` line on stderr, then the error's exit code."""
    message = printable(redact_text(" ".join(str(exc).split())))
    print(f"analyst: error: {message}", file=sys.stderr)
    if isinstance(exc, errors.ModelOutputError):
        if verbose:
            print(f"analyst: the model's last reply:\n{exc.raw}", file=sys.stderr)
        else:
            print("analyst: run with --verbose to see the model's last reply", file=sys.stderr)
    raise typer.Exit(exc.exit_code)


def with_extra(module: str, command: str, extra: str, verbose: bool) -> ModuleType:
    """``module``, imported; without its extra installed, exit 2 saying which to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing_extra(command, extra, verbose)


def missing_extra(command: str, extra: str, verbose: bool) -> NoReturn:
    """Exit 2 naming the extra ``analyst command`` needs and how to install it."""
    needs = f"analyst {command} needs the {extra} extra: pip install 'analyst[{extra}]'"
    fail(errors.ConfigError(needs), verbose)


def exit_codes() -> str:
    """The epilog every command shows: the exit codes, each read off its error class."""
    e = errors
    rows = [
        (e.EXIT_OK, "ok"),
        (e.ConfigError.exit_code, "usage: a bad flag, setting, prompt file or -o path"),
        (e.InputError.exit_code, "input: the article is missing, empty, binary or undecodable"),
        (
            e.ModelServerError.exit_code,
            "model server: connection, auth, rate limit after retries, 5xx, unknown model",
        ),
        (e.ModelOutputError.exit_code, "model output still invalid after the re-asks"),
        (
            e.ContextOverflowError.exit_code,
            "the article cannot fit the context window even after splitting",
        ),
        (
            e.BudgetError.exit_code,
            "the token budget (--budget-tokens, --batch-budget-tokens) was used up",
        ),
        (
            e.EXIT_BATCH_FAILURES,
            "batch: finished, but some articles failed (see the summary and the manifest)",
        ),
        (
            e.EXIT_NO_FACTS,
            "summarize: the report is written, but no fact was supported, so it has no summary, "
            "implications or analysis",
        ),
        (e.EXIT_INTERRUPTED, "interrupted (Ctrl-C); run the same command again to resume"),
    ]
    return "\b\nExit codes:\n" + "\n".join(f"{code:>3}  {text}" for code, text in rows)
