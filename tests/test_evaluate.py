"""`analyst eval`: the arithmetic on small inputs, and the command through the loopback server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyst.cli import app
from analyst.errors import InputError
from analyst.evaluation.articles import ArticleScore, EvalResult, lead3, load_articles, rouge
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer


def test_rouge_is_one_for_the_same_text_and_zero_for_disjoint_text() -> None:
    same = rouge("The council approved the bridge.", "The council approved the bridge.")
    assert same == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert rouge("Bananas are yellow.", "The council approved the bridge.")["rouge1"] == 0.0
    # 4 of 6 unigrams shared both ways: P = R = F = 2/3; bigrams 2 of 5.
    half = rouge("the cat sat on the mat", "a cat sat on a mat")
    assert half["rouge1"] == pytest.approx(0.6667, abs=1e-4)
    assert half["rouge2"] == pytest.approx(0.4, abs=1e-4)


def test_lead3_is_the_first_three_body_sentences() -> None:
    text = "A Title\n\nOne is here. Two follows! Three ends? Four is out.\n\nFive too."
    assert lead3(text) == "One is here. Two follows! Three ends?"


def test_means_skip_missing_values_and_failures() -> None:
    def score(i: int, r1: float | None, grounded: float | None, error: str | None = None) -> Any:
        values = {"rouge1": r1, "rouge2": 0.0, "rougeL": 0.0} if r1 is not None else None
        return ArticleScore(str(i), values, values, 3, 4, grounded, 1, 2, 0, 100, 1.0, error)

    result = EvalResult([score(1, 0.5, 0.75), score(2, 0.25, 1.0), score(3, None, None, "boom")])
    overall = result.overall()
    assert overall["rouge1"] == 0.375 and overall["grounded_rate"] == 0.875
    assert overall["articles"] == 3 and overall["failed"] == 1
    assert overall["facts_with_absent_terms"] == 2 and overall["calls"] == 6


def test_bad_rows_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "text": "ok"}\n{"text": "no id"}\n', "utf-8")
    with pytest.raises(InputError, match="bad.jsonl:2"):
        load_articles(path)


def test_eval_command_scores_reports_against_references(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    rows = []
    for name in ("harbor-bridge", "grid-battery"):
        text = (EXAMPLES / f"{name}.txt").read_text("utf-8")
        reference = lead3(text)  # a reference the extractive stand-in can approach
        rows.append({"id": name, "text": text, "reference_summary": reference})
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    args = ["eval", str(path), "--base-url", server.base_url, "--model", "m"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [a["id"] for a in body["articles"]] == ["harbor-bridge", "grid-battery"]
    for article in body["articles"]:
        assert article["lead3_rouge"]["rouge1"] == 1.0  # lead-3 is the reference here
        assert 0 < article["rouge"]["rouge1"] <= 1 and article["grounded_rate"] == 1.0
        assert article["calls"] == 3
        proof = article["proof"]
        # The stand-in quotes sentences as facts and writes an analysis that restates nothing.
        assert proof["facts"] == article["facts"] > 0 and proof["unsupported"] == 0
        assert proof["full_analysis"] and proof["analysis_words"] >= 50
        assert proof["interpretive"] >= 7 and proof["restated"] == 0
    overall = body["overall"]
    assert overall["unsupported_rate"] == overall["misattributed_rate"] == 0.0
    assert overall["restated_rate"] == 0.0 and overall["full_analyses"] == 2
    assert overall["invented_terms"] == 0 and overall["repeated_sentences"] == 0
    assert overall["cached_prompt_tokens"] is None  # this server does not report its cache
    assert body["overall"]["articles"] == 2 and body["overall"]["failed"] == 0
    table = CliRunner().invoke(app, args, env={"COLUMNS": "200"})  # the table, from the cache
    assert table.exit_code == 0 and "mean of 2" in table.stdout
    assert len(server.chat_requests) == 6


def test_eval_with_verify_counts_verified_and_unsupported_facts(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    text = (EXAMPLES / "harbor-bridge.txt").read_text("utf-8")
    path = tmp_path / "articles.jsonl"
    path.write_text(json.dumps({"id": "bridge", "text": text}) + "\n", "utf-8")
    args = ["eval", str(path), "--base-url", server.base_url, "--model", "m", "--verify"]
    result = CliRunner().invoke(app, [*args, "--format", "json", "--no-cache"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    (article,) = body["articles"]
    # The stand-in quotes sentences as facts: every one is verified, none unsupported.
    assert article["calls"] == 4 and article["verified"] == article["facts"] > 0
    assert body["overall"]["verified_facts"] == article["facts"]
    assert body["overall"]["unsupported_facts"] == 0
    table = CliRunner().invoke(app, args, env={"COLUMNS": "220"})
    assert table.exit_code == 0 and "verified" in table.stdout and "unsupported" in table.stdout
