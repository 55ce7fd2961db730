"""The ``ChatClient`` for OpenAI and every OpenAI-compatible server: the only package that imports
the openai SDK (a lint rule holds it here).

Replies are streamed from every server that can (all of them: OpenAI, llama.cpp, Ollama, LM
Studio, vLLM), so ``timeout`` bounds a silence, never a reply still being written; a server that
refuses a stream is asked without one from then on. A silent request is not abandoned while the
server says it is at work (``patience``); cancelled (its connection closed) when it is not, and
only then sent again. Transient HTTP failures (408, 409, 429, 5xx, connection errors) are retried
by the SDK (``max_retries``), never a second layer here.

What this package adds besides is the structured-output ladder: ask for ``json_schema``; when a
server rejects that, or fails to read the model's output in that mode (llama.cpp's "does not
match the expected … format" 500), fall back to ``json_object``, then to prompt-only, and
remember the mode that worked for the rest of this client's life. A reply whose prompt the
server reports much shorter than what was sent (Ollama cuts a prompt to its ``num_ctx`` and
answers 200) is refused with the setting to raise.

A blocking ``complete`` runs ``acomplete`` on an event loop of the client's own, in a thread, so
both ways share one implementation of all this. ``chat`` sends chat completions, ``batches``
the Batch API's files, ``failures`` turns the SDK's errors into analyst's, ``core`` holds what
they share.
"""

from analyst.model.openai.chat import OpenAIChatClient
from analyst.model.openai.core import openai_strict

__all__ = ["OpenAIChatClient", "openai_strict"]
