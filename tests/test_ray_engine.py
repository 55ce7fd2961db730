"""--engine ray: a local Ray cluster against loopback servers gives the local engine's reports."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyst.batch.manifest import Manifest
from analyst.cli import app
from tests.fakeserver import FakeOpenAIServer

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail('CI must install the Ray engine: pip install ".[ray]"')
        pytest.skip('Ray is not installed (pip install ".[ray]")')
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    source = tmp_path / "in"
    (source / "world").mkdir(parents=True)
    for n in range(8):
        where = source / ("world" if n % 2 else "")
        (where / f"story{n}.txt").write_text(
            f"Story Number {n}\n\nThe council of town {n} voted on Tuesday to build {n + 2} new "
            f"schools. The plan costs ${n + 1} million and opens in {2027 + n}.\n\nParents said "
            f"the town had waited {n + 3} years for the schools.",
            "utf-8",
        )
    return source


def _reports(out: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(out.rglob("*.json")):
        report = json.loads(path.read_text("utf-8"))
        key = str(path.relative_to(out))
        found[key] = {k: report[k] for k in ("summary", "facts", "implications", "analysis")}
    return found


def _run(out: Path, folder: Path, *urls: str, extra: tuple[str, ...] = ()) -> Any:
    args = ["batch", str(folder), "-o", str(out), "--model", "m", *extra]
    for url in urls:
        args += ["--base-url", url]
    return CliRunner().invoke(app, args)


@pytest.mark.usefixtures("ray_cluster")
def test_ray_engine_writes_the_local_engines_reports_and_resumes(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    local = _run(tmp_path / "local", folder, server.base_url)
    assert local.exit_code == 0, local.output
    ray_run = _run(tmp_path / "ray", folder, server.base_url, extra=("--engine", "ray"))
    assert ray_run.exit_code == 0, ray_run.output
    assert _reports(tmp_path / "ray") == _reports(tmp_path / "local")
    assert len(_reports(tmp_path / "ray")) == 8
    manifest = Manifest(tmp_path / "ray")
    rows = [
        manifest.get(f"story{n}.txt" if n % 2 == 0 else f"world/story{n}.txt") for n in range(8)
    ]
    manifest.close()
    assert [row.status if row else None for row in rows] == ["ok"] * 8
    # Resume: everything is done, nothing is asked again.
    sent = len(server.chat_requests)
    again = _run(tmp_path / "ray", folder, server.base_url, extra=("--engine", "ray"))
    assert again.exit_code == 0 and len(server.chat_requests) == sent
    assert "skipped" in again.output


@pytest.mark.usefixtures("ray_cluster")
def test_two_servers_share_the_articles(folder: Path, tmp_path: Path) -> None:
    one, two = FakeOpenAIServer().start(), FakeOpenAIServer().start()
    try:
        result = _run(
            tmp_path / "out", folder, one.base_url, two.base_url, extra=("--engine", "ray")
        )
        assert result.exit_code == 0, result.output
        assert len(_reports(tmp_path / "out")) == 8
        # Eight articles, two calls each, split evenly by position.
        assert len(one.chat_requests) == len(two.chat_requests) == 12
    finally:
        one.stop()
        two.stop()


def _worker_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "MapBatches(Worker)" in title or "MapWorker" in title:
                pids.append(int(entry.name))
    return pids


@pytest.mark.usefixtures("ray_cluster")
def test_a_killed_worker_is_retried_and_nothing_is_lost_or_doubled(
    server: FakeOpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.delay = 0.3  # slow enough to kill a worker mid-run
    out = tmp_path / "out"
    outcome: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: outcome.update(
            result=_run(out, folder, server.base_url, extra=("--engine", "ray"))
        )
    )
    runner.start()
    deadline = time.monotonic() + 120
    while len(server.chat_requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    victims = _worker_pids()
    assert victims, "no Ray worker process found"
    os.kill(victims[0], signal.SIGKILL)
    runner.join(timeout=400)
    result = outcome["result"]
    assert result.exit_code == 0, result.output
    assert len(_reports(out)) == 8
    names = [p.name for p in out.rglob("*")]
    assert not [n for n in names if ".tmp" in n or n.startswith(".analyst-")]
    manifest = Manifest(out)
    rows = manifest._db.execute("SELECT path, status FROM files").fetchall()
    manifest.close()
    assert len(rows) == 8 and {status for _, status in rows} == {"ok"}


def test_ray_engine_refuses_the_embedded_model(folder: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["batch", str(folder), "-o", str(tmp_path / "o"), "--engine", "ray"]
    )
    assert result.exit_code == 2 and "--base-url" in result.output
