"""Stage "notes": what analyst computes from the article itself, with no model — numbers in
perspective, what to watch, who says what, tensions — each with the sentences it rests on.

``compute`` builds them, ``view`` shows them; this module declares the stage (it renders no
prompt: the synthesis shows the notes to the model with its own ``notes.md``).
"""

from __future__ import annotations

from analyst.stages.contract import Stage
from analyst.stages.notes.compute import build, standing

__all__ = ["STAGE", "build", "standing"]

STAGE = Stage("notes", view="analyst.stages.notes.view")
