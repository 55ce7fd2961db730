"""What a batch reads: the articles below a folder, the URLs of a list, or the items of feeds.

``list_items`` turns the batch's input — a folder, a URL list file, ``-`` (a URL list on stdin),
a feed URL or file, or with ``feeds`` a file listing feeds — into ``Item``s, each with the name the
manifest keys it by (its path in the folder, or its URL) and the place its reports go under
``-o`` (the same path, or one made from the URL: ``web.item_path``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from analyst.batch import web
from analyst.batch.folders import ARTICLE_SUFFIXES, find_articles
from analyst.batch.manifest import Manifest
from analyst.errors import ConfigError, InputError
from analyst.files import display, read_bytes, read_capped
from analyst.reading.fetch import is_url
from analyst.settings import Settings

LIST_BYTES = 64 * 2**20  # a URL list or a feed file


@dataclass(frozen=True)
class Item:
    """One article of a batch."""

    name: str  # the manifest's key and what progress shows: its path, or its URL
    out: PurePath  # where its reports go, relative to -o
    path: Path | None = None  # a file
    page: web.WebItem | None = None  # or a web page


@dataclass
class Listing:
    items: list[Item]
    skipped: list[str] = field(default_factory=list)
    folder: Path | None = None  # the input folder, when it is one


@dataclass(frozen=True)
class WebOptions:
    """How a batch reads the web: feeds, and which of their items."""

    feeds: bool = False  # the input file lists feeds, not articles
    since: str | None = None  # ISO date: feed items dated before it are left out
    max_items: int | None = None  # per feed, newest first
    robots: bool = True  # obey robots.txt


def list_items(
    source: str | Path,
    *,
    out: Path,
    pattern: str | None,
    settings: Settings,
    options: WebOptions,
    manifest: Manifest,
) -> Listing:
    """The articles ``source`` names (see the module); an ``InputError`` when there are none."""
    text = str(source)
    if text == "-":
        raw = read_capped(sys.stdin.buffer, LIST_BYTES, what="stdin")
        return _urls(_decode(raw, "stdin"), "stdin", settings, options, manifest)
    if is_url(text):
        return _feed_listing(_feed(text, settings, options, manifest), text, options)
    path = Path(source)
    if path.is_dir():
        found = find_articles(path, pattern=pattern, exclude=out)
        if not found.paths:
            what = f"matching {pattern!r}" if pattern else f"({' '.join(ARTICLE_SUFFIXES)}, .gz)"
            raise InputError(f"no articles {what} below {path}")
        items = [Item(display(p), p, path=path / p) for p in found.paths]
        return Listing(items, found.skipped, folder=path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    data = read_bytes(path, LIST_BYTES, regular_only=True)
    if web.looks_like_feed(data):
        entries = web.feed_items(data, display(path))
        chosen = web.choose(entries, since=options.since, max_items=options.max_items)
        return _feed_listing(chosen, display(path), options)
    return _urls(_decode(data, display(path)), display(path), settings, options, manifest)


def _urls(
    text: str, where: str, settings: Settings, options: WebOptions, manifest: Manifest
) -> Listing:
    urls = web.url_lines(text, where)
    if not options.feeds:
        return Listing(_pages([web.WebItem(url) for url in urls]))
    pages: list[web.WebItem] = []
    skipped: list[str] = []
    for url in urls:
        try:
            pages += _feed(url, settings, options, manifest)
        except InputError as exc:
            skipped.append(f"feed {url}: {exc}")  # one bad feed does not stop the others
    if not pages:
        raise InputError(
            f"no items in the feeds of {where}" + (f": {skipped[0]}" if skipped else "")
        )
    return Listing(_pages(pages), skipped)


def _feed(
    url: str, settings: Settings, options: WebOptions, manifest: Manifest
) -> list[web.WebItem]:
    """A feed's items, fetched conditionally: unchanged (304), the items recorded last time."""
    known = manifest.feed(url)
    etag, modified = (known[0], known[1]) if known else (None, None)
    got = web.fetch_feed(url, settings, etag=etag, modified=modified)
    if got.status == 304 and known is not None:
        items = [web.WebItem(**i) for i in known[2]]
    else:
        items = web.feed_items(got.data, url)
        manifest.remember_feed(
            url, etag=got.etag, last_modified=got.last_modified, items=[i.to_json() for i in items]
        )
    return web.choose(items, since=options.since, max_items=options.max_items)


def _feed_listing(items: list[web.WebItem], where: str, options: WebOptions) -> Listing:
    """A feed's items; none is not an error (a quiet feed), but the run says so."""
    if items:
        return Listing(_pages(items))
    since = f" dated {options.since} or later" if options.since else ""
    return Listing([], [f"{where} has no items{since}"])


def _pages(pages: list[web.WebItem]) -> list[Item]:
    unique = {p.url: p for p in reversed(pages)}  # one item per URL, the first listed kept
    return [Item(p.url, web.item_path(p.url), page=p) for p in reversed(unique.values())]


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{where} is not a UTF-8 list of URLs (nor a feed)") from None


def day(text: str | None) -> str | None:
    """``--since`` as an ISO day (any date dateparser reads: "2026-03-01", "1 March 2026")."""
    if text is None:
        return None
    from analyst.text.dates import resolve  # dateparser: a moment to import

    dated = resolve(text, base=None)
    if dated is None or len(dated.iso) != 10:
        raise ConfigError(f"--since {text!r} is not a day (give 2026-03-01)")
    return dated.iso
