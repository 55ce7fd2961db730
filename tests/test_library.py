"""The library that keeps reports: search and filters over SQLite FTS5, a folder of report files
indexed and kept up to date, nothing lost when the process is killed while it writes, and
``analyst serve`` finding its reports after a restart."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from analyst.errors import ConfigError
from analyst.library import FILE, Library, Query, scan
from analyst.library.files import file_id
from analyst.schema import Report
from analyst.settings import Settings
from tests.conftest import EXAMPLES, ROOT
from tests.fakeserver import FakeOpenAIServer

REPORTS = sorted((EXAMPLES / "digest" / "reports").glob("*.json"))


def example(n: int = 0) -> Report:
    return Report.model_validate_json(REPORTS[n].read_bytes())


def variant(n: int, *, title: str, site: str | None, date: str | None, lang: str) -> Report:
    report = example(n % len(REPORTS))
    meta = report.metadata.model_copy(update={"site": site, "date": date, "language": lang})
    return report.model_copy(update={"title": title, "metadata": meta})


@pytest.fixture
def shelf(tmp_path: Path) -> Iterator[Library]:
    with Library(tmp_path / "library") as library:
        yield library


def test_search_finds_words_in_titles_facts_and_notes_and_filters_narrow_it(
    shelf: Library,
) -> None:
    shelf.add(
        "a",
        variant(
            0,
            title="Tolls rise on the Harbor Bridge",
            site="Ledger",
            date="2026-11-12T09:00:00",
            lang="en",
        ),
    )
    shelf.add(
        "b",
        variant(
            1, title="Pont du port : le conseil vote", site="Courrier", date="2026-10-01", lang="fr"
        ),
    )
    shelf.add("c", variant(2, title="No date here", site="Ledger", date=None, lang="en"))

    everything = shelf.search(Query.of())
    assert everything.total == 3
    assert [e.id for e in everything.entries] == ["a", "b", "c"]  # newest first, undated last
    assert everything.entries[0].date == "2026-11-12"

    titled = shelf.search(Query.of("tolls"))
    assert [e.id for e in titled.entries] == ["a"]
    snippet = titled.entries[0]
    assert snippet.snippet and snippet.highlights
    start, end = snippet.highlights[0]
    assert snippet.snippet[start:end].lower() == "tolls"

    fact = example(1).facts[0].text.split()[-1].strip(".")  # a word of a fact only
    assert "b" in [e.id for e in shelf.search(Query.of(fact)).entries]
    note = next(n.text for n in example(0).notes)
    word = max((w.strip(".,;:()") for w in note.split()), key=len)
    assert "a" in [e.id for e in shelf.search(Query.of(word)).entries]

    assert shelf.search(Query.of("harb")).total >= 1  # the last word may be a word's start
    assert shelf.search(Query.of("tolls nothingatall")).total == 0  # every word must match
    assert shelf.search(Query.of("pont")).entries[0].id == "b"  # accents and case fold

    assert {e.id for e in shelf.search(Query.of(site="Ledger")).entries} == {"a", "c"}
    assert [e.id for e in shelf.search(Query.of(language="fr")).entries] == ["b"]
    assert [e.id for e in shelf.search(Query.of(since="2026-11-01")).entries] == ["a"]
    assert [e.id for e in shelf.search(Query.of(until="2026-10-31")).entries] == ["b"]
    page = shelf.search(Query.of(limit=2, offset=2))
    assert page.total == 3 and [e.id for e in page.entries] == ["c"]
    assert shelf.facets() == {
        "sites": [("Ledger", 2), ("Courrier", 1)],
        "languages": [("en", 2), ("fr", 1)],
    }


@pytest.mark.parametrize(
    "words",
    [
        '"unbalanced',
        "NEAR(a b",
        "tolls -bridge",
        "title:tolls",
        "*",
        "a OR",
        "^x",
        "'; DROP",
        "\x00",
        "x" * 5000,
        " ".join(["w"] * 500),
    ],
)
def test_fts5_syntax_typed_into_the_box_is_words_not_an_error(shelf: Library, words: str) -> None:
    shelf.add("a", example())
    shelf.search(Query.of(words))  # no sqlite3.OperationalError


def test_a_kept_report_can_be_let_go_and_a_file_of_the_folder_cannot(tmp_path: Path) -> None:
    shutil.copy(REPORTS[0], tmp_path / "a.txt.json")
    with Library(tmp_path) as library:
        scan(library)
        library.add("kept", example(1).model_copy(update={"title": "Kept then removed"}))
        assert library.search(Query.of("removed")).total == 1
        assert library.remove("kept") is True
        assert library.get("kept") is None and library.search(Query.of("removed")).total == 0
        assert library.remove("kept") is False
        with pytest.raises(ConfigError, match="a.txt.json is a file of the library's folder"):
            library.remove(file_id("a.txt.json"))
        assert len(library) == 1


def test_bad_filters_are_refused_with_what_to_write() -> None:
    for kwargs, says in [
        ({"since": "yesterday"}, "since must be a date"),
        ({"until": "2026-02-30"}, "until must be a date"),
        ({"limit": "0"}, "limit must be"),
        ({"offset": "-1"}, "offset"),
        ({"offset": str(2**70)}, "offset"),
        ({"limit": "ten"}, "whole numbers"),
    ]:
        with pytest.raises(ConfigError, match=says):
            Query.of(**kwargs)


def test_a_folder_of_report_files_is_indexed_and_a_rescan_follows_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    shutil.copy(REPORTS[0], out / "a.txt.json")
    shutil.copy(REPORTS[1], out / "sub" / "b.txt.json")
    (out / "package.json").write_text('{"name": "not a report"}')
    (out / ".hidden.json").write_text("{}")  # a temporary file of write_atomic's
    (out / "a.txt.md").write_text("# the Markdown beside it")
    with Library(out) as library:
        first = scan(library)
        assert (first.added, first.reports) == (2, 2)
        assert first.skipped == ["package.json: not an analyst report (title: Field required)"]
        ids = {e.file: e.id for e in library.search(Query.of()).entries}
        assert set(ids) == {"a.txt.json", "sub/b.txt.json"}
        again = scan(library)
        assert (again.added, again.updated, again.removed, again.skipped) == (0, 0, 0, [])

        shutil.copy(REPORTS[2], out / "c.txt.json")
        changed = example(1).model_copy(update={"title": "A new title"})
        (out / "sub" / "b.txt.json").write_text(changed.model_dump_json())
        (out / "a.txt.json").unlink()
        later = scan(library)
        assert (later.added, later.updated, later.removed) == (1, 1, 1)
        assert library.search(Query.of("new title")).entries[0].id == ids["sub/b.txt.json"]
        assert library.get(ids["a.txt.json"]) is None

        # A file changed after the scan is read as it is now, and indexed again.
        newer = example(1).model_copy(update={"title": "Newer still"})
        (out / "sub" / "b.txt.json").write_text(newer.model_dump_json())
        got = library.get(ids["sub/b.txt.json"])
        assert got is not None and got.title == "Newer still"
        assert library.search(Query.of("newer")).total == 1
        (out / "sub" / "b.txt.json").write_text("{broken")
        assert library.get(ids["sub/b.txt.json"]) is None
        assert library.entry(ids["sub/b.txt.json"]) is None
    # Ids are the files': a library made again from the folder gives the same.
    (out / FILE).unlink()
    with Library(out) as remade:
        scan(remade)
        assert remade.search(Query.of("riverton")).total >= 1
        assert {e.file: e.id for e in remade.search(Query.of()).entries}["c.txt.json"] == (
            file_id("c.txt.json")
        )


def test_a_library_file_that_is_not_one_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="move the file away"):
        Library(tmp_path)
    newer = tmp_path / "newer"
    newer.mkdir()
    with sqlite3.connect(newer / FILE) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(ConfigError, match="newer analyst"):
        Library(newer)


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from analyst.library import Library
    from analyst.schema import Report

    report = Report.model_validate_json(Path(sys.argv[2]).read_bytes())
    library = Library(Path(sys.argv[1]))
    n = int(sys.argv[3])
    while True:
        library.add(f"r{n}", report.model_copy(update={"title": f"report {n}"}))
        print(n, flush=True)  # acknowledged: add has returned
        n += 1
    """
)


