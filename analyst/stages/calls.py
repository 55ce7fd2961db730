"""The prompts every call of a report shares, declared as the stages declare theirs: rendered by
``stages/context.py`` (the rules and the numbered article that open each call, the schema note
for servers that do not enforce schemas, the language line) and by the model layer's re-ask
(``model/ask.py``)."""

from __future__ import annotations

from analyst.stages.contract import Stage

CALLS = Stage(
    "every call",
    prompts=("system", "article", "schema_in_prompt", "article_language", "reask"),
)
