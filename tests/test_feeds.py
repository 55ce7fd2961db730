"""``analyst batch`` over the web: RSS and Atom feeds and URL lists, from a loopback site.

The feeds are written for these tests in the shapes feedparser's own test suite uses (RSS 2.0
with ``pubDate``, ``author`` and ``guid``; Atom 1.0 with ``id``, ``updated`` and ``link``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyst import Report, Settings
from analyst.batch import summarize_folder
from analyst.batch.items import WebOptions
from analyst.cli import app
from analyst.testing import FakeChatClient, extractive_responder

PAGE = """<!doctype html><html><head><title>{title}</title></head><body><article>
<h1>{title}</h1>
<p>The council of {town} voted on Tuesday to spend {n} million on new buses for the city. The
mayor said the first buses would arrive in the spring and run on the busiest lines.</p>
<p>Critics said the money would be better spent on repairing roads. The plan passed by seven
votes to two after a long debate in the town hall.</p>
</article></body></html>"""


def _rss(items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{{base}}{path}</link><guid>{{base}}{path}</guid>"
        f"<pubDate>{date}</pubDate><author>desk@example.org (City Desk)</author></item>"
        for path, title, date in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>City news</title>'
        f"<link>{{base}}/</link><description>Local</description>{entries}</channel></rss>"
    )


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Region</title><id>urn:region</id>
<updated>2026-03-04T10:00:00Z</updated>
<entry><title>Harbour town buys ferries</title><id>urn:b1</id>
<updated>2026-03-04T10:00:00Z</updated>
<link href="{base}/b1.html"/><author><name>Ana Ruiz</name></author></entry>
<entry><title>Valley town buys trams</title><id>urn:b2</id><updated>2026-02-20T10:00:00Z</updated>
<link href="{base}/b2.html"/><author><name>Ben Cole</name></author></entry>
</feed>"""


@dataclass
class Site:
    """A loopback news site: its feed items can change, and it logs every request."""

    rss_items: list[tuple[str, str, str]] = field(
        default_factory=lambda: [
            ("/a1.html", "Riverton buys buses", "Tue, 03 Mar 2026 09:00:00 GMT"),
            ("/a2.html", "Lakeside buys buses", "Mon, 02 Mar 2026 09:00:00 GMT"),
        ]
    )
    log: list[str] = field(default_factory=list)
    base: str = ""

    def body(self, path: str) -> tuple[str, str] | None:
        if path == "/rss.xml":
            return _rss(self.rss_items).replace("{base}", self.base), "application/rss+xml"
        if path == "/atom.xml":
            return ATOM.replace("{base}", self.base), "application/atom+xml"
        if path == "/robots.txt":
            return "User-agent: *\nDisallow: /private/\n", "text/plain"
        if path.endswith(".html"):
            name = path.strip("/").removesuffix(".html").replace("/", " ")
            page = PAGE.format(title=f"Story {name}", town=name.title(), n=len(name) + 10)
            return page, "text/html; charset=utf-8"
        return None


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state.log.append(self.path)
            found = state.body(self.path)
            if found is None:
                self.send_response(404)
                self.end_headers()
                return
            text, kind = found
            etag = f'"{abs(hash(text))}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


SETTINGS = Settings(model="m", base_url="x", allow_private_urls=True)


def _batch(source: str | Path, out: Path, client: FakeChatClient, **options: Any) -> Any:
    return summarize_folder(
        source, out_dir=out, client=client, settings=SETTINGS, web_options=WebOptions(**options)
    )


def _reports(out: Path) -> list[Report]:
    return [Report.model_validate_json(p.read_text()) for p in sorted(out.rglob("*.json"))]