def test_kill_9_while_writing_loses_no_report_and_leaves_none_half_written(
    tmp_path: Path,
) -> None:
    """A writer adds reports as fast as it can and is killed (SIGKILL) at random moments, five
    times; every report it was told was kept is there, whole, and the index agrees."""
    folder = tmp_path / "library"
    acknowledged: list[int] = []
    rng = random.Random(7)
    for _ in range(5):
        start = acknowledged[-1] + 1 if acknowledged else 0
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(REPORTS[0]), str(start)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert writer.stdout is not None
        first = writer.stdout.readline()  # it is writing
        assert first.strip() == str(start)
        time.sleep(rng.uniform(0.05, 0.4))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        acknowledged += [int(line) for line in [first, *writer.stdout.read().split()] if line]
        writer.stdout.close()
    assert len(acknowledged) > 20  # it was killed while busy, not before it began

    with sqlite3.connect(folder / FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.execute("INSERT INTO search (search) VALUES ('integrity-check')")  # raises if torn
    with Library(folder) as library:
        kept = library.search(Query.of(limit=500))
        # Beyond those acknowledged, at most one per kill: committed, then killed before it
        # was told; whole too.
        assert len(acknowledged) <= kept.total <= len(acknowledged) + 5
        assert all(library.get(entry.id) is not None for entry in kept.entries)
        for n in acknowledged:
            report = library.get(f"r{n}")
            assert report is not None and report.title == f"report {n}", n
        assert library.search(Query.of(f"report {acknowledged[-1]}")).total >= 1


# ---- analyst serve -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(folder: Path, model: FakeOpenAIServer, cache: Path) -> tuple[Any, str]:
    port = _free_port()
    log = cache.parent / f"serve-{port}.log"
    with log.open("w") as stderr:  # the child has its own copy of the file
        process = _start(folder, model, cache, port, stderr)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx2.get(f"{url}/healthz", timeout=2, trust_env=False)
            return process, url
        except httpx2.TransportError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "analyst serve did not start"
            time.sleep(0.1)


def _start(folder: Path, model: FakeOpenAIServer, cache: Path, port: int, stderr: Any) -> Any:
    env = {**os.environ, "ANALYST_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analyst",
            "serve",
            "--port",
            str(port),
            "--library",
            str(folder),
            "--base-url",
            model.base_url,
            "--model",
            "fake-model",
            "--api-key",
            "sk-test",
        ],
        stderr=stderr,
        cwd=ROOT,
        env=env,
    )


