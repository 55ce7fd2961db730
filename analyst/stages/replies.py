"""What every stage's reply shape shares: strict objects, and citations checked against the
ids the call offered (the validation context's "fact_ids", "note_ids")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo


class Strict(BaseModel):
    """A reply shape: no property beyond those declared (strict structured outputs want it)."""

    model_config = ConfigDict(extra="forbid")


def check_citations(ids: list[str], info: ValidationInfo, kind: str = "fact") -> list[str]:
    """``ids`` once each, in order; an id the validation context does not list ("fact_ids",
    "note_ids") fails, naming the ids that may be cited."""
    known = (info.context or {}).get(f"{kind}_ids")
    if known is not None:
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValueError(
                f"cites unknown {kind} ids {unknown}; cite only ids from the {kind}s: "
                + (", ".join(sorted(known, key=id_order)) or "(none)")
            )
    return list(dict.fromkeys(ids))


def check_notes(ids: list[str], info: ValidationInfo) -> list[str]:
    return check_citations(ids, info, "note")


def id_order(fact_id: str) -> tuple[int, str]:
    digits = fact_id.lstrip("fn")
    return (int(digits), "") if digits.isdigit() else (1 << 30, fact_id)


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON Schema for strict structured outputs.

    Strict mode wants every property required and no additional properties: the ``Strict``
    models say both, and none has a default. String length keywords stay in; the OpenAI client
    drops them for OpenAI's own API, which rejects them (``openai_strict``).
    """
    return model.model_json_schema()


def hold(
    model: type[BaseModel],
    listed: str,
    count: int,
    *,
    one_of: Mapping[str, Sequence[str]] | None = None,
    also: Mapping[str, Sequence[object]] | None = None,
) -> dict[str, Any]:
    """``model``'s JSON Schema for a reply about ``count`` listed things, so that a server that
    enforces the schema can answer nothing else: the list ``listed`` at most ``count`` long; each
    field of ``one_of`` of the listed objects a string among those given (the ids or names asked
    about), each field of ``also`` held to the values given besides its own type."""
    held = strict_json_schema(model)
    array = held["properties"][listed]
    fields = held["$defs"][array["items"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    for name, values in (one_of or {}).items():
        fields[name] = {"type": "string", "enum": list(values)}
    for name, allowed in (also or {}).items():
        fields[name]["enum"] = list(allowed)
    array["maxItems"] = count
    return held
