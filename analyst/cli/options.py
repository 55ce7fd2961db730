"""The flags commands share, written once, and the one place they become ``Settings``.

``@settings_from(*names)`` adds the named shared flags to a command and hands the command a
``settings`` built by ``Settings.from_env`` (the environment underneath, the flags on top), so a
flag is declared in one place whichever commands take it. Errors become exit codes in ``fail``,
from the error's own ``exit_code``.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from analyst import errors
from analyst.settings import Settings

MODEL = "Model"
INPUT = "Input"
OUTPUT = "Output"
LIMITS = "Limits"
BATCH = "Batch"
ENGINES = "Engines and provider batches"

F = TypeVar("F", bound=Callable[..., Any])


def _flag(annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(
        "_", inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


# name → (parameter, the Settings field it sets or None)
SHARED: dict[str, tuple[inspect.Parameter, str | None]] = {
    "model": (
        _flag(
            Annotated[
                str | None,
                typer.Option(
                    "--model",
                    "-m",
                    help="A server's model name, or local / local:qwen2.5-coder-0.5b "
                    "(env: ANALYST_MODEL).",
                    rich_help_panel=MODEL,
                ),
            ]
        ),
        "model",
    ),
    "model_path": (
        _flag(
            Annotated[
                Path | None,
                typer.Option(
                    help="Serve this GGUF file with the embedded llama.cpp "
                    "(env: ANALYST_MODEL_PATH).",
                    rich_help_panel=MODEL,
                ),
            ]
        ),
        "model_path",
    ),
    "base_url": (
        _flag(
            Annotated[
                str | None,
                typer.Option(
                    help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 "
                    "(env: OPENAI_BASE_URL).",
                    rich_help_panel=MODEL,
                ),
            ]
        ),
        "base_url",
    ),
    "api_key": (
        _flag(
            Annotated[
                str | None,
                typer.Option(
                    help="API key (env: OPENAI_API_KEY).", show_default=False, rich_help_panel=MODEL
                ),
            ]
        ),
        "api_key",
    ),
    "timeout": (
        _flag(
            Annotated[
                float | None,
                typer.Option(
                    help="Seconds per request (default: 120, 900 for the embedded model).",
                    rich_help_panel=MODEL,
                ),
            ]
        ),
        "timeout",
    ),
    "max_retries": (
        _flag(
            Annotated[
                int | None,
                typer.Option(
                    help="HTTP retries on 429/5xx/connection errors, by the SDK (default: 2).",
                    rich_help_panel=MODEL,
                ),
            ]
        ),
        "max_retries",
    ),
    "repairs": (
        _flag(
            Annotated[
                int | None,
                typer.Option(help="Re-asks on invalid output (default: 2).", rich_help_panel=MODEL),
            ]
        ),
        "repairs",
    ),
    "context_window": (
        _flag(
            Annotated[
                int | None,
                typer.Option(
                    help="Model context in tokens (default: known for the model, else 8192).",
                    rich_help_panel=MODEL,
                ),
            ]
        ),
        "context_window",
    ),
    "prompts": (
        _flag(
            Annotated[
                Path | None,
                typer.Option(
                    help="Folder of prompt files overriding the packaged ones, by name.",
                    rich_help_panel=MODEL,
                ),
            ]
        ),
        "prompts_dir",
    ),
    "verify": (
        _flag(
            Annotated[
                bool,
                typer.Option(
                    help="Check each fact against the article (one more call); mark it verified, "
                    "uncertain or unsupported, and write the analysis without the unsupported.",
                    rich_help_panel=OUTPUT,
                ),
            ],
            False,
        ),
        "verify",
    ),
    "keep_ungrounded": (
        _flag(
            Annotated[
                bool,
                typer.Option(
                    help="Keep facts whose quote was not found, marked.", rich_help_panel=OUTPUT
                ),
            ],
            False,
        ),
        "keep_ungrounded",
    ),
    "language": (
        _flag(
            Annotated[
                str | None,
                typer.Option(
                    help="Write the report in this language (en, fr, German...) "
                    "(default: the article's).",
                    rich_help_panel=OUTPUT,
                ),
            ]
        ),
        "language",
    ),
    "include_text": (
        _flag(
            Annotated[
                bool,
                typer.Option(
                    "--include-text",
                    help="Put the article text the offsets refer to into the report.",
                    rich_help_panel=OUTPUT,
                ),
            ],
            False,
        ),
        "include_text",
    ),
    "pack_tokens": (
        _flag(
            Annotated[
                int | None,
                typer.Option(
                    help="Article tokens per extraction call (default: 3000).",
                    rich_help_panel=LIMITS,
                ),
            ]
        ),
        "pack_tokens",
    ),
    "max_input_tokens": (
        _flag(
            Annotated[
                int | None,
                typer.Option(
                    help="Refuse articles over this many tokens (default: 100,000; see "
                    "--truncate).",
                    rich_help_panel=LIMITS,
                ),
            ]
        ),
        "max_input_tokens",
    ),
    "truncate": (
        _flag(
            Annotated[
                bool,
                typer.Option(
                    "--truncate",
                    help="With --max-input-tokens: read only the beginning.",
                    rich_help_panel=LIMITS,
                ),
            ],
            False,
        ),
        "truncate",
    ),
    "budget_tokens": (
        _flag(
            Annotated[
                int | None,
                typer.Option(
                    help="Tokens (prompt + replies) one article may cost; never exceeded.",
                    rich_help_panel=LIMITS,
                ),
            ]
        ),
        "budget_tokens",
    ),
    "no_cache": (
        _flag(
            Annotated[
                bool,
                typer.Option(
                    "--no-cache",
                    help="Do not reuse or store replies in the call cache.",
                    rich_help_panel=LIMITS,
                ),
            ],
            False,
        ),
        None,
    ),
    "verbose": (
        _flag(
            Annotated[
                bool,
                typer.Option("--verbose", "-v", help="Say more on stderr.", show_default=False),
            ],
            False,
        ),
        None,
    ),
}

# What `summarize` and `batch` take; `eval` takes fewer.
REPORT_FLAGS = tuple(SHARED)


def settings_from(*names: str) -> Callable[[F], F]:
    """Give a command the shared flags ``names`` and a ``settings`` argument built from them.

    The command's own signature keeps its own arguments and a ``settings: Settings`` parameter
    (not a flag) and, when it asks for ``verbose``, a ``verbose: bool`` too.
    """

    def decorate(command: F) -> F:
        own = inspect.signature(command, eval_str=True)
        kept = [p for p in own.parameters.values() if p.name not in ("settings", "verbose")]
        added = [SHARED[n][0].replace(name=n) for n in names]
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
        field = SHARED[name][1]
        if field is not None:
            # A flag left off (None, or False for a switch) keeps the environment's value.
            overrides[field] = value if value is not False else None
    if "no_cache" in flags:
        overrides["cache"] = not flags["no_cache"]
    return Settings.from_env(os.environ, **overrides)


def fail(exc: errors.AnalystError, verbose: bool) -> NoReturn:
    """One ``analyst: error:`` line on stderr, then the error's exit code."""
    message = " ".join(str(exc).split())
    print(f"analyst: error: {message}", file=sys.stderr)
    if isinstance(exc, errors.ModelOutputError):
        if verbose:
            print(f"analyst: the model's last reply:\n{exc.raw}", file=sys.stderr)
        else:
            print("analyst: run with --verbose to see the model's last reply", file=sys.stderr)
    raise typer.Exit(exc.exit_code)


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
        (e.EXIT_INTERRUPTED, "interrupted (Ctrl-C); run the same command again to resume"),
    ]
    return "\b\nExit codes:\n" + "\n".join(f"{code:>3}  {text}" for code, text in rows)
