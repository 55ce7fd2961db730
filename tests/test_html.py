"""The HTML report: each fact's passage highlighted in the article, in a real browser."""

from __future__ import annotations

import html
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from typer.testing import CliRunner

from analyst import Report, Settings, summarize_folder, summarize_text
from analyst.cli import app
from analyst.output.html import Span, pieces, to_html
from analyst.testing import FakeChatClient, extractive_responder
from tests.fakeserver import FakeOpenAIServer

ARTICLE = "\n\n".join(
    [
        "Harbor Bridge Vote <script>alert('title')</script>",
        "Nov 12, 2026 · 5 min read",
        "The city council voted 7-2 on Tuesday to replace the Harbor Bridge with a cable-stayed "
        "span costing $412 million. Construction starts next spring and the old bridge stays open "
        "until 2030. The vote ends ten years of studies.",
        "Council member Dana Okafor said <script>window.pwned = 1</script> the decision closes a "
        "long argument. A note read </mark><b>bold</b> and {{ 7 * 7 }} and "
        '<a href="javascript:window.pwned=2">a link</a> in the minutes. Two members voted '
        "against the plan and argued for a repair.",
        "The state will cover $250 million through its infrastructure fund. A federal grant of "
        "$95 million was awarded in August. The remaining $67 million will come from a municipal "
        "bond that voters approved in 2024.",
    ]
)


def _report(**settings: Any) -> Report:
    configured = Settings(model="m", base_url="x", include_text=True, **settings)
    client = FakeChatClient(responder=extractive_responder)
    return summarize_text(ARTICLE, client=client, settings=configured)


def _overlapping(report: Report) -> Report:
    """``report`` with two more facts: one nested inside f1's passage, one that overlaps the end
    of one passage and the start of the next."""
    text = report.source.text or ""
    first, second = report.facts[0], report.facts[1]
    assert first.start is not None and first.end is not None and second.start is not None
    inner = text.index("voted 7-2", first.start)
    nested = (inner, inner + len("voted 7-2 on Tuesday"))
    across = (first.end - 12, second.start + 12)
    extra = [
        first.model_copy(
            update={"id": f"f{len(report.facts) + n}", "start": a, "end": b, "evidence": text[a:b]}
        )
        for n, (a, b) in enumerate([nested, across], start=1)
    ]
    return report.model_copy(update={"facts": [*report.facts, *extra]})


def test_pieces_cover_overlapping_and_nested_passages_exactly() -> None:
    text = "abcdefghij"
    spans = [Span("f1", 0, 6, True), Span("f2", 2, 4, True), Span("f3", 5, 9, True)]
    cut = pieces(text, spans, {})
    assert "".join(p.text for p in cut) == text
    for span in spans:
        covered = "".join(p.text for p in cut if span.id in p.facts)
        assert covered == text[span.start : span.end]
    assert [p.labels for p in cut if p.labels] == [["f1"], ["f2"], ["f3"]]


def test_article_text_is_escaped_everywhere() -> None:
    page_html = to_html(_report())
    assert "<script>alert" not in page_html and "<script>window.pwned" not in page_html
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page_html
    assert '<a href="javascript:' not in page_html
    assert "{{ 7 * 7 }}" in page_html and ">49<" not in page_html
    assert page_html.count("<script>") == 1  # the page's own
    assert "default-src &#39;none&#39;" in page_html  # the policy, escaped in its attribute


def test_without_the_article_text_the_page_shows_the_quotes() -> None:
    report = _report().model_copy(
        update={"source": _report().source.model_copy(update={"text": None})}
    )
    facts = report.facts
    # A fact whose text is its quote (the responder copies quotes) reads once; one reworded
    # shows its quote below it.
    reworded = facts[0].model_copy(update={"text": "The council replaced the bridge."})
    report = report.model_copy(update={"facts": [reworded, *facts[1:]]})
    page_html = to_html(report)
    assert 'id="article"' not in page_html
    assert page_html.count("<blockquote>") == 1 + sum(f.text != f.evidence for f in facts[1:])
    assert f"<blockquote>{html.escape(reworded.evidence)}</blockquote>" in page_html


def _open(page: Any, tmp_path: Path, report: Report) -> None:
    path = tmp_path / "report.html"
    path.write_text(to_html(report), encoding="utf-8")
    page.goto(path.as_uri())


_PASSAGE_JS = """id => {
  const marks = [...document.querySelectorAll(`mark[data-facts~="${id}"]`)];
  if (!marks.length) return null;
  const range = document.createRange();
  range.setStartBefore(marks[0]);
  range.setEndAfter(marks[marks.length - 1]);
  return {joined: marks.map(m => m.textContent).join(''), span: range.toString()};
}"""


def test_every_grounded_fact_has_one_passage_equal_to_its_evidence(
    page: Any,
    tmp_path: Path,
) -> None:
    report = _overlapping(_report())
    _open(page, tmp_path, report)
    grounded = [f for f in report.facts if f.grounded]
    assert len(grounded) >= 4  # two of the model's, a nested one and an overlapping one
    for fact in grounded:
        found = page.evaluate(_PASSAGE_JS, fact.id)
        assert found is not None, fact.id
        # The marks of a fact are one unbroken stretch of the article, and it is its evidence.
        assert found["joined"] == fact.evidence == found["span"], fact.id
    assert not page.errors


