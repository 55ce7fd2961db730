"""Articles from the web for ``analyst batch``: a list of URLs, or RSS and Atom feeds.

- A URL list: one http(s) URL a line, ``#`` comments and blank lines skipped — a file, or ``-``
  for stdin. With ``--feeds``, each listed URL (or file) is a feed instead.
- A feed (an RSS or Atom URL or file, read by feedparser): each item's link, with the item's
  title, date and author, newest first; ``--since`` and ``--max-items`` choose among them.

Each article is fetched by the same fetcher as ``summarize URL`` (its size cap, deadline and
address guard), politely: the analyst User-Agent, at most ``PER_HOST`` requests in flight to one
host, and ``robots.txt`` obeyed unless the user says otherwise. A feed is fetched with the
validators of the last run (``ETag``, ``Last-Modified``): unchanged, it answers 304 and its items
are the ones recorded. An item whose feed id and update time were already reported is not
fetched again; a page from a URL list is fetched conditionally.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import hashlib
import re
import urllib.robotparser
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from analyst.errors import InputError
from analyst.reading.fetch import ACCEPTED, FEED_TYPES, Fetched, fetch, is_url
from analyst.schema import Report
from analyst.settings import Settings

PER_HOST = 2  # requests in flight to one host
MAX_URLS = 100_000  # lines of a URL list
_FEED_START = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.IGNORECASE)


@dataclass(frozen=True)
class WebItem:
    """One article to fetch, and what its feed says of it."""

    url: str
    title: str | None = None
    date: str | None = None  # ISO 8601, from the feed
    author: str | None = None
    version: str | None = None  # the feed's id and update time: unchanged items are not fetched
    feed: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def url_lines(text: str, where: str) -> list[str]:
    """The URLs of a list: one a line, ``#`` comments and blank lines skipped; anything else is
    an ``InputError`` naming its line."""
    urls: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line:
            continue
        if not is_url(line) or any(c.isspace() for c in line):
            raise InputError(f"{where}:{number}: not an http(s) URL: {line[:80]!r}")
        urls.append(line)
        if len(urls) > MAX_URLS:
            raise InputError(f"{where} lists more than {MAX_URLS:,} URLs")
    if not urls:
        raise InputError(f"{where} lists no URL")
    return list(dict.fromkeys(urls))


def looks_like_feed(data: bytes) -> bool:
    """Whether bytes begin like an RSS, RDF or Atom document."""
    return bool(_FEED_START.search(data[:2048]))


def feed_items(data: bytes, where: str) -> list[WebItem]:
    """The items of a feed (their links), newest first; an ``InputError`` when it is none."""
    import feedparser  # only feeds need it

    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise InputError(f"{where} is not an RSS or Atom feed")
    if parsed.get("bozo") and not any(is_url(e.get("link") or "") for e in parsed.entries):
        # Cut off or broken before its first item: an error, not a quiet feed ("has no
        # items", exit 0). A feed broken after some items gives those items.
        problem = " ".join(str(parsed.get("bozo_exception") or "not well-formed").split())
        raise InputError(f"{where} is not a well-formed feed ({problem[:120]})")
    items: list[WebItem] = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not is_url(link):
            continue
        # dict.get: feedparser's own get maps a missing "updated" to "published", with a warning.
        stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        date = _day(stamp)
        ident = entry.get("id") or link
        updated = dict.get(entry, "updated") or dict.get(entry, "published") or ""
        items.append(
            WebItem(
                url=link,
                title=(entry.get("title") or "").strip() or None,
                date=date,
                author=(entry.get("author") or "").strip() or None,
                version=hashlib.sha256(f"{ident}\0{updated}".encode()).hexdigest()[:16],
                feed=where,
            )
        )
    items.sort(key=lambda i: i.date or "", reverse=True)
    return list({i.url: i for i in reversed(items)}.values())[::-1]  # one per link, newest kept


def _day(stamp: object) -> str | None:
    """An entry's date as ISO 8601, or None when the feed's is no date: the zero date many CMS
    write ("0000-00-00T00:00:00Z"), year 0 or 10000 (feedparser parses them; a date cannot
    hold them)."""
    if not stamp:
        return None
    try:
        seconds = calendar.timegm(stamp)  # type: ignore[arg-type]
        return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()
    except (ValueError, OverflowError, OSError, TypeError):
        return None


# The newest items of a feed read when --max-items is not given: a feed of 10,000 items is a
# day's work on a model, not a default.
MAX_ITEMS = 200


def choose(items: Sequence[WebItem], *, since: str | None, max_items: int | None) -> list[WebItem]:
    """The items dated ``since`` or later (undated ones are kept), at most ``max_items``
    (``MAX_ITEMS`` when not given), newest first."""
    kept = [i for i in items if since is None or i.date is None or i.date >= since]
    return kept[: max_items if max_items is not None else MAX_ITEMS]


def item_path(url: str) -> PurePath:
    """Where the reports of ``url`` go under ``-o``: its host, then its path made a safe file
    name, then a short hash of the whole URL (two URLs never share a report)."""
    parts = urlsplit(url)
    host = re.sub(r"[^A-Za-z0-9.-]", "_", parts.hostname or "host")[:100] or "host"
    slug = re.sub(
        r"[^A-Za-z0-9._-]+", "-", f"{parts.path}{'-' + parts.query if parts.query else ''}"
    )
    slug = slug.strip("-.")[:80] or "index"
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return PurePath(host) / f"{slug}-{digest}"


def fetch_feed(
    source: str, settings: Settings, *, etag: str | None, modified: str | None
) -> Fetched:
    """A feed by URL, conditionally (``status`` 304 when unchanged)."""
    # Many feeds are served as text/html or text/plain.
    return get(source, settings, accept=FEED_TYPES + ACCEPTED, etag=etag, modified=modified)


def get(
    url: str,
    settings: Settings,
    *,
    accept: tuple[str, ...] = ACCEPTED,
    etag: str | None = None,
    modified: str | None = None,
) -> Fetched:
    """``fetch`` within the settings' deadline, size cap and address guard."""
    return fetch(url, accept=accept, etag=etag, last_modified=modified, **settings.fetch_limits())