def test_a_feed_gives_a_report_per_item_and_a_rerun_fetches_nothing(
    site: Site, tmp_path: Path
) -> None:
    client = FakeChatClient(responder=extractive_responder)
    out = tmp_path / "out"
    result = _batch(site.base + "/rss.xml", out, client)
    assert (result.ok, result.failed_count) == (2, 0)
    reports = {r.source.url: r for r in _reports(out)}
    first = reports[site.base + "/a1.html"]
    assert first.metadata.date == "2026-03-03"  # the page has none: the feed's
    assert first.metadata.byline == "desk@example.org (City Desk)"
    assert first.title == "Story a1" and first.facts
    calls, requests = len(client.calls), len(site.log)

    again = _batch(site.base + "/rss.xml", out, client)
    assert (again.ok, again.skipped) == (0, 2)
    assert len(client.calls) == calls  # no model call
    assert site.log[requests:] == ["/rss.xml"]  # the feed, answered 304; no page

    site.rss_items.insert(0, ("/a3.html", "Hilltop buys buses", "Wed, 04 Mar 2026 09:00:00 GMT"))
    third = _batch(site.base + "/rss.xml", out, client)
    assert (third.ok, third.skipped) == (1, 2)
    fetched = [p for p in site.log[requests + 1 :] if p != "/robots.txt"]
    assert fetched == ["/rss.xml", "/a3.html"]  # only the new item


def test_an_atom_feed_file_with_since_and_max_items(site: Site, tmp_path: Path) -> None:
    feed = tmp_path / "region.atom"
    feed.write_text(ATOM.replace("{base}", site.base))
    client = FakeChatClient(responder=extractive_responder)
    result = _batch(feed, tmp_path / "out", client, since="2026-03-01")
    assert result.ok == 1
    (report,) = _reports(tmp_path / "out")
    assert report.source.url == site.base + "/b1.html" and report.metadata.byline == "Ana Ruiz"
    newest = _batch(feed, tmp_path / "out2", client, max_items=1)
    assert newest.ok == 1


def test_a_url_list_and_robots_txt(site: Site, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# morning reading\n{site.base}/a1.html\n\n{site.base}/private/x.html  \n"
        f"{site.base}/a1.html\n"
    )
    client = FakeChatClient(responder=extractive_responder)
    result = _batch(urls, tmp_path / "out", client)
    assert (result.ok, result.failed_count) == (1, 1)  # the duplicate is read once
    assert "robots.txt" in result.failures[0][2]
    assert "/private/x.html" not in site.log
    ignored = _batch(urls, tmp_path / "out", client, robots=False)
    assert ignored.ok == 1 and "/private/x.html" in site.log
    names = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json")
    )
    assert all(n.startswith("127.0.0.1/") for n in names)


def test_a_file_of_feeds(site: Site, tmp_path: Path) -> None:
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"{site.base}/rss.xml\n{site.base}/atom.xml\n{site.base}/missing.xml\n")
    client = FakeChatClient(responder=extractive_responder)
    result = _batch(listing, tmp_path / "out", client, feeds=True)
    assert result.ok == 4
    assert any("missing.xml" in w and "404" in w for w in result.warnings)


def test_the_cli_reads_urls_from_stdin_and_names_a_bad_line(
    site: Site, tmp_path: Path, server: Any
) -> None:
    args = ["batch", "-", "-o", str(tmp_path / "out"), "--base-url", server.base_url, "-m", "m"]
    args.append("--allow-private-urls")
    with ThreadPoolExecutor(1) as pool:  # the loopback site answers while the CLI runs
        result = pool.submit(CliRunner().invoke, app, args, input=f"{site.base}/a2.html\n").result()
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").rglob("*.json"))) == 1
    bad = CliRunner().invoke(app, [*args[:3], str(tmp_path / "o2"), *args[4:]], input="not a url\n")
    assert bad.exit_code == 3 and "stdin:1: not an http(s) URL" in bad.output