def test_clicking_a_fact_shows_its_passage_and_a_passage_its_fact(
    page: Any,
    tmp_path: Path,
) -> None:
    report = _report()
    _open(page, tmp_path, report)
    last = [f for f in report.facts if f.grounded][-1]
    page.evaluate("window.scrollTo(0, 0)")
    page.click(f"#fact-{last.id}")
    mark = page.locator(f'mark[data-facts~="{last.id}"]').first
    assert "active" in (mark.get_attribute("class") or "")
    page.wait_for_function(
        """id => { const r = document.querySelector(`mark[data-facts~="${id}"]`)
               .getBoundingClientRect();
               return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        arg=last.id,
    )
    first = report.facts[0]
    page.locator(f'mark[data-facts~="{first.id}"]').first.click()
    assert "active" in (page.locator(f"#fact-{first.id}").get_attribute("class") or "")
    page.locator(f'mark[data-facts~="{last.id}"]').first.hover()  # a passage lights its fact
    assert "hover" in (page.locator(f"#fact-{last.id}").get_attribute("class") or "")
    assert not page.errors


def test_it_prints_as_the_article_then_the_facts(page: Any, tmp_path: Path) -> None:
    _open(page, tmp_path, _report())
    page.emulate_media(media="print")
    panel = page.evaluate(
        "() => { const s = getComputedStyle(document.getElementById('panel'));"
        " return [s.position, s.overflow]; }"
    )
    assert panel == ["static", "visible"]  # nothing cut off at the page's height
    assert len(page.pdf()) > 10_000


def test_a_citation_leads_to_the_facts_it_rests_on(page: Any, tmp_path: Path) -> None:
    report = _report()
    cited = next(i for i in report.implications if i.facts)
    _open(page, tmp_path, report)
    page.locator(f'a.cite[data-cite="{cited.facts[0]}"]').first.click()
    assert "active" in (page.locator(f"#fact-{cited.facts[0]}").get_attribute("class") or "")
    assert "active" in (
        page.locator(f'mark[data-facts~="{cited.facts[0]}"]').first.get_attribute("class") or ""
    )


def test_a_hostile_article_runs_no_script(page: Any, tmp_path: Path) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    report = _report()
    _open(page, tmp_path, report)
    text = page.locator("#article").inner_text()
    assert "<script>window.pwned = 1</script>" in text and "{{ 7 * 7 }}" in text
    assert "</mark><b>bold</b>" in text
    assert page.locator("#article a").count() == 0 and page.locator("#article b").count() == 0
    for link in page.locator("#article mark").all()[:3]:
        link.click()
    assert page.evaluate("window.pwned") is None and not dialogs
    assert "<script>alert('title')</script>" in page.locator("h1").inner_text()


def test_the_cli_writes_html_for_an_html_file(server: FakeOpenAIServer, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    out = tmp_path / "report.html"
    args = ["summarize", str(article), "-o", str(out), "--base-url", server.base_url, "-m", "m"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    page_html = out.read_text()
    assert page_html.startswith("<!doctype html>") and 'id="article"' in page_html
    assert "&lt;script&gt;window.pwned" in page_html


def test_a_batch_in_html_writes_an_index_that_sorts(page: Any, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "bridge.txt").write_text(ARTICLE)
    (folder / "sub" / "javascript:x #1.txt").write_text(ARTICLE.replace("7-2", "6-3"))
    (folder / "empty.txt").write_text("   ")
    out = tmp_path / "out"
    client = FakeChatClient(responder=extractive_responder)
    settings = Settings(model="m", base_url="x")
    # In a thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(
            summarize_folder,
            folder,
            out_dir=out,
            client=client,
            settings=settings,
            formats=["json", "html"],
        ).result()
    assert result.ok == 2 and result.failed_count == 1
    index = out / "index.html"
    page.goto(index.as_uri())
    rows = page.locator("#index tbody tr")
    assert rows.count() == 3
    assert "failed" in page.locator("#index tbody tr.failed").inner_text()
    links = [a.get_attribute("href") for a in page.locator("#index a").all()]
    assert all(link.startswith("./") for link in links)
    for link in links:
        assert (out / unquote(link)).is_file(), link
    page.locator("th", has_text="article").click()
    first = rows.first.inner_text()
    page.locator("th", has_text="article").click()
    assert rows.first.inner_text() != first
    hostile = next(link for link in links if "javascript" in link)
    page.locator(f'a[href="{hostile}"]').click()  # a file name that looks like a scheme
    assert page.url.endswith("javascript%3Ax%20%231.txt.html")
    assert page.locator("#article mark").count() > 0
    data = json.loads((out / "bridge.txt.json").read_text())
    assert data["source"]["text"]  # html asks for the text the page shows
    assert not page.errors


def test_a_computed_note_shows_its_formula_and_leads_to_both_input_sentences(
    page: Any,
    tmp_path: Path,
) -> None:
    report = _report()
    note = next(n for n in report.notes if n.kind == "sum")
    assert [i.text for i in note.inputs] == [
        "$250 million",
        "$95 million",
        "$67 million",
        "$412 million",
    ]
    _open(page, tmp_path, report)
    item = page.locator(f"#note-{note.id}")
    assert note.formula and note.formula in item.inner_text()
    for n, given in enumerate(note.inputs, start=1):
        link = item.locator(f'a[data-who-link="{note.id}-i{n}"]')
        assert link.inner_text() == given.text
        page.evaluate("window.scrollTo(0, 0)")
        link.click()
        # The input's own words in the article, scrolled into view.
        span = page.locator(f'[data-who~="{note.id}-i{n}"]').first
        page.wait_for_function(
            """id => { const r = document.querySelector(`[data-who~="${id}"]`)
                   .getBoundingClientRect();
                   return r.top >= 0 && r.bottom <= window.innerHeight; }""",
            arg=f"{note.id}-i{n}",
        )
        assert given.text in span.inner_text()
    assert not page.errors
