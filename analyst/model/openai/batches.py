"""Provider batches through the SDK: OpenAI's Batch API (``vllm run-batch`` reads the same
request lines). Half the price, answers within a day (``analyst batch --provider-batch``)."""

from __future__ import annotations

from typing import Any

import openai
from openai.types.chat import ChatCompletion

from analyst.model.completions import completion
from analyst.model.openai.failures import Failures
from analyst.model.seam import BatchState, ChatRequest, Completion, StructuredMode


class Batches(Failures):
    """The Batch API calls of ``OpenAIChatClient``."""

    def batch_line(self, custom_id: str, request: ChatRequest) -> dict[str, Any]:
        """One line of a batch input file: the request ``complete`` would send, with schema."""
        body = self._body(request, StructuredMode.JSON_SCHEMA)
        return {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": body,
        }

    async def submit_batch(self, jsonl: bytes, *, description: str) -> str:
        """Upload a request file and start a batch on it; returns the batch id."""
        sdk = self._async()
        try:
            uploaded = await sdk.files.create(
                file=("analyst-requests.jsonl", jsonl, "application/jsonl"), purpose="batch"
            )
            batch = await sdk.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={"description": description[:512]},
            )
        except openai.APIError as exc:
            raise self._translate(exc) from None
        return batch.id

    async def batch_state(self, batch_id: str) -> BatchState:
        """Poll one batch."""
        try:
            batch = await self._async().batches.retrieve(batch_id)
        except openai.APIError as exc:
            raise self._translate(exc) from None
        counts = batch.request_counts
        problems = batch.errors.data if batch.errors and batch.errors.data else []
        return BatchState(
            id=batch.id,
            status=batch.status,
            total=counts.total if counts else 0,
            completed=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
            errors=tuple(self._scrub(p.message or p.code or "?") for p in problems),
        )

    async def batch_file(self, file_id: str) -> str:
        """The text of a batch's output or error file."""
        try:
            content = await self._async().files.content(file_id)
        except openai.APIError as exc:
            raise self._translate(exc) from None
        return content.content.decode("utf-8", errors="replace")

    def completion_from_body(self, body: dict[str, Any]) -> Completion:
        """A chat completion body from a batch result file, as a ``Completion``."""
        try:
            response = ChatCompletion.model_validate(body)
        except ValueError as exc:
            raise self._malformed(exc) from None
        return self._clean(completion(response, StructuredMode.JSON_SCHEMA))
