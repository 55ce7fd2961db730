"""Test doubles for analyst and for your own tests: a scripted, recording ``ChatClient``.

    from analyst.testing import FakeChatClient
    fake = FakeChatClient()
    fake.enqueue({"facts": [...]}, {"summary": ..., "implications": [...], "analysis": {...}})
    report = analyst.summarize_text(text, client=fake)
    assert fake.calls[0].schema.name == "extraction"   # each call is the ChatRequest sent

A synthesis queued whole (``summary``, ``implications`` and ``analysis`` in one dict) answers the
summary call with its summary and the analysis call after it with the rest.

With ``responder=extractive_responder`` it answers any analyst prompt by itself, quoting the
first sentences of each section: a zero-latency stand-in for a model.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from analyst.model import seam
from analyst.text.split import sentences

Reply = str | dict[str, Any] | seam.Completion
Responder = Callable[[Sequence[seam.Message], seam.OutputSchema], Reply]


class FakeChatClient:
    """A ``ChatClient`` that answers from a queue (then from ``responder``) and records every
    ``ChatRequest`` it was sent in ``calls``."""

    def __init__(
        self,
        replies: Sequence[Reply] = (),
        *,
        responder: Responder | None = None,
        model: str = "fake-model",
        backend: str = "fake",
    ) -> None:
        self._queue: deque[Reply] = deque(replies)
        self._responder = responder
        self.info = seam.ClientInfo(model, backend)
        self.calls: list[seam.ChatRequest] = []

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies: JSON text, a dict (sent as JSON) or a full ``Completion``."""
        self._queue.extend(replies)

    def complete(self, request: seam.ChatRequest) -> seam.Completion:
        """Record the request and return the next reply."""
        self.calls.append(request)
        messages = request.messages
        if self._queue:
            reply = self._queue.popleft()
            if isinstance(reply, dict) and "analysis" in reply and "summary" in reply:
                rest = {k: v for k, v in reply.items() if k != "summary"}
                if request.schema.name == "summary":
                    self._queue.appendleft(rest)
                    reply = {"summary": reply["summary"]}
                elif request.schema.name == "interpretation":
                    reply = rest
        elif self._responder is not None:
            reply = self._responder(messages, request.schema)
        else:
            raise LookupError(f"FakeChatClient has no reply queued for call {len(self.calls)}")
        if isinstance(reply, seam.Completion):
            return reply
        content = reply if isinstance(reply, str) else json.dumps(reply)
        return seam.Completion(
            content=content,
            finish_reason="stop",
            prompt_tokens=sum(len(m["content"]) // 4 for m in messages),
            completion_tokens=len(content) // 4,
            mode=seam.StructuredMode.JSON_SCHEMA,
        )


_SECTION = re.compile(r'<section id="([^"]+)"[^>]*>\n(.*?)\n</section>', re.DOTALL)
_CLAIM = re.compile(r'<claim id="([^"]+)">(.*?)</claim>\n<passages>(.*?)</passages>', re.DOTALL)
_FACT = re.compile(r"^(f\d+): (.*)$", re.MULTILINE)
_REWRITE = re.compile(r'^(f\d+): ".*"\n   passage: "(.*)"$', re.MULTILINE)
_NUMBERED = re.compile(r"\[(\d+)\] ([^\[\n]*)")


def extractive_responder(
    messages: Sequence[seam.Message], schema: seam.OutputSchema
) -> dict[str, Any]:
    """Answer analyst's prompts without a model: quote sections, cite the facts given."""
    prompt = next(m["content"] for m in messages if m["role"] == "user")
    if schema.name == "judgements":
        from analyst.text.carries import overlap

        judgements = [
            {"claim": cid, "verdict": "supported" if overlap(claim, ctx) >= 0.8 else "unsupported"}
            for cid, claim, ctx in _CLAIM.findall(prompt)
        ]
        return {"judgements": judgements}
    if schema.name.startswith("digest_"):
        return _digest_reply(schema.name, prompt)
    if schema.name == "who":
        return {"entities": [], "relations": [], "events": []}  # nothing it could prove unread
    if schema.name == "who_roles":
        return {"roles": []}
    if schema.name == "who_more":
        return {"names": []}
    if schema.name == "fixes":
        return {"fixes": []}  # its synthesis passes the gates: nothing to fix
    if schema.name == "rewrites":
        return {"facts": [{"id": i, "text": p} for i, p in _REWRITE.findall(prompt)]}
    numbers = schema.schema.get("properties", {}).get("sentences")
    if numbers is not None:  # a reply of sentence numbers: the facts' or the summary's
        if schema.name == "extraction":
            picked = [
                int(n)
                for _, body in _SECTION.findall(prompt)
                for n, t in _NUMBERED.findall(body)[:2]
                if len(t) > 20
            ]
        else:
            picked = list(numbers.get("items", {}).get("enum", []))[: numbers.get("minItems", 2)]
        return {"sentences": picked}
    if schema.name == "extraction" and _NUMBERED.search(prompt):
        cited = []
        for _, body in _SECTION.findall(prompt):
            numbered = _NUMBERED.findall(body)[:2]
            cited += [{"sentence": int(n), "text": t.strip()} for n, t in numbered if len(t) > 20]
        return {"facts": cited}
    if schema.name == "extraction":
        facts = []
        for section_id, body in _SECTION.findall(prompt):
            for sentence in sentences(body.strip())[:2]:
                quote = sentence.strip()[:200]
                if len(quote) > 20:
                    facts.append({"section": section_id, "evidence": quote, "text": quote})
        return {"facts": facts}
    found = _FACT.findall(prompt)
    ids = [fact_id for fact_id, _ in found]
    texts = [text for _, text in found]
    if schema.name == "interpretation":
        return {k: v for k, v in _synthesis(ids, texts, 2).items() if k != "summary"}
    # As many sentences as the schema holds the summary to (the json_object fallback has none).
    wanted = schema.schema.get("properties", {}).get("summary", {}).get("minItems", 2)
    reply = _synthesis(ids, texts, wanted)
    return {"summary": reply["summary"]} if schema.name == "summary" else reply


def _synthesis(ids: list[str], texts: list[str], wanted: int) -> dict[str, Any]:
    # What it writes passes the synthesis gates: no number or name of its own, no repeated
    # sentence, an analysis of 3 sentences and over 50 words that restates no fact.
    sentences = ["The article makes these verifiable points."]
    sentences += [t.rstrip(".") + "." for t in texts[: wanted - 1]]
    sentences += _FILLERS[: max(wanted - len(sentences), 0)]
    return {
        "summary": sentences,
        "implications": [
            {"party": "those involved", "text": text, "facts": ids[n : n + 1]}
            for n, text in enumerate(_IMPLICATIONS)
        ],
        "analysis": passing_analysis(ids),
    }


_DIGEST_FACT = re.compile(r"^(d\d+(?:, d\d+)*|-)(?: \([^)]*\))?: (.*)$", re.MULTILINE)


def _digest_reply(name: str, prompt: str) -> dict[str, Any]:
    """A digest call answered from its fact list: the facts' own words, cited (no new name
    or number); pairs are judged apart."""
    if name == "digest_judgements":
        ids = re.findall(r"^(p\d+):", prompt, re.MULTILINE)
        return {"judgements": [{"pair": i, "verdict": "apart"} for i in ids]}
    found = [
        (ids.split(", ") if ids != "-" else [], text) for ids, text in _DIGEST_FACT.findall(prompt)
    ]
    points = [{"text": text, "facts": ids} for ids, text in found]
    if name == "digest_notes":
        return {"points": points[:1]}
    summary = [text for _, text in found[:2]] or ["Nothing was reported."]
    if len(summary) < 2:
        summary.append("Nothing more was reported.")
    padded = (points * 3)[:3] or [{"text": "Nothing follows.", "facts": []}] * 3
    return {"summary": summary, "implications": padded, "analysis": padded[0]}


def passing_analysis(ids: Sequence[str]) -> dict[str, Any]:
    """An analysis reply in its four parts that passes the synthesis gates (no name or number,
    over 50 words, restating nothing), citing ``ids`` one part each."""
    return {
        name: {"text": text, "facts": list(ids[n : n + 1])}
        for n, (name, text) in enumerate(_ANALYSIS.items())
    }


_FILLERS = [
    "It reports nothing more that could be verified.",
    "It gives no other detail.",
    "It adds no further figures.",
    "It names no other party.",
    "It says nothing of what comes next.",
]
_IMPLICATIONS = [
    "Those involved will have to respond to it.",
    "The people it concerns may act on it soon.",
    "It may change what others expect.",
]
_ANALYSIS = {
    "significance": "The reported points matter because they change what those involved can "
    "plan for.",
    "context": "They fit a longer story that the report only sketches, with earlier turns it "
    "leaves out.",
    "uncertainty": "Much of it is still uncertain, and the report does not say how firm the "
    "plans are.",
    "watch": "The next weeks will show whether the people concerned follow through, and a "
    "careful reader should watch that.",
}
