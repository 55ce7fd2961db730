"""The ``analyst`` command: flags → Settings → pipeline → render.

This is the only place where errors become exit codes and the only reader of ``os.environ``
(through ``Settings.from_env``).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from analyst import __version__, errors, rounds
from analyst.backends import local
from analyst.backends.local import DEFAULT_MODEL, MODELS, is_assembled, log_file
from analyst.backends.local import runtime_available as local_runtime
from analyst.batch import BatchResult, asummarize_folder
from analyst.evaluate import (
    ArticleScore,
    evaluate_articles,
    evaluate_claims,
    load_articles,
    load_claims,
)
from analyst.fetch import is_url
from analyst.files import write_atomic
from analyst.pipeline import summarize_file, summarize_text, summarize_url
from analyst.progress import BatchProgress, summary_table
from analyst.render import claims_table, eval_table, to_json, to_markdown, to_rich
from analyst.schema import Report, report_json_schema
from analyst.settings import Settings

EXIT_CODES = """\b
Exit codes:
  0  ok
  2  usage: a bad flag, setting, prompt file or -o path
  3  input: the article is missing, empty, binary or undecodable
  4  model server: connection, auth, rate limit after retries, 5xx, unknown model
  5  model output still invalid after the re-asks
  6  the article cannot fit the context window even after splitting
  7  the token budget (--budget-tokens, --batch-budget-tokens) was used up
  8  batch: finished, but some articles failed (see the summary and the manifest)
