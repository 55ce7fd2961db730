"""``analyst models`` and ``analyst schema``: what is installed, and the report's JSON Schema."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Annotated

import typer

from analyst import errors
from analyst.model import local
from analyst.schema import report_json_schema
from analyst.secrets import redact_url
from analyst.settings import Settings


def models() -> None:
    """List the embedded models (installed, assembled, default) and the remote backend."""
    settings = Settings.from_env(os.environ)
    runtime = "installed" if local.runtime_available() else f"not installed ({local.INSTALL_HINT})"
    print(f"embedded runtime (xllamacpp): {runtime}")
    for name, spec in local.MODELS.items():
        try:
            local.part_paths(spec)
            installed = "installed"
        except errors.ModelServerError:
            installed = "not installed"
        assembled = "assembled" if local.is_assembled(spec, settings.cache_dir) else "not assembled"
        default = " (default)" if name == local.DEFAULT_MODEL else ""
        print(f"  local:{name}{default}  {spec.size / 1e9:.2f} GB  {installed}, {assembled}")
        print(f"      {spec.about}")
    if settings.uses_local:
        print("remote backend: none configured (set OPENAI_API_KEY or OPENAI_BASE_URL)")
    else:
        where = redact_url(settings.base_url) if settings.base_url else "OpenAI API"
        print(f"remote backend: {where}, model {settings.model_name or '(asked from the server)'}")
        if settings.base_url:
            print(f"  {_server_line(settings)}")
    print(f"in use by default: {settings.backend} ({settings.model_name or 'server default'})")


def _server_line(settings: Settings) -> str:
    """What the server says it is: the kind, its slots and context, as batches will use them."""
    from analyst.model.clients import make_client

    try:
        client = make_client(settings)
        try:
            survey = asyncio.run(client.asurvey())
        finally:
            client.close()
    except errors.AnalystError as exc:
        return f"server: not asked ({exc})"
    if not survey.reached:
        return "server: no answer there"
    slots = f"{survey.slots} slot{'s' if survey.slots != 1 else ''}" if survey.slots else None
    if slots is None and survey.kind not in ("openai", "vllm"):
        slots = "slots not said (a batch adapts)"
    context = f"context {survey.context:,} tokens" if survey.context else None
    said = ", ".join(part for part in (slots, context) if part)
    return f"server: {survey.name}" + (f" ({said})" if said else "")


def schema(
    digest: Annotated[
        bool, typer.Option("--digest", help="The digest's schema instead of the report's.")
    ] = False,
) -> None:
    """Print the JSON Schema of the report (or, with --digest, of the digest)."""
    from analyst.digest.briefing import digest_json_schema

    found = digest_json_schema() if digest else report_json_schema()
    sys.stdout.write(json.dumps(found, indent=2) + "\n")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("models")(models)
    app.command("schema")(schema)
