"""The embedded model: assembly from part packages, and one real run on the local model."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analyst import Report, Settings, summarize_file
from analyst.errors import ModelServerError
from analyst.model import local
from analyst.model.seam import Completion
from analyst.settings import default_cache_dir
from tests.conftest import EXAMPLES

CHUNKS = [b"GGUF-part-one-" * 1000, b"part-two-" * 3000, b"end"]


def _fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str) -> local.LocalModel:
    """A three-part model shipped as modules on sys.path, like the real part packages."""
    packages = tmp_path / "site"
    for i, chunk in enumerate(CHUNKS, start=1):
        pkg = packages / f"{prefix}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        (pkg / "__init__.py").write_text(
            textwrap.dedent(
                f"""
                import os
                def get_part_path():
                    return os.path.join(os.path.dirname(__file__), "data", "part{i:02d}.bin")
                """
            )
        )
    monkeypatch.syspath_prepend(str(packages))
    return local.LocalModel(
        name=prefix.rstrip("_"),
        module_prefix=prefix,
        package_prefix=prefix.replace("_", "-"),
        version="1.0",
        parts=len(CHUNKS),
        sha256=hashlib.sha256(b"".join(CHUNKS)).hexdigest(),
        size=sum(map(len, CHUNKS)),
        about="test model",
    )


def test_assembles_once_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _fake_model(tmp_path, monkeypatch, "asm_ok_part")
    cache = tmp_path / "cache"
    assert not local.is_assembled(model, cache)
    path = local.ensure_model_file(model, cache)
    assert path.read_bytes() == b"".join(CHUNKS)
    assert local.is_assembled(model, cache)
    mtime = path.stat().st_mtime_ns
    assert local.ensure_model_file(model, cache) == path
    assert path.stat().st_mtime_ns == mtime  # not assembled again
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def test_wrong_hash_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _fake_model(tmp_path, monkeypatch, "asm_bad_part")
    bad = local.LocalModel(**{**model.__dict__, "sha256": "0" * 64})
    cache = tmp_path / "cache"
    with pytest.raises(ModelServerError, match="does not match its sha256"):
        local.ensure_model_file(bad, cache)
    files = [p.name for p in (cache / "models").iterdir() if not p.name.endswith(".lock")]
    assert files == []


def test_missing_part_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _fake_model(tmp_path, monkeypatch, "asm_gap_part")
    gapped = local.LocalModel(**{**model.__dict__, "parts": 4})
    with pytest.raises(ModelServerError, match=r"part 4 .*pip install \"analyst\[local\]\""):
        local.ensure_model_file(gapped, tmp_path / "cache")


def test_partial_file_from_a_crash_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _fake_model(tmp_path, monkeypatch, "asm_crash_part")
    cache = tmp_path / "cache"
    target = local.ensure_model_file(model, cache)
    # A crash mid-copy leaves a temporary file; a damaged target no longer matches its marker.
    (target.parent / f".{model.file_name}.abc123").write_bytes(b"GGUF-part")
    target.write_bytes(b"GGUF-part-one-")
    assert not local.is_assembled(model, cache)
    assert local.ensure_model_file(model, cache).read_bytes() == b"".join(CHUNKS)


def test_two_concurrent_first_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _fake_model(tmp_path, monkeypatch, "asm_race_part")
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "site")!r})
        from pathlib import Path
        from analyst.model import local
        model = local.LocalModel(**{model.__dict__!r})
        print(local.ensure_model_file(model, Path({str(cache)!r})))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0].decode().strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1]
    assert Path(outputs[0]).read_bytes() == b"".join(CHUNKS)
    leftovers = [p for p in (cache / "models").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_unknown_local_model_name() -> None:
    with pytest.raises(Exception, match="local:qwen2.5-coder-1.5b"):
        local.resolve("local:gpt-5")


# ---- the real embedded model ------------------------------------------------------------------

SMALL = local.MODELS["qwen2.5-coder-0.5b"]


def _small_model_installed() -> bool:
    if not local.runtime_available():
        return False
    try:
        local.part_paths(SMALL)
    except ModelServerError:
        return False
    return True


@pytest.fixture
def small_model() -> None:
    if not _small_model_installed():
        if os.environ.get("CI"):
            pytest.fail('CI must install the embedded model: pip install ".[local-small]"')
        pytest.skip('the embedded model is not installed (pip install ".[local-small]")')


@pytest.mark.model
@pytest.mark.timeout(900)  # a CPU model on a busy 2-core machine can take minutes
@pytest.mark.usefixtures("small_model")
def test_real_embedded_model_end_to_end() -> None:
    # Offline: the network guard allows loopback only; the model comes from the part packages.
    settings = Settings(
        model="local:qwen2.5-coder-0.5b", cache_dir=default_cache_dir(), verify=True
    )
    article = EXAMPLES / "grid-battery.txt"
    text = article.read_text("utf-8")
    report = summarize_file(article, settings=settings)
    assert Report.model_validate_json(report.model_dump_json()) == report
    assert report.model.backend == "local" and report.model.name == "qwen2.5-coder-0.5b"
    assert report.model.structured_mode == "json_schema"  # llama.cpp enforces the schema
    grounded = [f for f in report.facts if f.grounded]
    assert grounded, report.warnings
    for fact in grounded:
        assert fact.start is not None and text[fact.start : fact.end] == fact.evidence
    # 3 to 5 as written; the gates' repair may then leave out repeated or invented ones, and
    # says so (the 0.5B model, after the title moved inside <article>, lost 2 of 3 that way).
    assert 1 <= len(report.implications) <= 5
    if len(report.implications) < 3:
        assert any("were left out" in w for w in report.warnings), report.warnings
    assert report.analysis.text.strip() and report.summary.strip()
    # --verify judged every grounded fact, and the analysis cites only those that passed.
    passed = {f.id for f in grounded if f.verification and f.verification.verdict != "unsupported"}
    assert all(f.verification for f in grounded)
    assert set(report.analysis.facts) <= passed
    assert all(set(i.facts) <= passed for i in report.implications)
    assert report.usage.calls >= 3 and not report.usage.tokens_estimated
    local.stop_all()


def test_embedded_server_starts_only_on_the_first_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from analyst.model.clients import make_client

    started: list[Settings] = []

    def fake_start(settings: Settings) -> str:
        started.append(settings)
        return "http://127.0.0.1:9/v1"

    monkeypatch.setattr("analyst.model.local.runtime_available", lambda: True)
    monkeypatch.setattr("analyst.model.clients.local_base_url", fake_start)
    client = make_client(Settings())
    assert (client.info.model, client.info.backend, started) == ("qwen2.5-coder-1.5b", "local", [])
    client.close()


@pytest.mark.model
@pytest.mark.timeout(600)
@pytest.mark.usefixtures("small_model")
def test_a_new_server_starts_from_what_the_last_one_read(tmp_path: Path) -> None:
    # Every call begins with the same system text; the next process's server restores the
    # slot the last one saved on stopping, so it does not compute that text again. Streamed
    # replies from the real server still carry their usage and llama.cpp's timings.
    from analyst.model.openai import OpenAIChatClient
    from analyst.model.seam import ChatRequest, OutputSchema
    from analyst.prompts import Prompts

    model = local.ensure_model_file(SMALL, default_cache_dir())
    system = Prompts.load().system(("extract", "fact_support", "summarize", "synthesize"))

    def ask(question: str) -> Completion:
        url = local.server_url(model, context_window=4096, cache_dir=tmp_path, timeout=300)
        client = OpenAIChatClient(model="m", base_url=url, backend="local", stream=True)
        request = ChatRequest(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
            schema=OutputSchema("answer", {"type": "object"}),
            max_tokens=4,
            temperature=0.0,
        )
        try:
            return client.complete(request)
        finally:
            client.close()

    first = ask("Say yes.")
    assert first.cached_tokens == 0 and first.prompt_tokens and first.prompt_tokens > 1000
    assert first.timings and first.timings["prompt_n"] == first.prompt_tokens
    local.stop_all()  # saves the slot
    (state,) = (tmp_path / "slots").glob("*.bin")
    saved = state.read_bytes()
    local.server_url(model, context_window=4096, cache_dir=tmp_path, timeout=300)
    local.stop_all()  # a server that answered nothing leaves the saved state as it was
    assert state.read_bytes() == saved and len(list((tmp_path / "slots").iterdir())) == 1
    second = ask("Say no.")
    local.stop_all()
    assert second.cached_tokens is not None and second.cached_tokens > 1000
    assert second.timings and second.timings["prompt_n"] < 20


@pytest.mark.model
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("small_model")
def test_a_real_one_slot_llama_cpp_server_as_users_run_one(tmp_path: Path) -> None:
    # The README's llama.cpp row, on the real thing: a plain llama.cpp server with one slot
    # (its defaults otherwise), analyst at its defaults with --base-url, and a proxy between
    # them that counts what reaches the server. The markup article once drew llama.cpp's
    # "peg-native format" 500.
    from typer.testing import CliRunner

    from analyst.cli import app
    from tests.countingproxy import CountingProxy

    model = local.ensure_model_file(SMALL, default_cache_dir())
    command = [sys.executable, "-m", "analyst.model.local_server", "--model", str(model)]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        proxy = CountingProxy(server.stdout.readline().strip()).start()
        folder = tmp_path / "articles"
        folder.mkdir()
        (folder / "markup.md").write_bytes(
            (Path(__file__).parent / "data" / "hostile-markup.md").read_bytes()
        )
        # Its first paragraphs: two short articles keep this test to a minute or two.
        grid = (EXAMPLES / "grid-battery.txt").read_text("utf-8").split("\n\n")[:9]
        (folder / "grid.txt").write_text("\n\n".join(grid), "utf-8")
        args = ["batch", str(folder), "-o", str(tmp_path / "out"), "--base-url", proxy.base_url]
        result = CliRunner().invoke(app, [*args, "--no-cache", "--format", "json"])
        proxy.stop()
    finally:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.close()
        server.wait(timeout=60)
        server.stdout.close()
    assert result.exit_code == 0, result.output
    assert "1 request at a time (llama.cpp runs 1 slot)" in result.stderr
    counts = proxy.counts
    assert counts.peak_in_flight == 1 and counts.resent_while_busy == 0 and counts.repeated == 0
    assert all(seen.status == 200 for seen in counts.requests)
    reports = [json.loads(p.read_text("utf-8")) for p in (tmp_path / "out").glob("*.json")]
    assert len(reports) == 2 and all(r["facts"] for r in reports)
