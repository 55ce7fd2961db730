"""Shared fixtures: the network guard, a clean environment, the loopback server, articles."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyst.settings import Settings
from tests.fakeserver import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "data"

pytest_plugins = ["tests.browser"]  # the browser and page fixtures

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise RuntimeError(f"network guard: a test tried to reach {host}")
    _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def network_guard() -> Iterator[None]:
    """Fail any test that reaches beyond loopback."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer key or server leaks into a test; each test has its own cache folder, so no
    test answers from another's call cache."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANALYST_MODEL",
        "ANALYST_MODEL_PATH",
        "ANALYST_CONTEXT_WINDOW",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANALYST_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """A fresh loopback OpenAI-compatible server for one test."""
    srv = FakeOpenAIServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def settings(server: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the loopback server, with fast retries."""
    return Settings(
        base_url=server.base_url,
        model="fake-model",
        max_retries=0,
        timeout=10,
        cache_dir=tmp_path_factory.getbasetemp() / "cache",
    )


@pytest.fixture
def bridge() -> str:
    """An example article in the seed's shape (title, dek, byline, sections, Source line)."""
    return (EXAMPLES / "harbor-bridge.txt").read_text("utf-8")


@pytest.fixture
def seed_path() -> Path:
    """The seed article from ../shared, when it is there."""
    path = SHARED / "seed-article.txt"
    if not path.exists():
        pytest.skip("../shared/data/seed-article.txt is not beside the checkout")
    return path
