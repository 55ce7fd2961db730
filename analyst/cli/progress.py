"""What ``analyst batch`` shows: a progress bar on stderr while it runs, a summary table after."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from analyst.batch.results import BatchEvent, BatchResult
from analyst.files import printable


class BatchProgress:
    """A rich progress bar fed by ``BatchEvent``s; silent when stderr is not a terminal."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tokens]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task = self._progress.add_task("reading", total=None, tokens="")
        self._in_flight: list[str] = []

    def __enter__(self) -> BatchProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, event: BatchEvent) -> None:
        result = event.result
        if event.kind == "planned":
            self._progress.update(self._task, total=result.total)
            if result.concurrency:
                many = "request" if result.concurrency == 1 else "requests"
                self._console.print(
                    f"analyst: {result.concurrency} {many} at a time "
                    f"({printable(result.concurrency_why)})",
                    markup=False,
                    soft_wrap=True,
                )
        elif event.kind == "started":
            self._in_flight.append(event.path)
        elif event.kind == "finished":
            if event.path in self._in_flight:
                self._in_flight.remove(event.path)
            if event.status == "failed":
                _, kind, message = result.failures[-1]
                self._console.print(
                    f"analyst: {printable(event.path)}: {kind} error: {printable(message)}",
                    markup=False,
                    soft_wrap=True,
                )
        elif event.kind == "stopping":
            self._console.print(
                "analyst: stopping: finishing the articles in flight (Ctrl-C again to cancel them)"
            )
        tokens = result.prompt_tokens + result.completion_tokens
        current = _shorten(self._in_flight[0]) if self._in_flight else "finishing"
        more = f" (+{len(self._in_flight) - 1})" if len(self._in_flight) > 1 else ""
        self._progress.update(
            self._task,
            completed=result.done,
            description=current + more,
            tokens=f"{tokens:,} tokens",
        )


def _shorten(path: str, width: int = 40) -> str:
    path = printable(path)
    return escape(path if len(path) <= width else "…" + path[-(width - 1) :])


def summary_table(result: BatchResult) -> Table:
    """The end-of-batch table: what happened to the articles, and what it cost."""
    table = Table(title="analyst batch", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("articles", f"{result.total:,}")
    if result.concurrency:
        table.add_row("requests at a time", f"{result.concurrency:,}")
    table.add_row("reports written", f"{result.ok:,}")
    table.add_row("skipped (done earlier)", f"{result.skipped:,}")
    if result.waiting:
        table.add_row("waiting for batch replies", f"{result.waiting:,}")
    for kind, n in sorted(result.failed.items()):
        table.add_row(f"failed: {kind}", f"{n:,}")
    if result.interrupted or result.budget_exhausted:
        why = "interrupted" if result.interrupted else "token budget spent"
        table.add_row(f"not started ({why})", f"{result.total - result.done:,}")
    table.add_row("model calls", f"{result.calls:,}")
    table.add_row("answered from cache", f"{result.cache_hits:,}")
    table.add_row(
        "tokens (prompt + completion)", f"{result.prompt_tokens + result.completion_tokens:,}"
    )
    table.add_row("cost", f"${result.cost_usd:.4f}" if result.cost_usd is not None else "unknown")
    table.add_row("wall time", f"{result.seconds:.1f} s")
    return table
