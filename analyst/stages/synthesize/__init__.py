"""Stage "synthesize": the summary, the implications and the AI Analysis, from the facts and the
notes; then the deterministic gates, with one bounded re-ask.

``write`` asks (or, on the embedded model, ``compose`` writes the analysis from the notes),
``gates`` checks, ``replies`` holds the shapes the calls reply in; this module declares the
stage.
"""

from __future__ import annotations

from analyst.stages.context import Context
from analyst.stages.contract import Flag, Stage
from analyst.stages.synthesize.write import composes, summary_sentences, synthesize

__all__ = ["STAGE", "composes", "summary_sentences", "synthesize"]


def _system(ctx: Context) -> tuple[str, ...]:
    summarize = "summarize_sentences" if ctx.summary_chosen else "summarize"
    return (summarize, "synthesize", "synthesis_gate")


STAGE = Stage(
    "synthesize",
    prompts=(
        "synthesize_facts",
        "notes",
        "summarize",
        "summarize_input",
        "summarize_sentences",
        "summarize_sentences_input",
        "synthesize",
        "synthesize_input",
        "synthesis_gate",
        "synthesis_gate_input",
    ),
    system=_system,
    flags=(
        Flag.choice(
            "summary",
            "The summary: sentences (the article's own, picked by number), written (by the "
            "model), auto (sentences on the embedded model; default).",
            "auto",
            "sentences",
            "written",
            brief=(
                "the summary: the article's sentences picked by number (sentences), written by "
                "the model (written), or sentences on the embedded model (auto)"
            ),
        ),
        Flag.choice(
            "analysis",
            "Who writes the implications and the AI Analysis: composed (analyst, from the "
            "notes it computes and the facts), model (the model, citing them), auto (composed "
            "on the embedded model; default).",
            "auto",
            "composed",
            "model",
            brief=(
                "who writes the implications and the AI Analysis: analyst from its notes "
                "(composed), the model (model), or composed on the embedded model (auto)"
            ),
        ),
        Flag(
            "background",
            "Keep what the model says from its own knowledge, marked as background (default: "
            "kept, except on the embedded model).",
            kind=bool | None,
            decls=("--background/--no-background",),
            default=None,
            per_request=False,
        ),
    ),
)
