"""Stage "who" (``--who``): who's who — people and organisations with the roles the article gives
them, the relations it states — and the timeline of dated events, each proved by a sentence.

``find`` asks and checks (``checks``: no model), ``replies`` holds the shapes the calls reply
in, ``view`` shows the result; this module declares the stage.
"""

from __future__ import annotations

from analyst.stages.context import Context
from analyst.stages.contract import Flag, Stage
from analyst.stages.who.find import cite, who

__all__ = ["STAGE", "cite", "who"]


def _system(ctx: Context) -> tuple[str, ...]:
    # Only reports made with --who read the task (it would lengthen every other call).
    return ("who", "who_roles", "who_more") if ctx.settings.who else ()


STAGE = Stage(
    "who",
    prompts=("who", "who_input", "who_roles", "who_roles_input", "who_more", "who_more_input"),
    system=_system,
    flags=(
        Flag(
            "who",
            "Add who's who (people and organisations, with the roles the article gives them) "
            "and the timeline (dated events), each proved by a sentence: one more call.",
            decls=("--who",),
            brief="add who's who and the timeline",
        ),
    ),
    view="analyst.stages.who.view",
)
