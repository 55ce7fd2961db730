"""What a model server says about itself: which server it is, its slots, its context, whether it
is working.

The OpenAI API has no way to ask any of this, so each server is asked at its own endpoints, beside
``/v1`` (all plain GETs, each allowed a few seconds; a server that does not have one answers 404):

- llama.cpp: ``/props`` (``total_slots``, ``default_generation_settings.n_ctx``) and ``/slots``
  (``is_processing`` per slot; off when the server was started with ``--no-slots``).
- vLLM: ``/version``, and ``/metrics`` (``vllm:num_requests_running`` / ``_waiting``).
- Ollama: ``/api/version``, and ``/api/ps`` (the loaded models, each with its ``context_length``).
  How many requests it runs at once (``OLLAMA_NUM_PARALLEL``) it does not say.
- LM Studio: ``/api/v0/models`` (each model's ``state`` and ``loaded_context_length``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx2

# Long enough for a server busy decoding on every core to answer a GET, short enough that a
# batch does not wait on one that never will.
ASK_SECONDS = 5.0
# A prompt the server reports at under this share of the tokens sent (about 4 characters a
# token) was cut; under CUT_FROM tokens sent, tokenizers differ too much to tell.
CUT_SHARE = 0.6
CUT_FROM = 400
# vLLM's gauges of requests being decoded and waiting for room.
_VLLM_QUEUE = ("vllm:num_requests_running", "vllm:num_requests_waiting")


class Activity(StrEnum):
    """What a server says it is doing while a request of ours has had no answer."""

    WORKING = "working"  # decoding or queueing requests: ours is among them, or waits its turn
    IDLE = "idle"  # nothing under way: our request is lost
    UNKNOWN = "unknown"  # it answers, but has no way to say
    DOWN = "down"  # it does not answer at all


@dataclass(frozen=True, slots=True)
class Survey:
    """A server as it describes itself; ``None`` where it does not say."""

    kind: str  # "llama.cpp", "vllm", "ollama", "lm-studio", "openai" or "unknown"
    slots: int | None = None  # requests it decodes at once
    context: int | None = None  # tokens a request may hold (prompt and reply)
    model: str | None = None  # the model its context belongs to (Ollama, LM Studio)
    reached: bool = True  # False: it did not answer at all when asked

    @property
    def name(self) -> str:
        """How the server is called in messages."""
        return {"unknown": "the server", "openai": "OpenAI"}.get(self.kind, self.kind)


def root_of(base_url: str) -> str:
    """The server's own address: ``base_url`` without the ``/v1`` of its OpenAI API."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


async def survey(base_url: str | None, http: httpx2.AsyncClient) -> Survey:
    """Ask the server at ``base_url`` what it is (OpenAI's API when ``None``; never asked).
    A server that cannot be reached is "unknown" after one try, not after one per endpoint."""
    if base_url is None or "api.openai.com" in base_url:
        return Survey("openai")
    try:
        return await _survey(root_of(base_url), http)
    except httpx2.HTTPError:
        return Survey("unknown", reached=False)


async def _survey(root: str, http: httpx2.AsyncClient) -> Survey:
    props = await _json(http, f"{root}/props")
    if isinstance(props, dict) and "total_slots" in props:
        settings = props.get("default_generation_settings") or {}
        return Survey("llama.cpp", _int(props.get("total_slots")), _int(settings.get("n_ctx")))
    if isinstance(await _json(http, f"{root}/api/version"), dict):
        loaded = await _json(http, f"{root}/api/ps")
        models = loaded.get("models") if isinstance(loaded, dict) else None
        first = models[0] if isinstance(models, list) and models else {}
        return Survey("ollama", None, _int(first.get("context_length")), first.get("name"))
    lm = await _json(http, f"{root}/api/v0/models")
    listed = lm.get("data") if isinstance(lm, dict) else None
    # Its models say whether they are loaded; OpenAI's /models entries (any server) do not.
    if isinstance(listed, list) and any(isinstance(m, dict) and "state" in m for m in listed):
        loaded = [m for m in listed if isinstance(m, dict) and m.get("state") == "loaded"]
        first = loaded[0] if loaded else {}
        return Survey("lm-studio", None, _int(first.get("loaded_context_length")), first.get("id"))
    version = await _json(http, f"{root}/version")
    if isinstance(version, dict) and "version" in version:
        return Survey("vllm")
    return Survey("unknown")


