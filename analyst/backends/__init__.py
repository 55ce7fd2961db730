"""Model backends behind the ``ChatClient`` protocol."""

from __future__ import annotations

from analyst.backends.base import ChatClient, Completion, Message, OutputSchema, StructuredMode
from analyst.settings import Settings

__all__ = ["ChatClient", "Completion", "Message", "OutputSchema", "StructuredMode", "make_client"]


def make_client(settings: Settings) -> ChatClient:
    """The client ``settings`` describe: OpenAI, or the OpenAI-compatible server at ``base_url``."""
    # Imported here so that `analyst schema` and `--help` never pay for loading the SDK.
    from analyst.backends.openai_client import OpenAIChatClient

    client = OpenAIChatClient(
        model=settings.model_name,
        base_url=settings.base_url,
        api_key=settings.api_key,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )
    if not client.model:
        # No model named for a custom server: use the one it serves (llama.cpp, Ollama, vLLM
        # all list theirs); a server that lists none takes any name.
        served = client.list_models()
        client = client.with_model(served[0] if served else "default")
    return client
