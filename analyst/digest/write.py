"""The digest's prose: summary, implications and analysis, written by the model from the merged
facts and citing their ids; and the model's judgement on the pairs the rules left between.

Long digests are reduced by levels, never truncated: when the fact list does not fit one call,
it is cut into chunks that do (a story's facts kept together), each chunk becomes at most half
as many key points as it has facts (``StoryNotes``, citing the same ids), and the points are
written up, cut again if they still do not fit. Each level at least halves what the next reads,
so the reduce ends. Afterwards, citations that name no digest fact are dropped, and sentences
with a number or name that no source quote or fact holds are left out (with a warning), as the
per-article gates do.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from analyst.digest import match
from analyst.digest.briefing import (
    CitedPoint,
    Digest,
    DigestFact,
    DigestPoint,
    DigestWriting,
    StoryNotes,
)
from analyst.digest.merge import Verdict
from analyst.model.ask import AskPolicy, Calls, ask
from analyst.model.seam import ClientInfo, Message, OutputSchema
from analyst.model.usage import Meter
from analyst.prompts import Prompts
from analyst.schema import ModelInfo
from analyst.stages.contract import Stage
from analyst.stages.replies import strict_json_schema
from analyst.text import prose
from analyst.text.tokens import Encoder, count

# The digest's calls: judging pairs of facts, the story's notes, the briefing written.
STAGE = Stage(
    "digest",
    prompts=(
        "digest",
        "digest_input",
        "digest_notes",
        "digest_notes_input",
        "digest_judge",
        "digest_judge_input",
    ),
)
REPLY_TOKENS = 1200
NOTES_TOKENS = 700
JUDGE_PAIRS = 40  # pairs per judging call


class _Judgement(BaseModel):
    pair: str
    verdict: Literal["same", "contradicts", "apart"]


class _Judgements(BaseModel):
    judgements: list[_Judgement]


def judge(
    pairs: Sequence[match.Pair],
    texts: dict[str, str],
    policy: AskPolicy,
    prompts: Prompts,
) -> Calls[dict[tuple[str, str], Verdict]]:
    """The model's verdict on each pair the rules could not settle (in calls of
    ``JUDGE_PAIRS``); a pair it does not answer stays apart."""
    found: dict[tuple[str, str], Verdict] = {}
    for start in range(0, len(pairs), JUDGE_PAIRS):
        chunk = pairs[start : start + JUDGE_PAIRS]
        ids = [f"p{n}" for n in range(1, len(chunk) + 1)]
        lines = "\n".join(
            f'{pid}: "{_flat(texts[p.a.id])}" | "{_flat(texts[p.b.id])}"'
            for pid, p in zip(ids, chunk, strict=True)
        )
        messages: list[Message] = [
            {"role": "system", "content": prompts.render("digest_judge")},
            {
                "role": "user",
                "content": prompts.render("digest_judge_input", pairs=lines, ids=", ".join(ids)),
            },
        ]
        schema = OutputSchema("digest_judgements", strict_json_schema(_Judgements))
        reply = yield from ask(
            policy, messages, _Judgements, schema=schema, max_tokens=32 + 16 * len(chunk)
        )
        said = {j.pair: j.verdict for j in reply.judgements}
        for pid, pair in zip(ids, chunk, strict=True):
            if pid in said:
                found[(pair.a.id, pair.b.id)] = said[pid]
    return found


def write(
    digest: Digest, policy: AskPolicy, prompts: Prompts, info: ClientInfo, *, started: float
) -> Calls[Digest]:
    """``digest`` with its summary, implications and analysis written, each call asked as
    ``policy`` says (its encoder sizes the calls, its meter counts them)."""
    encoder, meter = policy.encoder, policy.meter
    if not digest.facts:
        return digest.model_copy(
            update={"warnings": [*digest.warnings, "no grounded fact to write a digest from"]}
        )
    window = policy.context_window
    room = window - REPLY_TOKENS - count(encoder, prompts.render("digest")) - 300
    lines = [_fact_line(f) for f in digest.facts]  # the most widely reported first
    levels = 0
    if sum(count(encoder, line) + 1 for line in lines) > room:
        # Reduced by story: a chunk holds whole stories where it can, so each point it makes
        # is about one story.
        by_story = sorted(digest.facts, key=lambda f: (f.story, int(f.id[1:])))
        lines = [_fact_line(f) for f in by_story]
    while sum(count(encoder, line) + 1 for line in lines) > room and len(lines) > 1:
        chunks = _chunks(lines, room, encoder)
        points: list[str] = []
        for chunk in chunks:
            most = max(1, min(6, len(chunk) // 2))
            notes = yield from _notes(chunk, most, policy, prompts)
            points += [_point_line(p) for p in notes.points[:most]]
        lines = points
        levels += 1
    contradictions = "\n".join(
        f"- {c.id} ({c.kind}): "
        + "; ".join(f"{', '.join(v.facts)} say {v.value}" for v in c.versions)
        for c in digest.contradictions
    )
    inputs = prompts.render(
        "digest_input",
        articles=str(len(digest.articles)),
        facts="\n".join(lines),
        contradictions=f"Where they disagree:\n{contradictions}\n" if contradictions else "",
    )
    messages: list[Message] = [
        {"role": "system", "content": prompts.render("digest")},
        {"role": "user", "content": inputs},
    ]
    schema = OutputSchema("digest_writing", strict_json_schema(DigestWriting))
    reply = yield from ask(policy, messages, DigestWriting, schema=schema, max_tokens=REPLY_TOKENS)
    return _checked(digest, reply, levels, info, meter, started)


def _notes(
    chunk: Sequence[str], most: int, policy: AskPolicy, prompts: Prompts
) -> Calls[StoryNotes]:
    messages: list[Message] = [
        {"role": "system", "content": prompts.render("digest_notes", most=str(most))},
        {"role": "user", "content": prompts.render("digest_notes_input", facts="\n".join(chunk))},
    ]
    schema = OutputSchema("digest_notes", strict_json_schema(StoryNotes))
    return (yield from ask(policy, messages, StoryNotes, schema=schema, max_tokens=NOTES_TOKENS))


def _chunks(lines: Sequence[str], room: int, encoder: Encoder) -> list[list[str]]:
    """``lines`` in order, cut where a chunk would pass ``room`` tokens; at least two lines a
    chunk, so that every chunk is reduced."""
    chunks: list[list[str]] = [[]]
    used = 0
    for line in lines:
        tokens = count(encoder, line) + 1
        if used + tokens > room and len(chunks[-1]) >= 2:
            chunks.append([])
            used = 0
        chunks[-1].append(line)
        used += tokens
    if len(chunks) > 1 and len(chunks[-1]) < 2:
        chunks[-2] += chunks.pop()
    return chunks


def _fact_line(fact: DigestFact) -> str:
    who = (
        f"{fact.articles} articles"
        if fact.articles > 1
        else f"1 article, {fact.sources[0].article}"
    )
    return f"{fact.id} ({who}): {_flat(fact.text)}"


def _point_line(point: CitedPoint) -> str:
    return f"{', '.join(point.facts) or '-'}: {_flat(point.text)}"


def _flat(text: str) -> str:
    return " ".join(text.replace("<", "‹").replace(">", "›").split())


def _checked(
    digest: Digest,
    reply: DigestWriting,
    levels: int,
    info: ClientInfo,
    meter: Meter,
    started: float,
) -> Digest:
    """The reply made safe to show: known citations only, no invented numbers or names."""
    ids = {f.id for f in digest.facts}
    quotes = [t for f in digest.facts for t in [f.text, *(s.evidence for s in f.sources)]]
    corpus = "\n".join(quotes)
    warnings = list(digest.warnings)
    unknown: set[str] = set()
    left_out: list[str] = []

    def clean(text: str) -> str:
        kept = []
        for sentence in prose.sentences(text) or [text]:
            if prose.invented(sentence, corpus, names=True):
                left_out.append(sentence)
            else:
                kept.append(sentence)
        return " ".join(kept)

    def point(p: CitedPoint) -> DigestPoint | None:
        unknown.update(set(p.facts) - ids)
        text = clean(p.text)
        return DigestPoint(text=text, facts=[i for i in p.facts if i in ids]) if text else None

    summary = " ".join(clean(s) for s in reply.summary).strip()
    implications = [p for p in map(point, reply.implications) if p is not None]
    analysis = point(reply.analysis)
    if unknown:
        warnings.append(f"citations of unknown digest facts were dropped: {sorted(unknown)}")
    if left_out:
        warnings.append(
            f"{len(left_out)} sentence(s) naming a number or name no source gives were left out"
        )
    interpret = [x for p in [*implications, analysis] if p for x in prose.sentences(p.text)]
    restating = sum(1 for x in interpret if prose.restates(x, quotes))
    if restating:
        # Measured, not removed (as in a report): deleting them would hide how the model wrote.
        warnings.append(
            f"{restating} of {len(interpret)} implication and analysis sentences restate a fact "
            "instead of interpreting it"
        )
    if levels:
        warnings.append(f"the facts did not fit one call: reduced in {levels} level(s)")
    return digest.model_copy(
        update={
            "summary": summary,
            "implications": implications,
            "analysis": analysis,
            "model": ModelInfo(
                name=info.model, backend=info.backend, structured_mode=meter.mode.value
            ),
            "usage": meter.usage(info, round(time.monotonic() - started, 2)),
            "warnings": warnings,
        }
    )