def test_a_feed_with_nothing_new_since_a_day_says_so(site: Site, tmp_path: Path) -> None:
    feed = tmp_path / "region.atom"
    feed.write_text(ATOM.replace("{base}", site.base))
    client = FakeChatClient(responder=extractive_responder)
    result = _batch(feed, tmp_path / "out", client, since="2027-01-01")
    assert (result.total, result.ok, client.calls) == (0, 0, [])
    assert result.warnings == [f"{feed} has no items dated 2027-01-01 or later"]


def test_a_digest_of_a_feed_reports_its_items_first_then_only_what_is_new(
    site: Site, tmp_path: Path, server: Any
) -> None:
    reports = tmp_path / "reports"
    args = ["digest", f"{site.base}/rss.xml", "--reports", str(reports), "-o"]
    args += [str(tmp_path / "b.json"), "--base-url", server.base_url, "-m", "m"]
    args.append("--allow-private-urls")
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(CliRunner().invoke, app, args).result()
    assert first.exit_code == 0, first.output
    digest = json.loads((tmp_path / "b.json").read_text())
    assert sorted(a["title"] for a in digest["articles"]) == [
        "Story a1",
        "Story a2",
    ]
    assert digest["summary"] and digest["usage"]["calls"] >= 1
    # The two stories differ only in town and sum: alike, with a different number.
    assert digest["contradictions"] or any(f["articles"] == 2 for f in digest["facts"])
    site.log.clear()
    with ThreadPoolExecutor(1) as pool:
        again = pool.submit(CliRunner().invoke, app, args).result()
    assert again.exit_code == 0, again.output
    assert not [p for p in site.log if p.endswith(".html")]  # nothing new: no page fetched


@pytest.mark.parametrize(
    "date",
    ["0000-00-00T00:00:00Z", "0000-01-01T00:00:00Z", "Mon, 01 Jan 10000 00:00:00 GMT"],
)
def test_a_feed_whose_dates_are_no_dates_is_read_undated(
    site: Site, tmp_path: Path, date: str
) -> None:
    # The zero date many CMS write, year 0, year 10000: a ValueError traceback (exit 1) before.
    site.rss_items[:] = [("/a1.html", "Story a1", date)]
    client = FakeChatClient(responder=extractive_responder)
    result = _batch(site.base + "/rss.xml", tmp_path / "out", client)
    assert (result.ok, result.failed_count) == (1, 0)
    (report,) = _reports(tmp_path / "out")
    assert report.metadata.date is None  # undated, not a made-up day


def test_a_quiet_feed_is_not_an_error_but_a_broken_one_is(tmp_path: Path) -> None:
    from analyst.batch.web import feed_items
    from analyst.errors import InputError

    quiet = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert feed_items(quiet, "quiet.xml") == []  # the run says "has no items", exit 0
    cut = quiet[:-30] + b"<item><link>http://a.example/x</li"
    with pytest.raises(InputError, match="not a well-formed feed"):
        feed_items(cut, "cut.xml")
    # Broken after an item: the items before the break are read.
    partial = (
        b'<rss version="2.0"><channel><title>t</title><item><link>http://a.example/x</link>'
        b"</item><item><link>http://a.exa"
    )
    assert [i.url for i in feed_items(partial, "partial.xml")] == ["http://a.example/x"]


def test_a_long_feed_is_read_to_its_newest_200_items_and_one_tls_context_serves_them() -> None:
    from analyst.batch.web import MAX_ITEMS, choose, feed_items
    from analyst.reading.fetch import _ssl_context

    entries = "".join(
        f"<item><link>http://a.example/{n}</link><pubDate>Mon, 02 Mar 2026 10:{n % 60:02d}:00 GMT"
        "</pubDate></item>"
        for n in range(250)
    )
    feed = f'<rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'.encode()
    items = feed_items(feed, "long.xml")
    assert len(items) == 250 and len(choose(items, since=None, max_items=None)) == MAX_ITEMS == 200
    assert len(choose(items, since=None, max_items=250)) == 250
    assert _ssl_context() is _ssl_context()  # made once: 20–30 ms each, per item before
