"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies, for tests.

Each test queues what the server answers (``reply``, ``error``), or lets it answer by itself from
the prompt (``extractive_responder``). It records every request body, can reject structured-output
modes the way some servers do, and lists models at ``/v1/models``.

It can play a local server (``kind``): llama.cpp, Ollama, LM Studio or vLLM, each with the
endpoints it has beside ``/v1`` and its documented ways: a number of ``slots`` decoded at once
(requests beyond wait in a queue and are sent nothing until their turn; a client that closes
its connection meanwhile is dropped, as llama.cpp and Ollama do), a ``context`` that llama.cpp
refuses to exceed (400) and Ollama silently cuts a prompt to (200), LM Studio's refusal of
``json_object``.

It also serves OpenAI's Batch API: ``/v1/files`` (upload, content) and ``/v1/batches`` (create,
retrieve). A batch answers each line as a chat request would be answered (scripted replies
included) once it has been polled ``BatchPlan.polls`` times; a plan can make it expire after some
lines, or fail validation.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import os
import re
import select
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from analyst.model.seam import OutputSchema
from analyst.testing import extractive_responder


@dataclass
class Scripted:
    """One scripted answer: a completion (``status == 200``) or an HTTP error."""

    content: str = ""
    finish_reason: str = "stop"
    usage: bool = True
    status: int = 200
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None
    # A transport fault instead of a clean answer: reset, stall, drip, malformed, wrong_shape.
    fault: str | None = None
    seconds: float = 0.0  # how long a stall waits, or a drip takes in all