130  interrupted (Ctrl-C); run the same command again to resume"""

_CODES: list[tuple[type[errors.AnalystError], int]] = [
    (errors.ConfigError, 2),
    (errors.InputError, 3),
    (errors.ModelServerError, 4),
    (errors.ModelOutputError, 5),
    (errors.ContextOverflowError, 6),
    (errors.BudgetError, 7),
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


# Options that summarize and batch share: how to reach the model and how to ask it.
ModelOpt = Annotated[
    str | None,
    typer.Option(
        help="Model: a server's model name, or local / local:qwen2.5-coder-0.5b "
        "[env: ANALYST_MODEL]."
    ),
]
ModelPathOpt = Annotated[
    Path | None,
    typer.Option(
        help="Serve this GGUF file with the embedded llama.cpp [env: ANALYST_MODEL_PATH]."
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 [env: OPENAI_BASE_URL]."
    ),
]
ApiKeyOpt = Annotated[
    str | None, typer.Option(help="API key [env: OPENAI_API_KEY].", show_default=False)
]
TimeoutOpt = Annotated[float | None, typer.Option(help="Seconds per request.")]
RetriesOpt = Annotated[
    int | None, typer.Option(help="HTTP retries on 429/5xx/connection errors (SDK).")
]
RepairsOpt = Annotated[int | None, typer.Option(help="Re-asks on invalid output [default: 2].")]
WindowOpt = Annotated[
    int | None, typer.Option(help="Model context in tokens [default: known or 8192].")
]
PackOpt = Annotated[
    int | None, typer.Option(help="Article tokens per extraction call [default: 3000].")
]
PromptsOpt = Annotated[
    Path | None, typer.Option(help="Folder of prompt files overriding the packaged ones.")
]
KeepOpt = Annotated[bool, typer.Option(help="Keep facts whose quote was not found, marked.")]
VerifyOpt = Annotated[
    bool,
    typer.Option(
        help="Check each fact against the article (one more call); mark it verified, uncertain "
        "or unsupported, and write the analysis without the unsupported ones."
    ),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Do not reuse or store replies in the call cache.")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say more on stderr.")]
MaxInputOpt = Annotated[
    int | None,
    typer.Option(help="Refuse articles over this many tokens (see --truncate)."),
]
TruncateOpt = Annotated[
    bool, typer.Option("--truncate", help="With --max-input-tokens: read only the beginning.")
]
BudgetOpt = Annotated[
    int | None,
    typer.Option(help="Tokens (prompt + replies) one article may cost; never exceeded."),
]
LanguageOpt = Annotated[
    str | None,
    typer.Option(
        help="Write the report in this language (en, fr, German...) [default: the article's]."
    ),
]
IncludeTextOpt = Annotated[
    bool,
    typer.Option(
        "--include-text", help="Put the article text the offsets refer to into the report."
    ),
]


@app.command(epilog=EXIT_CODES)
def summarize(
    article: Annotated[
        str,
        typer.Argument(
            help="Article: a file (.txt .md .html .pdf, or .gz of one), a http(s) URL, or - for "
            "stdin."
        ),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format", "-f", help="rich (default), json or md; -o FILE.md/.json implies it."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
    ] = None,
    model: ModelOpt = None,
    model_path: ModelPathOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    timeout: TimeoutOpt = None,
    max_retries: RetriesOpt = None,
    repairs: RepairsOpt = None,
    context_window: WindowOpt = None,
    pack_tokens: PackOpt = None,
    prompts: PromptsOpt = None,
    keep_ungrounded: KeepOpt = False,
    verify: VerifyOpt = False,
    language: LanguageOpt = None,
    include_text: IncludeTextOpt = False,
    max_input_tokens: MaxInputOpt = None,
    truncate: TruncateOpt = False,
    budget_tokens: BudgetOpt = None,
    no_cache: NoCacheOpt = False,
    verbose: VerboseOpt = False,
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
            verify=verify or None,
            language=language,
            include_text=include_text or None,
            max_input_tokens=max_input_tokens,
            truncate=truncate or None,
            budget_tokens=budget_tokens,
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
            elif is_url(article):
                report = summarize_url(article, settings=settings, on_stage=on_stage)
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
        write_atomic(output, text)
    except OSError as exc:
        # Checked before any model call, so this is rare (a full disk); keep the report.
        print(f"analyst: error: cannot write {output}: {exc.strerror}", file=sys.stderr)
        sys.stdout.write(text)
        raise typer.Exit(2) from None
    print(f"analyst: wrote {output}", file=sys.stderr)


@app.command(epilog=EXIT_CODES)
def batch(
    folder: Annotated[
        Path,
        typer.Argument(help="Folder of articles (.txt .md .html .pdf, .gz of those), recursively."),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the reports and the manifest.")
    ],
    glob: Annotated[
        str | None,
        typer.Option(
            help='Only files matching this glob, relative to FOLDER, e.g. "2026-*/**/*.txt".'
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Articles in flight [default: 4; the embedded server's slots, 2]."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Report files to write: json, md or json,md.")
    ] = "json",
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Only the articles that failed last time.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Redo every article, ignoring earlier results.")
    ] = False,
    batch_budget_tokens: Annotated[
        int | None,
        typer.Option(help="Tokens the whole run may cost; then no new article starts."),
    ] = None,
    submit: Annotated[
        str | None,
        typer.Option(
            help="openai-batch: send the requests as provider batches (half the price, answers "
            "within 24 h), polling until every report is written."
        ),
    ] = None,
    export_batch: Annotated[
        Path | None,
        typer.Option(
            help="Write the requests that have no reply yet to this JSONL (OpenAI Batch and "
            "vllm run-batch format) instead of calling the model; their articles wait."
        ),
    ] = None,
    stage: Annotated[
        str | None,
        typer.Option(
            help="With --export-batch, only requests of this stage: facts, verify or synthesis."
        ),
    ] = None,
    import_batch: Annotated[
        list[Path] | None,
        typer.Option(help="Replies from a batch result file (repeatable); kept in the manifest."),
    ] = None,
    poll_seconds: Annotated[
        float, typer.Option(help="With --submit: seconds between polls of a batch.")
    ] = 30.0,
    engine: Annotated[
        str, typer.Option(help="local (this process) or ray (a Ray cluster; extra: ray).")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="With --engine ray: the cluster to join, e.g. auto.")
    ] = None,
    workers: Annotated[int, typer.Option(help="With --engine ray: analyst worker processes.")] = 2,
    model: ModelOpt = None,
    model_path: ModelPathOpt = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            help="OpenAI-compatible server [env: OPENAI_BASE_URL]; with --engine ray, repeat it "
            "for several replicas and the articles are spread over them."
        ),
    ] = None,
    api_key: ApiKeyOpt = None,
    timeout: TimeoutOpt = None,
    max_retries: RetriesOpt = None,
    repairs: RepairsOpt = None,
    context_window: WindowOpt = None,
    pack_tokens: PackOpt = None,
    prompts: PromptsOpt = None,
    keep_ungrounded: KeepOpt = False,
    verify: VerifyOpt = False,
    language: LanguageOpt = None,
    include_text: IncludeTextOpt = False,
    max_input_tokens: MaxInputOpt = None,
    truncate: TruncateOpt = False,
    budget_tokens: BudgetOpt = None,
    no_cache: NoCacheOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write a report for every article below FOLDER; resumable, cached, one manifest."""
    formats = [f.strip() for f in fmt.split(",") if f.strip()]
    err = Console(stderr=True)
    try:
        settings = Settings.from_env(
            os.environ,
            model=model,
            model_path=model_path,
            base_url=base_url[0] if base_url else None,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            repairs=repairs,
            context_window=context_window,
            pack_tokens=pack_tokens,
            prompts_dir=prompts,
            keep_ungrounded=keep_ungrounded or None,
            verify=verify or None,
            language=language,
            include_text=include_text or None,
            max_input_tokens=max_input_tokens,
            truncate=truncate or None,
            budget_tokens=budget_tokens,
            cache=not no_cache,
        )
        if verbose and settings.uses_local:
            print(f"analyst: embedded server log: {log_file(settings.cache_dir)}", file=sys.stderr)
        if engine not in ("local", "ray"):
            raise errors.ConfigError(f"--engine is local or ray, not {engine!r}")
        if len(base_url or []) > 1 and engine != "ray":
            raise errors.ConfigError("several --base-url need --engine ray")
        if engine == "ray":
            if submit or export_batch or import_batch:
                raise errors.ConfigError("provider batches run with --engine local")
            if batch_budget_tokens is not None:
                raise errors.ConfigError(
                    "--batch-budget-tokens runs with --engine local (--budget-tokens, per "
                    "article, works with both)"
                )
            from analyst.ray_engine import run_ray

            with BatchProgress(err) as progress:
                result = run_ray(
                    folder,
                    out_dir=output,
                    settings=settings,
                    base_urls=base_url or [],
                    formats=formats,
                    pattern=glob,
                    retry_failed=retry_failed,
                    force=force,
                    workers=workers,
                    concurrency=concurrency or 4,
                    address=ray_address,
                    on_event=progress,
                )
            _batch_exit(result, batch_budget_tokens)
            return
        client = None
        if submit or export_batch or import_batch:
            client = rounds.open_client(
                settings,
                output,
                submit=submit,
                export=export_batch is not None,
                stage=stage,
                imports=import_batch or [],
                poll_seconds=poll_seconds,
                on_progress=lambda message: err.print(f"analyst: {escape(message)}"),
            )
        with BatchProgress(err) as progress:
            result = asyncio.run(
                _run_batch(
                    folder,
                    out_dir=output,
                    settings=settings,
                    client=client,
                    concurrency=concurrency,
                    formats=formats,
                    pattern=glob,
                    retry_failed=retry_failed,
                    force=force,
                    budget_tokens=batch_budget_tokens,
                    on_event=progress,
                )
            )
        if isinstance(client, rounds.ExportClient) and export_batch is not None:
            written = client.write(export_batch)
            print(f"analyst: wrote {written} requests to {export_batch}", file=sys.stderr)
    except errors.AnalystError as exc:
        _fail(exc, verbose)
    _batch_exit(result, batch_budget_tokens)


