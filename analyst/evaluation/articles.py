"""`analyst eval`: how good the reports are, measured on labelled articles.

For each article of a JSONL file (``id``, ``text``, optional ``reference_summary`` and ``title``)
the pipeline writes its report (through the call cache, so a second evaluation is free), and the
report is scored:

- ROUGE-1/2/L F-measure of the summary against the human reference (rouge-score, stemmed), with
  the lead-3 baseline — the article's first three sentences — scored the same way beside it;
- facts kept, and the share of the model's proposed facts whose quote was found (grounded rate);
- facts that mention a number or name the article never does;
- whether the proof proves and the analysis interprets (``evaluation.proof``): facts shown as
  supported that their passage does not carry (unsupported, misattributed), invented numbers and
  names in the synthesis, repeated summary sentences, restating sentences, analysis length;
- with ``--verify``, the facts the verifier judged supported and unsupported;
- calls, tokens (and of the prompt tokens, those the server read from its prompt cache), seconds.
"""

from __future__ import annotations

import functools
import json
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyst.article import Kind
from analyst.errors import AnalystError, ConfigError
from analyst.evaluation.jsonl import load, optional_field, text_field
from analyst.evaluation.proof import ProofFigures, proof_figures
from analyst.model.seam import Client
from analyst.reading.clean import read_article
from analyst.session import Session
from analyst.settings import Settings
from analyst.text.split import sentences

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
if TYPE_CHECKING:
    from analyst.schema import Report

EVAL_HINT = 'analyst eval scores with rouge-score, in the eval extra: pip install "analyst[eval]"'


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
    verified: int | None = None  # with --verify: facts judged supported
    unsupported: int | None = None  # with --verify: facts judged unsupported
    proof: ProofFigures | None = None
    prompt_tokens: int = 0
    cached_prompt_tokens: int | None = None  # None: the server did not say
    exit_code: int = 0  # of the error, when the article failed


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
        if any(a.verified is not None for a in scored):
            out["verified_facts"] = sum(a.verified or 0 for a in scored)
            out["unsupported_facts"] = sum(a.unsupported or 0 for a in scored)
        out.update(_proof_overall([a.proof for a in scored if a.proof is not None]))
        out["calls"] = sum(a.calls for a in self.articles)
        out["tokens"] = sum(a.tokens for a in self.articles)
        out["prompt_tokens"] = sum(a.prompt_tokens for a in self.articles)
        cached = [a.cached_prompt_tokens for a in scored if a.calls]
        out["cached_prompt_tokens"] = (
            sum(c for c in cached if c is not None) if cached and None not in cached else None
        )
        out["seconds"] = round(sum(a.seconds for a in self.articles), 1)
        return out

    def to_json(self) -> str:
        """Per-article scores and the overall means, as JSON."""
        body = {"overall": self.overall(), "articles": [asdict(a) for a in self.articles]}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _proof_overall(figures: list[ProofFigures]) -> dict[str, Any]:
    if not figures:
        return {}
    facts = sum(f.facts for f in figures)
    interpretive = sum(f.interpretive for f in figures)
    roles = sum(f.roles for f in figures)
    events = sum(f.events for f in figures)

    def share(count: int, of: int) -> float | None:
        return round(count / of, 4) if of else None

    return {
        "unsupported_rate": share(sum(f.unsupported for f in figures), facts),
        "misattributed_rate": share(sum(f.misattributed for f in figures), facts),
        "extractive_facts": sum(f.extractive for f in figures),
        "copied_facts": sum(f.copied for f in figures),
        "cited_facts": sum(f.cited for f in figures),
        "invented_terms": sum(f.invented for f in figures),
        "repeated_sentences": sum(f.repeated for f in figures),
        "restated_rate": share(sum(f.restated for f in figures), interpretive),
        "full_analyses": sum(f.full_analysis for f in figures),
        "analysis_words_median": statistics.median(f.analysis_words for f in figures),
        # The notes (computed from the article): how many of each kind, how many computed
        # figures do not follow from their inputs, and what the interpretive sentences rest on.
        "notes_by_kind": dict(
            sorted(
                Counter(k for f in figures for k, n in f.notes_by_kind for _ in range(n)).items()
            )
        ),
        "computed_notes": sum(f.computed for f in figures),
        "recompute_errors": sum(f.recompute_errors for f in figures),
        "sentences_on_notes": sum(f.on_notes for f in figures),
        "sentences_on_facts_only": sum(f.on_facts for f in figures),
        "sentences_on_background": sum(f.on_background for f in figures),
        "sentences_on_nothing": sum(f.on_nothing for f in figures),
        # With --who: what the who's-who and timeline show, and what their passages do not give.
        "entities": sum(f.entities for f in figures),
        "roles": sum(f.roles for f in figures),
        "roles_unsupported_rate": share(sum(f.roles_unsupported for f in figures), roles),
        "events": sum(f.events for f in figures),
        "events_underived_rate": share(sum(f.events_underived for f in figures), events),
        # Of the people and organisations spaCy finds named twice or more (English articles,
        # with the eval extra), the share among the entities.
        "who_recall": share(
            sum(f.named_found for f in figures), sum(f.named_often for f in figures)
        ),
    }


