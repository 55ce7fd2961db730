"""The command line: every documented example and every exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyst.cli import app
from analyst.schema import Report, report_json_schema
from tests.conftest import EXAMPLES
from tests.fakeserver import FakeOpenAIServer, error, reply

runner = CliRunner()
ARTICLE = str(EXAMPLES / "harbor-bridge.txt")


def _run(*args: str, server: FakeOpenAIServer | None = None, stdin: bytes | None = None):  # type: ignore[no-untyped-def]
    extra = ["--base-url", server.base_url, "--max-retries", "0"] if server else []
    return runner.invoke(app, [*args, *extra], input=stdin)


def test_summarize_json_is_the_only_thing_on_stdout(server: FakeOpenAIServer) -> None:
    result = _run("summarize", ARTICLE, "--format", "json", server=server)
    assert result.exit_code == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    assert report.facts and report.model.name == "fake-model"  # asked the server which model


def test_json_report_validates_against_analyst_schema(server: FakeOpenAIServer) -> None:
    import jsonschema

    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    result = _run("summarize", ARTICLE, "--format", "json", server=server)
    jsonschema.validate(json.loads(result.stdout), schema)
    broken = json.loads(result.stdout)
    broken["facts"][0]["match"] = "guessed"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_summarize_rich_view(server: FakeOpenAIServer) -> None:
    result = _run("summarize", ARTICLE, server=server)
    assert result.exit_code == 0, result.stderr
    for part in ("Summary", "Key facts", "How It Will Be Paid For", "Implications", "AI Analysis"):
        assert part in result.stdout
    assert "facts grounded" in result.stdout


def test_summarize_markdown_to_file(server: FakeOpenAIServer, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = _run("summarize", ARTICLE, "--format", "md", "-o", str(out), server=server)
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert text.startswith("# Riverton Approves") and "## AI Analysis" in text
    assert result.stdout == ""
    # No temporary file left behind (the cache folder is the test's own).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "report.md"]


def test_output_suffix_picks_json(server: FakeOpenAIServer, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert _run("summarize", ARTICLE, "-o", str(out), server=server).exit_code == 0
    Report.model_validate_json(out.read_text())


def test_rich_view_to_a_text_file(server: FakeOpenAIServer, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    result = _run("summarize", ARTICLE, "-o", str(out), server=server)
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert text.startswith("Riverton Approves") and "AI Analysis" in text
    assert "\x1b[" not in text  # plain text, no terminal escapes


def test_stdin(server: FakeOpenAIServer) -> None:
    data = Path(ARTICLE).read_bytes()
    result = _run("summarize", "-", "--format", "json", server=server, stdin=data)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["source"]["path"] is None


def test_schema_command() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == report_json_schema()


def test_help_lists_exit_codes() -> None:
    result = runner.invoke(app, ["summarize", "--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.stdout and "6  the article cannot fit" in result.stdout


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("analyst: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["summarize", ARTICLE, "--format", "pdf"], "pdf"),
        (["summarize", ARTICLE, "--repairs", "-1"], "repairs"),
        (["summarize", ARTICLE, "--prompts", "/nonexistent/prompts"], "prompts folder"),
        (["summarize", ARTICLE, "-o", "/nonexistent/dir/report.md"], "cannot write the report"),
    ],
)
def test_exit_2_usage(server: FakeOpenAIServer, args: list[str], words: str) -> None:
    result = _run(*args, server=server)
    assert result.exit_code == 2
    assert words in result.stderr
    assert server.chat_requests == []  # refused before any model call


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "no such file"), (b"", "empty"), (b"  \n ", "whitespace"), (b"\x00\x01PNG", "binary")],
)
def test_exit_3_input(
    server: FakeOpenAIServer, tmp_path: Path, content: bytes | None, words: str
) -> None:
    path = tmp_path / "article.txt"
    if content is not None:
        path.write_bytes(content)
    result = _run("summarize", str(path), server=server)
    assert result.exit_code == 3
    assert words in _one_error_line(result.stderr)


def test_exit_4_no_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on an install without the `local` extra: no llama.cpp runtime, no key, no server.
    monkeypatch.setattr("analyst.model.local.runtime_available", lambda: False)
    result = runner.invoke(app, ["summarize", ARTICLE])
    assert result.exit_code == 4
    line = _one_error_line(result.stderr)
    assert "no model backend" in line and 'pip install "analyst[local]"' in line


def test_exit_4_auth_without_leaking_the_key(server: FakeOpenAIServer) -> None:
    key = "sk-canary-abcdef0123456789"
    server.enqueue(error(401, f"bad key {key}"))
    result = _run("summarize", ARTICLE, "--model", "m", "--api-key", key, server=server)
    assert result.exit_code == 4
    line = _one_error_line(result.stderr)
    assert "refused the API key" in line and key not in result.stderr + result.stdout


def test_exit_4_connection_refused() -> None:
    result = runner.invoke(
        app,
        [
            "summarize",
            ARTICLE,
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--max-retries",
            "0",
        ],
    )
    assert result.exit_code == 4
    assert "cannot connect" in _one_error_line(result.stderr)


def test_exit_4_unknown_model(server: FakeOpenAIServer) -> None:
    server.enqueue(error(404, "no such model"))
    result = _run("summarize", ARTICLE, "--model", "nope", server=server)
    assert result.exit_code == 4
    assert "fake-model" in _one_error_line(result.stderr)


def test_exit_4_server_error(server: FakeOpenAIServer) -> None:
    server.enqueue(error(500, "boom"))
    result = _run("summarize", ARTICLE, "--model", "m", server=server)
    assert result.exit_code == 4
    assert "500" in _one_error_line(result.stderr)


def test_exit_5_invalid_output(server: FakeOpenAIServer) -> None:
    server.enqueue(*[reply("I am not JSON")] * 3)
    result = _run("summarize", ARTICLE, "--model", "m", "--verbose", server=server)
    assert result.exit_code == 5
    assert "still invalid after 3 attempts" in _one_error_line(result.stderr)
    assert "I am not JSON" in result.stderr  # the raw reply, with --verbose


def test_exit_6_context(server: FakeOpenAIServer) -> None:
    result = _run("summarize", ARTICLE, "--model", "m", "--context-window", "1000", server=server)
    assert result.exit_code == 6
    assert "context window" in _one_error_line(result.stderr)


def test_installed_console_script(server: FakeOpenAIServer, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "analyst"
    assert script.exists(), "install analyst (pip install -e .) to get the console script"
    env = {"PATH": str(script.parent), "ANALYST_CACHE_DIR": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(script), "summarize", ARTICLE, "--format", "json", "--base-url", server.base_url],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    Report.model_validate_json(done.stdout)
    missing = subprocess.run(
        [sys.executable, "-m", "analyst", "summarize", str(tmp_path / "nope.txt")],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 3
    assert missing.stderr.decode().startswith("analyst: error:")


def test_models_lists_local_models_and_the_remote_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0
    assert "local:qwen2.5-coder-1.5b (default)" in result.stdout
    assert "local:qwen2.5-coder-0.5b" in result.stdout
    assert "remote backend: none configured" in result.stdout
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    result = runner.invoke(app, ["models"])
    assert "remote backend: http://127.0.0.1:8080/v1" in result.stdout


def test_exit_2_missing_model_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("analyst.model.local.runtime_available", lambda: True)
    result = runner.invoke(app, ["summarize", ARTICLE, "--model-path", str(tmp_path / "x.gguf")])
    assert result.exit_code == 2
    assert "does not exist" in _one_error_line(result.stderr)
