"""`analyst eval`: how good the reports are, measured on labelled articles.

For each article of a JSONL file (``id``, ``text``, optional ``reference_summary`` and ``title``)
the pipeline writes its report (through the call cache, so a second evaluation is free), and the
report is scored:

- ROUGE-1/2/L F-measure of the summary against the human reference (rouge-score, stemmed), with
  the lead-3 baseline — the article's first three sentences — scored the same way beside it;
- facts kept, and the share of the model's proposed facts whose quote was found (grounded rate);
- facts that mention a number or name the article never does;
- calls, tokens and seconds.
"""

from __future__ import annotations

import functools
import json
import re
import statistics
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from analyst.backends import ChatClient
from analyst.errors import AnalystError, InputError
from analyst.pipeline import summarize_text
from analyst.reading import Kind, read_article
from analyst.settings import Settings

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]+[\"”’')\]]*|[^.!?。！？]+$")


@dataclass(frozen=True)
class EvalArticle:
    """One labelled article."""

    id: str
    text: str
    reference_summary: str | None = None
    title: str | None = None


@dataclass
class ArticleScore:
    """How one report did."""

    id: str
    rouge: dict[str, float] | None  # the summary against the reference
    lead3_rouge: dict[str, float] | None  # the first three sentences against the reference
    facts: int
    facts_extracted: int
    grounded_rate: float | None  # grounded facts / facts the model proposed
    facts_with_absent_terms: int
    calls: int
    cache_hits: int
    tokens: int
    seconds: float
    error: str | None = None


@dataclass
class EvalResult:
    """Per-article scores and their means."""

    articles: list[ArticleScore] = field(default_factory=list)

    def mean(self, pick: Callable[[ArticleScore], float | None]) -> float | None:
        """The mean of ``pick`` over the articles that have a value."""
        values = [v for a in self.articles if (v := pick(a)) is not None]
        return round(statistics.fmean(values), 4) if values else None

    def overall(self) -> dict[str, Any]:
        """The means the README and the table report."""
        scored = [a for a in self.articles if a.error is None]
        out: dict[str, Any] = {
            "articles": len(self.articles),
            "failed": len(self.articles) - len(scored),
        }
        for kind in ROUGE_TYPES:
            out[kind] = self.mean(functools.partial(_rouge_of, kind=kind, lead=False))
            out[f"lead3_{kind}"] = self.mean(functools.partial(_rouge_of, kind=kind, lead=True))
        out["facts_per_article"] = self.mean(lambda a: a.facts if a.error is None else None)
        out["grounded_rate"] = self.mean(lambda a: a.grounded_rate)
        out["facts_with_absent_terms"] = sum(a.facts_with_absent_terms for a in scored)
        out["calls"] = sum(a.calls for a in self.articles)
        out["tokens"] = sum(a.tokens for a in self.articles)
        out["seconds"] = round(sum(a.seconds for a in self.articles), 1)
        return out

    def to_json(self) -> str:
        """Per-article scores and the overall means, as JSON."""
        body = {"overall": self.overall(), "articles": [asdict(a) for a in self.articles]}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _rouge_of(score: ArticleScore, *, kind: str, lead: bool) -> float | None:
    values = score.lead3_rouge if lead else score.rouge
    return values[kind] if values else None


def load_articles(path: Path) -> list[EvalArticle]:
    """Read the evaluation JSONL; a bad line is an ``InputError`` naming it."""
    rows: list[EvalArticle] = []
    for number, line in enumerate(_lines(path), start=1):
        try:
            data = json.loads(line)
            rows.append(
                EvalArticle(
                    id=str(data["id"]),
                    text=str(data["text"]),
                    reference_summary=data.get("reference_summary"),
                    title=data.get("title"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: not an article row ({exc})") from None
    if not rows:
        raise InputError(f"{path} has no rows")
    return rows


def _lines(path: Path) -> Iterator[str]:
    try:
        with path.open(encoding="utf-8") as f:
            yield from (line for line in f if line.strip())
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def lead3(text: str) -> str:
    """The first three sentences of the article's body: the classic extractive baseline."""
    article = read_article(text)
    body = " ".join(b.text for b in article.body if b.kind is Kind.PARAGRAPH)
    return " ".join(s.strip() for s in _SENTENCE.findall(body)[:3])


def rouge(candidate: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures of ``candidate`` against ``reference`` (stemmed, as usual)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    scores = scorer.score(reference, candidate)  # rouge-score takes (target, prediction)
    return {kind: round(scores[kind].fmeasure, 4) for kind in ROUGE_TYPES}


def evaluate_articles(
    rows: list[EvalArticle],
    *,
    settings: Settings,
    client: ChatClient | None = None,
    on_article: Callable[[ArticleScore], None] | None = None,
) -> EvalResult:
    """Run the pipeline on every row and score each report; a failed article is recorded."""
    result = EvalResult()
    for row in rows:
        text = f"{row.title}\n\n{row.text}" if row.title else row.text
        try:
            report = summarize_text(text, settings=settings, client=client, path=row.id)
        except AnalystError as exc:
            score = ArticleScore(row.id, None, None, 0, 0, None, 0, 0, 0, 0, 0.0, str(exc))
        else:
            reference = row.reference_summary
            grounded = sum(1 for f in report.facts if f.grounded)
            score = ArticleScore(
                id=row.id,
                rouge=rouge(report.summary, reference) if reference else None,
                lead3_rouge=rouge(lead3(text), reference) if reference else None,
                facts=len(report.facts),
                facts_extracted=report.facts_extracted,
                grounded_rate=(
                    round(grounded / report.facts_extracted, 4) if report.facts_extracted else None
                ),
                facts_with_absent_terms=sum(1 for f in report.facts if f.absent_terms),
                calls=report.usage.calls,
                cache_hits=report.usage.cache_hits,
                tokens=report.usage.prompt_tokens + report.usage.completion_tokens,
                seconds=report.usage.seconds,
            )
        result.articles.append(score)
        if on_article is not None:
            on_article(score)
    return result
