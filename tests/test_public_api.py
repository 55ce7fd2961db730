"""The public surface is exactly what __all__ says."""

from __future__ import annotations

import dataclasses

import pytest

import analyst
from analyst import Settings
from analyst.model.seam import ChatClient
from analyst.testing import FakeChatClient


def test_exported_members() -> None:
    assert sorted(analyst.__all__) == [
        "AnalystError",
        "AsyncChatClient",
        "AuthenticationError",
        "BatchEvent",
        "BatchResult",
        "BudgetError",
        "ChatClient",
        "ChatRequest",
        "ClientInfo",
        "Completion",
        "ConfigError",
        "ContextOverflowError",
        "Digest",
        "Fact",
        "Implication",
        "InputError",
        "MalformedReplyError",
        "Message",
        "ModelOutputError",
        "ModelServerError",
        "OutputSchema",
        "Report",
        "Session",
        "Settings",
        "StructuredMode",
        "UnknownModelError",
        "Verification",
        "__version__",
        "asummarize_file",
        "asummarize_folder",
        "asummarize_text",
        "asummarize_url",
        "digest",
        "summarize_file",
        "summarize_folder",
        "summarize_text",
        "summarize_url",
    ]
    for name in analyst.__all__:
        assert hasattr(analyst, name)


def test_settings_are_frozen_and_hide_the_key() -> None:
    s = Settings(api_key="sk-canary-secret")
    assert "sk-canary-secret" not in repr(s)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.model = "x"  # type: ignore[misc]


def test_settings_from_env_and_overrides() -> None:
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "ANALYST_MODEL": "m"}
    s = Settings.from_env(env, model="override", repairs=None)
    assert (s.api_key, s.base_url, s.model, s.repairs) == (
        "k",
        "http://127.0.0.1:1/v1",
        "override",
        2,
    )
    assert s.backend == "openai-compatible" and s.effective_context_window == 8192
    openai = Settings(api_key="k")
    assert openai.model_name == "gpt-4o-mini" and openai.effective_context_window == 128_000
    assert openai.backend == "openai" and openai.effective_timeout == 120


def test_backend_choice() -> None:
    assert Settings().backend == "local" and Settings().model_name == "qwen2.5-coder-1.5b"
    assert Settings(model="local:qwen2.5-coder-0.5b").model_name == "qwen2.5-coder-0.5b"
    # An explicit local model wins over a configured server.
    assert Settings(model="local", api_key="k").backend == "local"
    assert Settings(base_url="http://127.0.0.1:1/v1").backend == "openai-compatible"
    assert Settings().effective_context_window == 8192 and Settings().effective_timeout == 900


def test_fake_client_satisfies_the_protocol() -> None:
    assert isinstance(FakeChatClient(), ChatClient)


def test_network_guard_blocks_non_loopback() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(RuntimeError):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: refused by the guard before any packet


def test_every_package_ships_in_the_wheel() -> None:
    # setuptools lists the packages by hand (the prompts folder maps into one): a package
    # left off installs without it, and `import analyst` then fails outside the checkout.
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "analyst").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