def test_serve_killed_with_sigkill_keeps_every_report_it_answered(
    server: FakeOpenAIServer, tmp_path: Path, bridge: str
) -> None:
    folder, cache = tmp_path / "library", tmp_path / "cache"
    cache.mkdir()
    process, url = _serve(folder, server, cache)
    made = []
    try:
        with httpx2.Client(base_url=url, timeout=60, trust_env=False) as http:
            for n in range(2):
                answer = http.post("/v1/reports", json={"text": bridge, "name": f"bridge-{n}.txt"})
                assert answer.status_code == 200
                made.append((answer.headers["X-Report-Id"], answer.json()))
            http.post("/v1/reports?wait=false", json={"text": bridge + "\n\nMore.", "name": "c"})
    finally:
        process.send_signal(signal.SIGKILL)  # while the third is under way
        process.wait()
    process, url = _serve(folder, server, cache)
    try:
        with httpx2.Client(base_url=url, timeout=60, trust_env=False) as http:
            for id, report in made:
                kept = http.get(f"/v1/reports/{id}")
                assert kept.status_code == 200 and kept.json() == report
                assert http.get(f"/v1/library/{id}").json() == report
                page = http.get(f"/reports/{id}")
                assert page.status_code == 200 and "Harbor Bridge" in page.text
            listed = http.get("/v1/library", params={"q": "harbor bridge"}).json()
            assert {id for id, _ in made} <= {e["id"] for e in listed["reports"]}
            assert all(e["links"]["html"] == f"/reports/{e['id']}" for e in listed["reports"])
    finally:
        process.terminate()
        process.wait(10)
    with sqlite3.connect(folder / FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_library_api_lists_searches_and_digests(
    tmp_path: Path, settings: Settings, bridge: str
) -> None:
    from tests.test_serve import Served

    out = tmp_path / "out"
    out.mkdir()
    for report in REPORTS:
        shutil.copy(report, out)
    library = Library(out)
    scan(library)
    with Served(settings, library=library) as served, served.client() as http:
        listed = http.get("/v1/library").json()
        assert listed["total"] == 3 and listed["facets"]["languages"] == [
            {"name": "en", "count": 3}
        ]
        ids = [e["id"] for e in listed["reports"]]
        quick = http.post("/v1/library/digest", json={"ids": ids, "prose": False})
        assert quick.status_code == 200
        digest = quick.json()
        assert len(digest["articles"]) == 3 and digest["facts"]
        assert {a["report"] for a in digest["articles"]} == {f"/v1/library/{i}" for i in ids}
        written = http.post("/v1/library/digest", json={"ids": ids[:2]})
        assert written.status_code == 200 and written.json()["summary"]
        form = http.post("/library/digest", data={"ids": ids[:2], "prose": "false"})
        assert form.status_code == 200 and form.text.startswith("<!doctype html>")
        none = http.post("/library/digest", data={"prose": "false"})  # the page without script
        assert none.status_code == 422 and "choose at least one report" in none.text
        assert 'href="/library"' in none.text
        assert http.post("/v1/library/digest", json={"ids": ["nope"]}).status_code == 404
        assert http.post("/v1/library/digest", json={"ids": []}).status_code == 422
        assert http.get("/v1/library", params={"since": "soon"}).json() == {
            "error": "since must be a date as YYYY-MM-DD"
        }
        shutil.copy(EXAMPLES / "grid-battery.report.json", out)
        assert http.post("/v1/library/rescan").json()["added"] == 1
        assert http.get("/v1/library", params={"q": "battery"}).json()["total"] == 1
        page = http.get("/library", params={"q": "bridge"})
        assert page.status_code == 200 and "<mark>Bridge</mark>" in page.text

        made = http.post("/v1/reports", json={"text": bridge, "name": "bridge.txt"})
        id = made.headers["X-Report-Id"]
        assert http.get(f"/v1/library/{id}").status_code == 200
        assert http.delete(f"/v1/library/{id}").status_code == 204
        for gone in (f"/v1/library/{id}", f"/v1/reports/{id}", f"/reports/{id}"):
            assert http.get(gone).status_code == 404, gone
        assert http.delete(f"/v1/library/{id}").status_code == 404
        refused = http.delete(f"/v1/library/{ids[0]}")
        assert refused.status_code == 409 and "delete the file" in refused.json()["error"]
    library.close()


def test_the_page_searches_and_makes_a_digest_in_one_click(
    tmp_path: Path, settings: Settings, page: Any
) -> None:
    from tests.test_serve import Served

    out = tmp_path / "out"
    out.mkdir()
    hostile = example(0).model_copy(update={"title": "<img src=x onerror=alert(1)> Bridge"})
    (out / "hostile.json").write_text(hostile.model_dump_json())
    for report in REPORTS[1:]:
        shutil.copy(report, out)
    library = Library(out)
    scan(library)
    with Served(settings, library=library) as served:
        page.goto(f"{served.url}/library")
        assert page.locator("#reports tbody tr").count() == 3
        assert page.locator("img").count() == 0  # the title is text
        page.fill("#q", "bridge")
        page.click("#search button[type=submit]")
        page.wait_for_url("**/library?q=bridge*")
        assert page.locator("#reports tbody mark").count() >= 1
        assert page.locator("#make").is_disabled()
        page.check("#all")
        assert page.locator("#make").inner_text() == "Digest of the 3 chosen reports"
        page.uncheck("input[name=prose]")
        page.click("#make")
        page.wait_for_selector("h1")
        assert "digest" in page.title().lower()
        assert page.locator("li.fact").count() >= 1

        library.add("kept", example(1).model_copy(update={"title": "Kept here only"}))
        page.goto(f"{served.url}/library")
        assert page.locator("#reports tbody tr").count() == 4
        page.once("dialog", lambda dialog: dialog.accept())
        page.check("input[value=kept]")
        page.check("input[name=ids]:not([value=kept]) >> nth=0")  # a file of the folder: stays
        page.click("#remove")
        page.wait_for_url(f"{served.url}/library")
        assert page.locator("#reports tbody tr").count() == 3
        assert library.get("kept") is None
        assert page.errors == []
    library.close()
    assert json.loads((out / "hostile.json").read_text())["title"].startswith("<img")
