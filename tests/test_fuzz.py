"""Property-based fuzzing of every reader, of grounding and of sections (Hypothesis).

One property: a report (or an ``Article``) or an ``AnalystError``, within a time and a memory
bound (``tests/fuzz.py``). CI runs a bounded number of examples per target, derandomized so a run
is reproducible; ``benchmarks/hostile.py`` runs many more and prints the tally.
``ANALYST_FUZZ_EXAMPLES`` sets the number per target.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyst import Settings, summarize_text, summarize_url
from analyst.reading.formats import load_article
from analyst.testing import FakeChatClient, extractive_responder
from analyst.text.quotes import Grounder
from analyst.text.sections import build_sections
from analyst.text.tokens import Encoder, get_encoder
from tests.fuzz import ARTICLE_TEXT, STORY, check, mutated, seed_gzip, seed_html, seed_pdf

EXAMPLES = int(os.environ.get("ANALYST_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the bound is fuzz.SECONDS, checked by fuzz.check
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _client() -> FakeChatClient:
    return FakeChatClient(responder=extractive_responder)


def _report(data: bytes | str) -> Any:
    return summarize_text(data, client=_client(), settings=Settings(model="m", base_url="x"))


# ---- readers ------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=20_000))
def test_any_bytes(data: bytes) -> None:
    check("bytes", lambda: load_article(data))


@FUZZ
@given(ARTICLE_TEXT)
def test_article_like_text_gives_a_report(text: str) -> None:
    check("text", lambda: _report(text))


@FUZZ
@given(mutated(seed_html()))
def test_mutated_html(data: bytes) -> None:
    check("html", lambda: _report(data))


@FUZZ
@given(mutated(seed_pdf()))
def test_mutated_pdf(data: bytes) -> None:
    check("pdf", lambda: load_article(data))


@FUZZ
@given(st.lists(st.one_of(mutated(seed_gzip()), st.just(seed_gzip())), min_size=1, max_size=4))
def test_mutated_gzip_members(members: list[bytes]) -> None:
    check("gzip", lambda: load_article(b"".join(members), max_bytes=2**20))


# ---- URL responses from a loopback site ---------------------------------------------------


class _Replies:
    """A site that answers each GET with the next scripted status, headers and body."""

    def __init__(self) -> None:
        self.next: tuple[int, dict[str, str], bytes] = (200, {}, b"")
        replies = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:
                status, headers, body = replies.next
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/story"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def replies() -> Iterator[_Replies]:
    site = _Replies()
    yield site
    site.httpd.shutdown()
    site.httpd.server_close()


_HEADER_VALUE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
RESPONSES = st.tuples(
    st.sampled_from([200, 200, 200, 204, 301, 302, 404, 500]),
    st.dictionaries(
        st.sampled_from(
            ["Content-Type", "Content-Length", "Content-Encoding", "Location", "Transfer-Encoding"]
        ),
        st.one_of(
            _HEADER_VALUE,
            st.sampled_from(
                ["text/html", "text/plain", "application/pdf", "gzip", "chunked", "/story", "0"]
            ),
        ),
    ),
    st.one_of(mutated(seed_html()), mutated(STORY.encode()), st.binary(max_size=2000)),
)


@FUZZ
@given(response=RESPONSES)
def test_url_responses(replies: _Replies, response: tuple[int, dict[str, str], bytes]) -> None:
    replies.next = response
    settings_ = Settings(model="m", base_url="x", allow_private_urls=True, fetch_timeout=5)
    check("url", lambda: summarize_url(replies.url, client=_client(), settings=settings_))


# ---- grounding and sections ---------------------------------------------------------------


@st.composite
def quote_of(draw: st.DrawFn) -> tuple[str, str]:
    """A text and a quote: a slice of it, maybe edited, or anything at all."""
    text = draw(ARTICLE_TEXT)
    if text and draw(st.booleans()):
        start = draw(st.integers(0, len(text) - 1))
        quote = text[start : start + draw(st.integers(1, 300))]
        if draw(st.booleans()):
            quote = quote.upper() if draw(st.booleans()) else quote.replace(" ", "  ")
    else:
        quote = draw(st.text(max_size=200))
    return text, quote


@FUZZ
@given(quote_of())
def test_grounding_locates_inside_the_text_or_not_at_all(case: tuple[str, str]) -> None:
    text, quote = case
    located = check("grounding", lambda: Grounder(text, [(0, len(text))]).locate(quote))
    if located is not None:
        assert 0 <= located.start <= located.end <= len(text)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    return get_encoder("gpt-4o-mini", tmp_path_factory.mktemp("tokens"))


@FUZZ
@given(text=ARTICLE_TEXT, max_tokens=st.integers(20, 400))
def test_sections_cover_the_body_within_the_text(
    encoder: Encoder, text: str, max_tokens: int
) -> None:
    def sections() -> Any:
        article = load_article(text)
        return article, build_sections(article, encoder, max_tokens=max_tokens)

    built = check("sections", sections)
    if built is not None:
        article, found = built
        for section in found:
            assert all(0 <= s <= e <= len(article.text) for s, e in section.parts)