def _batch_exit(result: BatchResult, batch_budget_tokens: int | None) -> None:
    """The end of a batch: warnings, the table, and the exit code."""
    for warning in result.warnings:
        print(f"analyst: skipped {warning}", file=sys.stderr)
    Console().print(summary_table(result))
    print(f"analyst: manifest: {result.manifest}", file=sys.stderr)
    if result.budget_exhausted:
        print(
            f"analyst: the batch's token budget ({batch_budget_tokens:,}) is spent; "
            f"{result.total - result.done} articles were not started — run again with a "
            "larger --batch-budget-tokens to go on",
            file=sys.stderr,
        )
        raise typer.Exit(7)
    if result.interrupted:
        print(
            "analyst: interrupted; run the same command again to resume where it stopped",
            file=sys.stderr,
        )
        raise typer.Exit(130)
    if result.waiting:
        print(
            f"analyst: {result.waiting} articles wait for batch replies: run the requests "
            "(OpenAI Batch, or vllm run-batch -i REQUESTS -o RESULTS), then run this again "
            "with --import-batch RESULTS (and --export-batch for the next round)",
            file=sys.stderr,
        )
    if result.failed_count:
        print(
            f"analyst: {result.failed_count} of {result.total} articles failed; "
            "fix them and run again with --retry-failed",
            file=sys.stderr,
        )
        raise typer.Exit(8)


