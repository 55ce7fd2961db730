"""`analyst eval --claims`: the fact verifier against human labels — accuracy, balanced
accuracy and AUROC of its support score over claims labelled supported or not."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from analyst.errors import AnalystError
from analyst.evaluation.jsonl import load, text_field
from analyst.model.seam import Client
from analyst.session import Session
from analyst.settings import Settings


@dataclass(frozen=True)
class EvalClaim:
    """A claim about a text, labelled by people as supported or not."""

    id: str
    text: str
    claim: str
    label_supported: bool


@dataclass
class ClaimScore:
    """The verifier's view of one claim beside its label."""

    id: str
    label_supported: bool
    verdict: str | None
    support: float | None
    lexical: float | None = None
    model_verdict: str | None = None  # the model's own vote, before the cheap signals
    error: str | None = None
    exit_code: int = 0  # of the error, when the claim could not be judged


@dataclass
class ClaimsResult:
    """Per-claim verdicts and accuracy, balanced accuracy and AUROC against the labels."""

    claims: list[ClaimScore] = field(default_factory=list)

    def overall(self) -> dict[str, Any]:
        """The figures: a claim counts as judged supported when its verdict says so."""
        done = [c for c in self.claims if c.support is not None]
        positives = [c for c in done if c.label_supported]
        negatives = [c for c in done if not c.label_supported]

        def rate(group: list[ClaimScore], want: bool) -> float | None:
            if not group:
                return None
            return sum((c.verdict == "supported") == want for c in group) / len(group)

        tpr, tnr = rate(positives, True), rate(negatives, False)
        correct = sum((c.verdict == "supported") == c.label_supported for c in done)
        return {
            "claims": len(self.claims),
            "failed": len(self.claims) - len(done),
            "supported_labels": len(positives),
            "accuracy": round(correct / len(done), 4) if done else None,
            "balanced_accuracy": round((tpr + tnr) / 2, 4)
            if tpr is not None and tnr is not None
            else None,
            "auroc": auroc(
                [c.support for c in positives if c.support is not None],
                [c.support for c in negatives if c.support is not None],
            ),
        }

    def to_json(self) -> str:
        """Per-claim verdicts and the overall figures, as JSON."""
        body = {"overall": self.overall(), "claims": [asdict(c) for c in self.claims]}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def auroc(positives: list[float], negatives: list[float]) -> float | None:
    """Area under the ROC curve: the chance that a random supported claim scores above a random
    unsupported one, ties counting half (the Mann-Whitney U statistic, normalised)."""
    if not positives or not negatives:
        return None
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return round(wins / (len(positives) * len(negatives)), 4)


def load_claims(path: Path) -> list[EvalClaim]:
    """Read a claims JSONL (id, text, claim, label_supported); a bad line names itself."""
    return load(path, _claim, "a claim row")


def _claim(data: dict[str, Any]) -> EvalClaim:
    return EvalClaim(
        str(data["id"]),
        text_field(data, "text"),
        text_field(data, "claim"),
        bool(data["label_supported"]),
    )


def evaluate_claims(
    rows: list[EvalClaim],
    *,
    settings: Settings,
    client: Client | None = None,
    on_claim: Callable[[ClaimScore], None] | None = None,
) -> ClaimsResult:
    """Judge every claim with the fact verifier (one call each, cached) and compare to labels."""
    from analyst.model.ask import AskPolicy
    from analyst.model.usage import Meter
    from analyst.stages.verify import check_claims
    from analyst.text.tokens import get_encoder

    result = ClaimsResult()
    with Session(settings, client=client) as session:
        encoder = get_encoder(session.info.model, settings.cache_dir)
        reask = functools.partial(session.prompts.render, "reask")
        for row in rows:
            policy = AskPolicy.of(settings, encoder, Meter(), lambda e: reask(error=e))
            calls = check_claims(
                [row.claim], row.text, policy=policy, prompts=session.prompts, max_tokens=200
            )
            try:
                (check,) = session.run(calls)
            except AnalystError as exc:
                if exc.stops_batch:
                    raise
                score = ClaimScore(
                    row.id,
                    row.label_supported,
                    None,
                    None,
                    error=str(exc),
                    exit_code=exc.exit_code,
                )
            else:
                score = ClaimScore(
                    row.id,
                    row.label_supported,
                    check.verdict,
                    check.support,
                    check.lexical,
                    check.model,
                )
            result.claims.append(score)
            if on_claim is not None:
                on_claim(score)
    return result
