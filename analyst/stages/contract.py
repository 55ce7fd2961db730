"""What a stage declares about itself, so that nothing else has to list it.

A stage module ends with ``STAGE = Stage(...)``: the prompt files it renders, the tasks it adds
to the shared system text, the settings its flags set and the view of what it adds to a
report. ``analyst.pipeline.STAGES`` lists the stages once; from it come the prompt registry
(``tests/test_house.py`` fails on a prompt file no stage declares, or a declared one that is
missing), the system text, the command-line flags and ``analyst serve``'s options, a batch's
identity, and the report's views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyst.stages.context import Context


@dataclass(frozen=True)
class Flag:
    """A setting a stage adds: a ``Settings`` field, with its command-line flag.

    ``kind`` is the flag's type as typer reads it (``bool`` a switch, ``bool | None`` a
    ``--x/--no-x`` pair, ``str | None`` a value); ``decls`` its spellings (default
    ``--<setting>``). ``per_request``: ``analyst serve`` takes it as a request's option.
    Every stage flag decides what a report says: a batch redoes a report made with another
    value. ``choices`` and ``brief`` describe it in ``analyst serve``'s OpenAPI document.
    """

    setting: str
    help: str
    kind: Any = bool
    decls: tuple[str, ...] = ()
    default: Any = False
    per_request: bool = True
    choices: tuple[str, ...] = ()
    brief: str = ""

    @classmethod
    def choice(cls, setting: str, help: str, *choices: str, brief: str = "") -> Flag:
        """A setting chosen by name (``--fact-text sentence``); left off, the default."""
        return cls(setting, help, kind=str | None, default=None, choices=choices, brief=brief)

    @property
    def switch(self) -> bool:
        """Whether it is on or off (a request's option is then a boolean)."""
        return self.kind is bool


def _no_tasks(_ctx: Context) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class Stage:
    """A stage's declaration.

    ``prompts``: every prompt file (``prompts/<name>.md``) it renders. ``system``: the task
    descriptions it adds to the system text every call of an article shares, given the report's
    context (a stage may pick one of its variants, or add none when it is off). ``flags``: the
    settings it adds. ``view``: the module (``markdown(report)`` and ``rich(report)``) that
    shows what it adds to a report, imported only when a report is shown.
    """

    name: str
    prompts: tuple[str, ...] = ()
    system: Callable[[Context], tuple[str, ...]] = _no_tasks
    flags: tuple[Flag, ...] = ()
    view: str | None = None