def _rouge_of(score: ArticleScore, *, kind: str, lead: bool) -> float | None:
    values = score.lead3_rouge if lead else score.rouge
    return values[kind] if values else None


def load_articles(path: Path) -> list[EvalArticle]:
    """Read the evaluation JSONL; a bad line is an ``InputError`` naming it."""
    return load(path, _article, "an article row")


def _article(data: dict[str, Any]) -> EvalArticle:
    return EvalArticle(
        id=str(data["id"]),
        text=text_field(data, "text"),
        reference_summary=optional_field(data, "reference_summary"),
        title=optional_field(data, "title"),
    )


def lead3(text: str) -> str:
    """The first three sentences of the article's body: the classic extractive baseline."""
    article = read_article(text)
    body = "\n".join(b.text for b in article.body if b.kind is Kind.PARAGRAPH)
    return " ".join(sentences(body, language=article.language)[:3])


def rouge(candidate: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures of ``candidate`` against ``reference`` (stemmed, as usual)."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise ConfigError(EVAL_HINT) from None

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    scores = scorer.score(reference, candidate)  # rouge-score takes (target, prediction)
    return {kind: round(scores[kind].fmeasure, 4) for kind in ROUGE_TYPES}


def evaluate_articles(
    rows: list[EvalArticle],
    *,
    settings: Settings,
    client: Client | None = None,
    on_article: Callable[[ArticleScore], None] | None = None,
) -> EvalResult:
    """Run the pipeline on every row and score each report; a failed article is recorded (an
    error that would fail every row alike stops the evaluation)."""
    result = EvalResult()
    with Session(settings, client=client) as session:
        for row in rows:
            text = f"{row.title}\n\n{row.text}" if row.title else row.text
            try:
                article = session.read(text, name=row.id)
                report = session.report(article, path=row.id)
            except AnalystError as exc:
                if exc.stops_batch:
                    raise
                score = ArticleScore(row.id, None, None, 0, 0, None, 0, 0, 0, 0, 0.0, str(exc))
                score.exit_code = exc.exit_code
            else:
                score = _score(row, text, report, verify=settings.verify)
                score.proof = proof_figures(report, article.text, who=settings.who)
            result.articles.append(score)
            if on_article is not None:
                on_article(score)
    return result


def _score(row: EvalArticle, text: str, report: Report, *, verify: bool) -> ArticleScore:
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
        prompt_tokens=report.usage.prompt_tokens,
        cached_prompt_tokens=report.usage.cached_prompt_tokens,
    )
    if verify:
        verdicts = [f.verification.verdict for f in report.facts if f.verification]
        score.verified = verdicts.count("supported")
        score.unsupported = verdicts.count("unsupported")
    return score
