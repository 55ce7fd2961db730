"""Hostile and broken inputs: each gives a report or an input error — never a traceback."""

from __future__ import annotations

import json
import os
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyst.cli import app
from tests.fakeserver import FakeOpenAIServer
from tests.fuzz import seed_pdf

SENTENCE = "The council approved a budget of {n} million on Tuesday after a long debate. "


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _ten_megabytes() -> bytes:
    rng = random.Random(4)
    paragraphs = [SENTENCE.format(n=rng.randint(1, 999)) * 6 for _ in range(22_000)]
    return ("Budget\n\n" + "\n\n".join(paragraphs)).encode()


CASES: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace": lambda: b" \n\t\r\n   \n",
    "random bytes": lambda: random.Random(1).randbytes(5000),
    "PNG": _png,
    "10 MB of text": _ten_megabytes,
    "one 100,000-character line": lambda: (SENTENCE.format(n=7) * 1300)[:100_000].encode(),
    "no headings": lambda: "\n\n".join(SENTENCE.format(n=i) * 3 for i in range(30)).encode(),
    "only headings": lambda: "\n\n".join(f"# Heading {i}" for i in range(40)).encode(),
    "mixed newlines": lambda: (
        "Budget vote\r\n\r\n" + SENTENCE.format(n=3) * 3 + "\r\r" + SENTENCE.format(n=4) * 3 + "\n"
    ).encode(),
    "zero-width and control characters": lambda: (
        "Bud\u200bget\x07 vote\n\n" + ("\u200b\x01" + SENTENCE.format(n=5)) * 8
    ).encode(),
    "a 5,000-character word": lambda: ("Title\n\n" + "x" * 5000 + "\n\n" + SENTENCE * 3).encode(),
    "a NUL in UTF-16 clothing": lambda: b"\xff\xfe" + b"\x00\xd8" * 50,  # lone surrogates
    "HTML with no article": lambda: b"<!doctype html><html><body><nav>Home</nav></body></html>",
    "a PDF that is not one": lambda: b"%PDF-1.4\n%%EOF",
    # pypdf logs what it repairs ("EOF marker not found"): that must not reach stderr.
    "a PDF cut short": lambda: seed_pdf()[: len(seed_pdf()) * 2 // 3],
    "gzip of nothing": lambda: zlib.compress(b"")[:2] and b"\x1f\x8b\x08\x00" + b"\x00" * 6,
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_a_report_or_an_input_error(
    server: FakeOpenAIServer, tmp_path: Path, name: str
) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(CASES[name]())
    args = ["summarize", str(path), "--format", "json", "--base-url", server.base_url]
    result = CliRunner().invoke(app, [*args, "--model", "m", "--max-retries", "0"])
    assert "Traceback" not in result.output
    assert not result.exception or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 0:
        report = json.loads(result.stdout)
        assert report["summary"]
        source = CASES[name]().decode("utf-8", "replace")
        for fact in report["facts"]:
            assert fact["grounded"] and fact["evidence"]
            assert " ".join(fact["evidence"].split())[:20] in " ".join(source.split())
    else:
        assert result.exit_code == 3, (result.exit_code, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("analyst: error: "), lines


def test_the_expected_ones_are_refused(server: FakeOpenAIServer, tmp_path: Path) -> None:
    refused = {
        "empty",
        "whitespace",
        "random bytes",
        "PNG",
        "10 MB of text",  # over the default --max-input-tokens of 100,000
        "only headings",
        "HTML with no article",
        "a PDF that is not one",
        "a PDF cut short",
        "gzip of nothing",
        "a NUL in UTF-16 clothing",
    }
    for name in CASES:
        path = tmp_path / f"{abs(hash(name))}.txt"
        path.write_bytes(CASES[name]())
        args = ["summarize", str(path), "--format", "json", "--base-url", server.base_url]
        result = CliRunner().invoke(app, [*args, "--model", "m"])
        assert (result.exit_code == 3) == (name in refused), (name, result.stderr)
    assert os.environ.get("OPENAI_API_KEY") is None