class Polite:
    """Per-host limits and robots.txt, for one batch run."""

    def __init__(self, settings: Settings, *, robots: bool) -> None:
        self.settings, self.robots = settings, robots
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._rules: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def host(self, url: str) -> asyncio.Semaphore:
        origin = _origin(url)
        if origin not in self._hosts:
            self._hosts[origin] = asyncio.Semaphore(PER_HOST)
        return self._hosts[origin]

    async def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets analyst fetch ``url`` (yes when it has none)."""
        if not self.robots:
            return True
        origin = _origin(url)
        if origin not in self._rules:
            self._rules[origin] = await asyncio.to_thread(self._read_rules, origin)
        rules = self._rules[origin]
        return rules is None or rules.can_fetch("analyst", url)

    def _read_rules(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        try:
            got = fetch(
                origin + "/robots.txt",
                timeout=min(10.0, self.settings.fetch_timeout),
                max_bytes=512 * 1024,
                allow_private=self.settings.allow_private_urls,
                accept=("text/plain", "text/html", "application/octet-stream"),
            )
        except InputError:
            return None  # no robots.txt (404), or none readable: nothing forbidden
        rules = urllib.robotparser.RobotFileParser()
        rules.parse(got.data.decode("utf-8", "replace").splitlines())
        return rules


def with_feed(report: Report, page: WebItem | None) -> Report:
    """``report`` with what its feed item says where the page itself did not: the title, the
    date and the author."""
    if page is None:
        return report
    meta = report.metadata
    update = {
        "date": meta.date or page.date,
        "byline": meta.byline or page.author,
    }
    return report.model_copy(
        update={"title": report.title or page.title, "metadata": meta.model_copy(update=update)}
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