async def activity(base_url: str | None, kind: str, http: httpx2.AsyncClient) -> Activity:
    """Whether the server is at work (then a silent request of ours is waiting its turn)."""
    if base_url is None:
        return Activity.UNKNOWN
    root = root_of(base_url)
    try:
        if kind == "llama.cpp":
            slots = await _get(http, f"{root}/slots")
            if slots.status_code == 200 and isinstance(listed := slots.json(), list):
                busy = any(isinstance(s, dict) and s.get("is_processing") for s in listed)
                return Activity.WORKING if busy else Activity.IDLE
        elif kind == "vllm":
            metrics = await _get(http, f"{root}/metrics")
            if metrics.status_code == 200:
                counts = _gauges(metrics.text, _VLLM_QUEUE)
                if counts is not None:
                    return Activity.WORKING if counts else Activity.IDLE
        # Anything that answers HTTP at all is up; what it is doing it cannot say.
        await _get(http, root + "/")
    except (httpx2.HTTPError, ValueError):
        return Activity.DOWN
    return Activity.UNKNOWN


async def _get(http: httpx2.AsyncClient, url: str) -> httpx2.Response:
    return await http.get(url, timeout=ASK_SECONDS)


async def _json(http: httpx2.AsyncClient, url: str) -> Any:
    """The JSON at ``url``, or ``None`` (not there, not JSON); a server that cannot be reached
    raises ``httpx2.HTTPError``."""
    response = await _get(http, url)
    try:
        return response.json() if response.status_code == 200 else None
    except ValueError:
        return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _gauges(text: str, names: tuple[str, ...]) -> float | None:
    """The sum of the Prometheus samples named ``names`` (any labels); ``None`` if none is there."""
    total, seen = 0.0, False
    for name in names:
        for match in re.finditer(rf"^{re.escape(name)}(?:{{[^}}]*}})?\s+(\S+)", text, re.M):
            seen = True
            try:
                total += float(match.group(1))
            except ValueError:
                continue
    return total if seen else None


def sent_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """About how many tokens ``messages`` are (4 characters a token)."""
    return sum(len(str(m.get("content", ""))) for m in messages) // 4


def over_context(survey: Survey, model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """Why the prompt cannot fit the context the server says its loaded model has ("" if it
    can, or if the server does not say). Only Ollama and LM Studio are asked: they cut such a
    prompt silently, where llama.cpp and vLLM refuse it themselves."""
    if survey.kind not in ("ollama", "lm-studio") or survey.context is None:
        return ""
    if survey.model and survey.model not in (model, f"{model}:latest"):
        return ""  # the context of another model than ours
    # The prompt alone, a tenth off the estimate for tokenizers that pack English tighter: a
    # reply that does not fit is cut short, which the gates see; a prompt that does not fit is
    # cut from its beginning, which nothing would.
    needed = sent_tokens(messages) * 9 // 10
    if needed <= survey.context:
        return ""
    return (
        f"{survey.name} holds {survey.context:,} tokens for {survey.model or 'its model'}, and "
        f"this prompt is about {needed:,}: {raise_context(survey.kind)}"
    )


def was_cut(messages: Sequence[Mapping[str, Any]], read: int | None) -> bool:
    """Whether a server that reports reading ``read`` prompt tokens cut the prompt."""
    sent = sent_tokens(messages)
    return read is not None and read > 0 and sent >= CUT_FROM and read < CUT_SHARE * sent


def raise_context(kind: str) -> str:
    """How to give a server of ``kind`` a larger context window."""
    return {
        "ollama": "raise Ollama's context (OLLAMA_CONTEXT_LENGTH=16384 before `ollama serve`, or "
        "PARAMETER num_ctx in a Modelfile; its OpenAI API takes no num_ctx)",
        "lm-studio": "load the model in LM Studio with a larger context length",
        "llama.cpp": "start llama-server with a larger context (-c; each of -np slots gets "
        "-c / -np)",
        "vllm": "start vLLM with a larger --max-model-len",
    }.get(kind, "give the server a larger context window, or use --max-input-tokens")