def reply(
    content: str | dict[str, Any],
    *,
    finish_reason: str = "stop",
    usage: bool = True,
    refusal: str | None = None,
) -> Scripted:
    """A completion with this content (a dict is sent as JSON text)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return Scripted(content=text, finish_reason=finish_reason, usage=usage, refusal=refusal)


def error(status: int, message: str = "error", headers: dict[str, str] | None = None) -> Scripted:
    """An HTTP error with an OpenAI-style error body."""
    return Scripted(status=status, error=message, headers=headers or {})


def fault(kind: str, seconds: float = 0.0) -> Scripted:
    """A broken answer: ``reset`` (the connection is reset), ``stall`` (nothing for ``seconds``,
    then the answer), ``drip`` (the answer a byte at a time over ``seconds``), ``malformed``
    (a 200 whose body is not JSON), ``wrong_shape`` (JSON without ``choices``)."""
    assert kind in ("reset", "stall", "drip", "malformed", "wrong_shape"), kind
    return Scripted(fault=kind, seconds=seconds)


@dataclass
class BatchPlan:
    """How the next batch behaves: ``polls`` retrievals report it in progress first; with
    ``expire_after`` only that many lines are answered and the batch ends ``expired``; with
    ``invalid`` it fails validation with that message."""

    polls: int = 1
    expire_after: int | None = None
    invalid: str | None = None


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops the SYNs of a batch opening 16 connections at once,
    # and each dropped SYN costs the client a 1 s retransmit; real servers queue far more.
    request_queue_size = 128
    daemon_threads = True


class FakeOpenAIServer:
    """Serves ``/v1/chat/completions`` and ``/v1/models`` on an OS-chosen loopback port."""

    def __init__(self) -> None:
        self.queue: deque[Scripted] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.reject_modes: set[str] = set()
        self.models: list[str] = ["fake-model"]
        self.auto = True  # answer from the prompt when the queue is empty
        # Report a prompt cache as llama.cpp does ("llama": timings.cache_n) or as OpenAI does
        # ("openai": usage.prompt_tokens_details.cached_tokens): a request's cached tokens are
        # those of its longest common beginning with the previous one (4 characters a token).
        self.prompt_cache: str | None = None
        self._last_prompt = ""
        self.always: Scripted | None = None  # answer every request with this, when set
        # Answers for requests whose messages contain a marker, before the queue (batch tests).
        self.routed: list[tuple[str, deque[Scripted]]] = []
        self.delay = 0.0  # seconds each chat completion takes, like a real model
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_plans: deque[BatchPlan] = deque()  # for the next batches, in order
        self.batch_lines: list[dict[str, Any]] = []  # every request line of every batch
        self._ids = itertools.count(1)
        self.in_flight = 0
        self.peak_in_flight = 0  # the most chat requests served at once
        # Playing a local server: "llama.cpp", "ollama", "lm-studio", "vllm" (None: OpenAI-like).
        self.kind: str | None = None
        self.slots: int | None = None  # requests decoded at once; the rest wait their turn
        self.context: int | None = None  # tokens a request may hold (4 characters a token)
        self.in_service = 0  # requests holding a slot now
        self.waiting = 0  # requests waiting for a slot
        self.dropped = 0  # waiting requests whose client had gone when their turn came
        self.cancelled = 0  # streamed replies whose client went away before the end
        # Chat requests that arrived while an identical one was still being served: a client
        # that sends a request again while the server is still on it.
        self.resent_while_busy = 0
        self._serving: dict[str, int] = {}
        self._turns: threading.Semaphore | None = None
        self.ollama_lists_context = True  # /api/ps says the loaded model's context_length
        self.stream_error: str | None = None  # the next stream carries this error event
        self.refuse_stream = False  # 400 to any request with stream=true
        self.ignore_stream = False  # answer stream=true with a whole completion
        self._lock = threading.RLock()  # the batch runner answers lines under it
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The ``/v1`` base URL to give analyst."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def enqueue(self, *items: Scripted) -> None:
        """Queue answers, used in order before the automatic ones."""
        self.queue.extend(items)

    def enqueue_for(self, marker: str, *items: Scripted) -> None:
        """Queue answers for the requests whose messages contain ``marker``."""
        self.routed.append((marker, deque(items)))

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def play(self, kind: str, *, slots: int | None = None, context: int | None = None) -> None:
        """Behave as ``kind`` ("llama.cpp", "ollama", "lm-studio", "vllm")."""
        self.kind, self.slots, self.context = kind, slots, context
        self._turns = threading.Semaphore(slots) if slots else None
        if kind == "lm-studio":
            self.reject_modes.add("json_object")

    def _own_endpoint(self, path: str) -> tuple[int, object] | None:
        """What ``kind`` answers at its own endpoints (``None``: it has none at ``path``)."""
        if self.kind == "llama.cpp":
            if path == "/props":
                settings = {"n_ctx": self.context or 4096}
                return 200, {
                    "total_slots": self.slots or 1,
                    "default_generation_settings": settings,
                }
            if path == "/slots":
                return 200, [
                    {"id": i, "is_processing": i < self.in_service} for i in range(self.slots or 1)
                ]
        if self.kind == "ollama":
            if path == "/api/version":
                return 200, {"version": "0.13.0"}
            if path == "/api/ps":  # the model is listed once loaded, i.e. after a first request
                loaded = self.context is not None and self.ollama_lists_context
                model = {"name": self.models[0], "context_length": self.context}
                return 200, {"models": [model] if loaded else []}
        if self.kind == "lm-studio" and path == "/api/v0/models":
            model = {"id": self.models[0], "state": "loaded", "loaded_context_length": self.context}
            return 200, {"object": "list", "data": [model]}
        if self.kind == "vllm":
            if path == "/version":
                return 200, {"version": "0.11.0"}
            if path == "/metrics":
                text = (
                    f'vllm:num_requests_running{{model_name="m"}} {float(self.in_service)}\n'
                    f'vllm:num_requests_waiting{{model_name="m"}} {float(self.waiting)}\n'
                )
                return 200, text
        return None

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat completion requests received, in order."""
        return [r for r in self.requests if "messages" in r]

    def _take(self, body: dict[str, Any]) -> Scripted | None:
        text = json.dumps(body.get("messages", []), ensure_ascii=False)
        with self._lock:
            if self.always is not None:
                return self.always
            routed = next((q for marker, q in self.routed if q and marker in text), None)
            return routed.popleft() if routed else self.queue.popleft() if self.queue else None

    def _answer(
        self, body: dict[str, Any], item: Scripted | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        fmt = (body.get("response_format") or {}).get("type", "none")
        if fmt in self.reject_modes:
            why = f"response_format type '{fmt}' is not supported by this server"
            if self.kind == "lm-studio":
                why = "'response_format.type' must be 'json_schema' or 'text'"
            return 400, {"error": {"message": why, "type": "invalid_request_error"}}, {}
        prompt_tokens = sum(len(str(m.get("content", ""))) // 4 for m in body["messages"])
        if self.context is not None and self.kind == "llama.cpp":
            if prompt_tokens + int(body.get("max_tokens") or 0) > self.context:
                why = "the request exceeds the available context size, try increasing it"
                return (
                    400,
                    {"error": {"code": 400, "message": why, "type": "exceed_context_size_error"}},
                    {},
                )
        if item is None:
            if not self.auto:
                return 500, {"error": {"message": "test server has no scripted reply"}}, {}
            item = reply(extractive_responder(body["messages"], _schema_of(body)))
        if item.status != 200:
            return item.status, {"error": {"message": item.error, "code": None}}, item.headers
        message: dict[str, Any] = {"role": "assistant", "content": item.content}
        if item.refusal is not None:
            message = {"role": "assistant", "content": None, "refusal": item.refusal}
        payload: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": item.finish_reason}],
        }
        if item.usage:
            prompt = prompt_tokens
            if self.kind == "ollama" and self.context is not None:
                prompt = min(prompt, self.context)  # Ollama keeps the end of a longer prompt
            completion = len(item.content) // 4
            payload["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
            text = "\n".join(str(m.get("content", "")) for m in body["messages"])
            shared = len(os.path.commonprefix([text, self._last_prompt])) // 4
            self._last_prompt = text
            if self.prompt_cache == "llama":
                payload["timings"] = {"cache_n": shared, "prompt_n": prompt - shared}
            elif self.prompt_cache == "openai":
                payload["usage"]["prompt_tokens_details"] = {"cached_tokens": shared}
        return 200, payload, {}

    # ---- the Batch API -------------------------------------------------------------------------

    def _upload(self, content_type: str, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        data = b""
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = data
        return 200, self._file(file_id, "batch"), {}

    def _file(self, file_id: str, purpose: str) -> dict[str, Any]:
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(self.files[file_id]),
            "created_at": int(time.time()),
            "filename": f"{file_id}.jsonl",
            "purpose": purpose,
            "status": "processed",
        }

    def _create_batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if body.get("input_file_id") not in self.files:
            return 404, {"error": {"message": "no such file"}}, {}
        batch_id = f"batch_{next(self._ids)}"
        plan = self.batch_plans.popleft() if self.batch_plans else BatchPlan()
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "created_at": int(time.time()),
            "status": "validating",
            "metadata": body.get("metadata"),
            "_plan": plan,
        }
        return 200, self._public(batch_id), {}

    def _public(self, batch_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[batch_id].items() if not k.startswith("_")}

    def _poll_batch(self, batch_id: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, {"error": {"message": "no such batch"}}, {}
        plan: BatchPlan = batch["_plan"]
        if batch["status"] in ("validating", "in_progress"):
            if plan.polls > 0:
                plan.polls -= 1
                batch["status"] = "in_progress"
            else:
                self._run_batch(batch, plan)
        return 200, self._public(batch_id), {}

    def _run_batch(self, batch: dict[str, Any], plan: BatchPlan) -> None:
        if plan.invalid is not None:
            batch["status"] = "failed"
            batch["errors"] = {
                "object": "list",
                "data": [{"code": "invalid", "message": plan.invalid}],
            }
            return
        lines = [
            json.loads(x) for x in self.files[batch["input_file_id"]].splitlines() if x.strip()
        ]
        out: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        for n, line in enumerate(lines):
            self.batch_lines.append(line)
            if plan.expire_after is not None and n >= plan.expire_after:
                expired = {"code": "batch_expired", "message": "the completion window expired"}
                bad.append({"custom_id": line["custom_id"], "response": None, "error": expired})
                continue
            status, payload, _ = self._answer(line["body"], self._take(line["body"]))
            result = {
                "id": f"batch_req_{n}",
                "custom_id": line["custom_id"],
                "response": {"status_code": status, "request_id": f"req_{n}", "body": payload},
                "error": None,
            }
            (out if status == 200 else bad).append(result)
        for key, rows in (("output_file_id", out), ("error_file_id", bad)):
            if rows:
                file_id = f"file-{next(self._ids)}"
                self.files[file_id] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                batch[key] = file_id
        batch["status"] = "expired" if plan.expire_after is not None else "completed"
        batch["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(bad)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; without this, Nagle and delayed ACKs
            # add 40 ms to every response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def handle(self) -> None:
                # A client may reset a kept-alive connection it is done with; servers shrug.
                try:
                    super().handle()
                except ConnectionResetError:
                    self.close_connection = True

            def _send(self, status: int, payload: object, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (a killed batch, a timeout): nothing to answer

            def _stream(self, item: Scripted | None, body: dict[str, Any]) -> None:
                """The answer as server-sent events, a few characters a chunk, as llama.cpp
                and OpenAI stream; ``drip`` spreads the chunks over its seconds, ``stall``
                sends half of them and then nothing for its seconds."""
                fault = item.fault if item is not None else None
                status, payload, headers = server._answer(body, None if fault else item)
                if status != 200:
                    self._send(status, payload, headers)
                    return
                choice = payload["choices"][0]
                content = choice["message"].get("content") or ""
                pieces = [content[i : i + 8] for i in range(0, len(content), 8)]
                base = {k: payload[k] for k in ("id", "created", "model")}
                base["object"] = "chat.completion.chunk"
                events = [
                    {**base, "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces
                ]
                if choice["message"].get("refusal"):  # OpenAI streams a refusal as its own delta
                    delta = {"refusal": choice["message"]["refusal"]}
                    events = [{**base, "choices": [{"index": 0, "delta": delta}]}]
                last: dict[str, Any] = {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}
                    ],
                }
                events.append(last)
                if "usage" in payload:
                    events.append({**base, "choices": [], "usage": payload["usage"]})
                    if "timings" in payload:
                        events[-1]["timings"] = payload["timings"]
                seconds = item.seconds if item is not None else 0.0
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for n, event in enumerate(events):
                        if fault == "stall" and n == len(events) // 2:
                            time.sleep(seconds)
                        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                        self.wfile.flush()
                        if fault == "drip":
                            time.sleep(seconds / len(events))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    with server._lock:
                        server.cancelled += 1
                self.close_connection = True

            def _stream_error(self, message: str) -> None:
                """An error as an event of a started stream (llama.cpp's way, once it has
                begun a reply it then cannot parse)."""
                event = {"error": {"code": 500, "message": message, "type": "server_error"}}
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

            def _fault(self, item: Scripted, body: dict[str, Any]) -> None:
                if item.fault == "reset":
                    # SO_LINGER 0: closing sends a TCP RST instead of an orderly FIN.
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                    self.connection.close()
                    return
                if item.fault == "stall":
                    time.sleep(item.seconds)
                    self._send(*server._answer(body, None))
                    return
                if item.fault == "drip":
                    status, payload, _ = server._answer(body, None)
                    data = json.dumps(payload).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    pause = item.seconds / max(len(data), 1)
                    try:
                        for i in range(0, len(data), 64):
                            self.wfile.write(data[i : i + 64])
                            self.wfile.flush()
                            time.sleep(pause * 64)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                raw = b"{this is not json" if item.fault == "malformed" else b'{"object": "x"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                own = server._own_endpoint(self.path.rstrip("/"))
                if own is not None:
                    status, payload = own
                    if isinstance(payload, str):  # Prometheus text
                        text = payload.encode()
                        self.send_response(status)
                        self.send_header("Content-Type", "text/plain; version=0.0.4")
                        self.send_header("Content-Length", str(len(text)))
                        self.end_headers()
                        self.wfile.write(text)
                    else:
                        self._send(status, payload, {})
                    return
                parts = self.path.rstrip("/").split("/")
                if len(parts) >= 3 and parts[-3] == "files" and parts[-1] == "content":
                    content = server.files.get(parts[-2])
                    if content is None:
                        self._send(404, {"error": {"message": "no such file"}}, {})
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return
                if len(parts) >= 2 and parts[-2] == "batches":
                    with server._lock:
                        answer = server._poll_batch(parts[-1])
                    self._send(*answer)
                    return
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "owned_by": "test"} for m in server.models]
                    self._send(200, {"object": "list", "data": data}, {})
                else:
                    self._send(404, {"error": {"message": "not found"}}, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if self.path.rstrip("/").endswith("/files"):
                    with server._lock:
                        answer = server._upload(self.headers.get("Content-Type", ""), raw)
                    self._send(*answer)
                    return
                body = json.loads(raw or b"{}")
                if self.path.rstrip("/").endswith("/batches"):
                    with server._lock:
                        created = server._create_batch(body)
                    self._send(*created)
                    return
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}}, {})
                    return
                key = json.dumps(body, sort_keys=True)
                with server._lock:
                    if server._serving.get(key):
                        server.resent_while_busy += 1
                    server._serving[key] = server._serving.get(key, 0) + 1
                try:
                    if not self._take_turn():
                        return
                    self._serve(body)
                finally:
                    with server._lock:
                        server._serving[key] -= 1

            def _take_turn(self) -> bool:
                """Wait for a slot, sending nothing; ``False`` if the client left meanwhile."""
                turns = server._turns
                if turns is None:
                    return True
                with server._lock:
                    server.waiting += 1
                while not turns.acquire(timeout=0.05):
                    if self._client_gone():
                        with server._lock:
                            server.waiting -= 1
                            server.dropped += 1
                        self.close_connection = True
                        return False
                with server._lock:
                    server.waiting -= 1
                    server.in_service += 1
                return True

            def _client_gone(self) -> bool:
                ready, _, _ = select.select([self.connection], [], [], 0)
                if not ready:
                    return False
                try:
                    return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
                except OSError:
                    return True

            def _serve(self, body: dict[str, Any]) -> None:
                with server._lock:
                    server.in_flight += 1
                    server.peak_in_flight = max(server.peak_in_flight, server.in_flight)
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    item = server._take(body)
                    if body.get("stream") and server.refuse_stream:
                        why = "stream is not supported by this server"
                        self._send(400, {"error": {"message": why}}, {})
                        return
                    if body.get("stream") and server.ignore_stream:
                        self._send(*server._answer(body, item))
                        return
                    if body.get("stream") and server.stream_error:
                        message, server.stream_error = server.stream_error, None
                        self._stream_error(message)
                        return
                    if body.get("stream") and (
                        item is None or item.fault in (None, "drip", "stall")
                    ):
                        self._stream(item, body)
                    elif item is not None and item.fault is not None:
                        self._fault(item, body)
                    else:
                        self._send(*server._answer(body, item))
                finally:
                    with server._lock:
                        server.in_flight -= 1
                        if server._turns is not None:
                            server.in_service -= 1
                            server._turns.release()

        return Handler


def _schema_of(body: dict[str, Any]) -> OutputSchema:
    fmt = body.get("response_format") or {}
    name = (fmt.get("json_schema") or {}).get("name")
    if name is None:
        # Without response_format the schema travels in the prompt; its title names it.
        prompt = "\n".join(m["content"] for m in body["messages"])
        titles = {
            "Extraction": "extraction",
            "CitingExtraction": "extraction",
            "Rewrites": "rewrites",
            "Judgements": "judgements",
            "Fixes": "fixes",
            "Summary": "summary",
            "Interpretation": "interpretation",
        }
        found = re.findall(r'"title":"(\w+)","type":"object"}\s*$', prompt)
        name = titles.get(found[-1], "synthesis") if found else "synthesis"
    return OutputSchema(name, (fmt.get("json_schema") or {}).get("schema") or {})