async def _run_batch(
    folder: Path, *, client: rounds.RoundClient | rounds.ExportClient | None, **options: Any
) -> BatchResult:
    """The batch on one event loop, which also closes a batch-API client made for it."""
    try:
        return await asummarize_folder(folder, client=client, **options)
    finally:
        if client is not None:
            await client.aclose()


@app.command(name="eval", epilog=EXIT_CODES)
def evaluate(
    articles: Annotated[
        Path,
        typer.Argument(
            help="JSONL: id, text, and optionally reference_summary and title; with --claims: "
            "id, text, claim, label_supported."
        ),
    ],
    claims: Annotated[
        bool,
        typer.Option("--claims", help="Judge claims with the fact verifier against the labels."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="rich (a table) or json.")] = "rich",
    model: ModelOpt = None,
    model_path: ModelPathOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    timeout: TimeoutOpt = None,
    max_retries: RetriesOpt = None,
    prompts: PromptsOpt = None,
    verify: VerifyOpt = False,
    no_cache: NoCacheOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Score reports against reference summaries, or (--claims) the fact verifier against labels."""
    if fmt not in ("rich", "json"):
        _fail(errors.ConfigError(f"--format is rich or json, not {fmt!r}"), verbose)
    err = Console(stderr=True)
    try:
        settings = Settings.from_env(
            os.environ,
            model=model,
            model_path=model_path,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            prompts_dir=prompts,
            verify=verify or None,
            cache=not no_cache,
        )
        if claims:
            claim_rows = load_claims(articles)
            with err.status(f"judging {len(claim_rows)} claims", spinner="dots") as status:
                judged = evaluate_claims(
                    claim_rows,
                    settings=settings,
                    on_claim=lambda c: status.update(f"judged {c.id}"),
                )
            if fmt == "json":
                sys.stdout.write(judged.to_json())
            else:
                Console().print(claims_table(judged))
            return
        rows = load_articles(articles)
        with err.status(f"evaluating {len(rows)} articles", spinner="dots") as status:
            done = 0

            def on_article(score: ArticleScore) -> None:
                nonlocal done
                done += 1
                status.update(f"evaluated {done}/{len(rows)}: {score.id}")

            result = evaluate_articles(rows, settings=settings, on_article=on_article)
    except errors.AnalystError as exc:
        _fail(exc, verbose)
    if fmt == "json":
        sys.stdout.write(result.to_json())
    else:
        Console().print(eval_table(result))


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
