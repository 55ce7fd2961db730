"""Settings: one frozen value object; ``Settings.from_env`` is the only environment reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from analyst.errors import ConfigError
from analyst.secrets import redact_url

if TYPE_CHECKING:
    from analyst.reading.fetch import Limits  # (it imports httpx2: only when fetching)

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
LOCAL_DEFAULT = "qwen2.5-coder-1.5b"

# Context windows of models we know; anything else gets DEFAULT_CONTEXT_WINDOW unless told.
KNOWN_CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-5": 400_000,
    "gpt-5-mini": 400_000,
    "gpt-5-nano": 400_000,
}
DEFAULT_CONTEXT_WINDOW = 8192
# "draft": the 0.5B model drafts for the 1.5B (the ``local-small`` extra); the others need no
# draft model (llama.cpp looks the next tokens up in what the slot has read).
LOCAL_SPECULATIVE = ("draft", "ngram-simple", "ngram-map-k", "ngram-mod")


def default_cache_dir() -> Path:
    """Where analyst keeps its caches (tokenizer files, later the call cache)."""
    return Path(platformdirs.user_cache_dir("analyst", appauthor=False))


_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "Path": (Path, str),  # a str path is taken as a Path
    "None": (type(None),),
}


def _check_types(settings: Settings) -> None:
    """Each field holds its declared type (checked here, not deep in a run); str paths → Path."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        names = str(f.type).split(" | ")
        allowed = tuple(t for name in names for t in _TYPES[name])
        if isinstance(value, bool) and "bool" not in names:
            allowed = ()  # True is an int to Python, not a number of tokens to us
        if not isinstance(value, allowed):
            wanted = " or ".join(names)
            shown = f" {value!r}" if f.repr else ""  # never echo the key
            raise ConfigError(f"{f.name} must be {wanted}, not {type(value).__name__}{shown}")
        if "Path" in names and isinstance(value, str):
            object.__setattr__(settings, f.name, Path(value))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything that changes what analyst does, in one immutable value.

    ``Settings(model="gpt-4o-mini")`` talks to OpenAI with ``api_key``;
    ``Settings(base_url="http://127.0.0.1:8080/v1")`` to any OpenAI-compatible server.
    Use ``dataclasses.replace(settings, ...)`` to derive a variant.
    """

    model: str | None = None
    base_url: str | None = None
    # repr=False: the key must never reach logs, errors or reports.
    api_key: str | None = field(default=None, repr=False)
    model_path: Path | None = None
    timeout: float | None = None
    max_retries: int = 2
    repairs: int = 2
    context_window: int | None = None
    pack_tokens: int = 3000
    # How a fact shows its evidence: "sentence" (the model cites a numbered sentence of the
    # article; nothing to copy, exact by construction) or "quote" (it copies a passage, which
    # analyst then locates: exactly, normalized or fuzzily).
    evidence: str = "sentence"
    # What a fact's text is, citing sentences: "sentence" (the model gives the number alone and
    # the fact is that sentence, a trailing "…, she said" moved to ``attributed_to``: a few tokens
    # a fact, true by construction), "written" (the model writes each fact, checked for
    # support), or "auto" (sentence on the embedded model, whose written facts were the sentence
    # copied word for word 94 times in 104; written elsewhere).
    fact_text: str = "auto"
    # The summary, citing sentences: "sentences" (the model picks the article's sentences by
    # number, shown in the article's order), "written" (the model writes it), or "auto"
    # (sentences on the embedded model, whose written summaries could garble who did what).
    summary: str = "auto"
    extract_max_tokens: int = 1500
    synth_max_tokens: int = 1200
    temperature: float = 0.0
    prompts_dir: Path | None = None
    keep_ungrounded: bool = False
    # Check each grounded fact against the article (one more call); unsupported ones are marked
    # and kept out of the implications and the analysis.
    verify: bool = False
    # Who's who (people and organisations with their roles) and the timeline (dated events),
    # each proved by a sentence: one more call, on the prefix every call shares.
    who: bool = False
    # Who writes the implications and the AI Analysis: "composed" (analyst, from the notes it
    # computes and the facts: no model prose), "model" (the model, citing notes and facts), or
    # "auto" (composed on the embedded model, which cannot analyse; the model elsewhere).
    analysis: str = "auto"
    # Keep what the model says from its own knowledge (marked "background" in every view);
    # None: keep it, except on the embedded model, where it is unreliable.
    background: bool | None = None
    # The language reports are written in (a code such as "en", or a name); None: the article's.
    language: str | None = None
    include_text: bool = False  # put the text the offsets refer to into the report
    # Articles over this many tokens are refused, or with ``truncate`` read up to it.
    max_input_tokens: int | None = 100_000
    truncate: bool = False
    budget_tokens: int | None = None  # prompt + completion tokens one article may cost
    fetch_timeout: float = 30.0  # seconds for fetching a URL, all of it (redirects, body)
    max_download_bytes: int = 10 * 2**20  # a fetched page or PDF larger than this is refused
    # Fetch URLs that lead to loopback, private, link-local or reserved addresses (off: a URL
    # from an untrusted list must not reach the machine's own services or its network's).
    allow_private_urls: bool = False
    # An article file (or stdin) larger than this is refused; so is a gzip that inflates past it.
    max_input_bytes: int = 64 * 2**20
    # Requests the embedded server decodes together; a batch sets it to its concurrency.
    local_slots: int = 1
    # Speculative decoding on the embedded server: "draft" (the 0.5B model drafts), or
    # llama.cpp's draft-free kinds ("ngram-simple", "ngram-map-k", "ngram-mod"); None: plain
    # decoding. Measured on two cores, none paid (README, Benchmarks).
    local_speculative: str | None = None
    # Stream replies (``--timeout`` then bounds a silence, not a whole reply); None: stream from
    # every server (one that refuses is asked without a stream from then on); False: never.
    stream: bool | None = None
    # The call cache (``<cache_dir>/calls.sqlite``): off for the library unless asked for; the
    # CLI turns it on (``--no-cache`` turns it off).
    cache: bool = False
    cache_dir: Path = field(default_factory=default_cache_dir)

    def __post_init__(self) -> None:
        _check_types(self)
        if self.language is not None:
            from analyst.reading.language import language_code

            object.__setattr__(self, "language", language_code(self.language))
        if self.model is not None and not self.model.strip():
            raise ConfigError("model must not be empty (leave it unset for the default)")
        if not 0 <= self.temperature <= 2:
            raise ConfigError("temperature must be between 0 and 2")
        for name in ("fetch_timeout", "max_download_bytes", "max_input_bytes"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        for name in ("extract_max_tokens", "synth_max_tokens"):
            if getattr(self, name) < 16:
                raise ConfigError(f"{name} must be at least 16 tokens")
        if self.repairs < 0:
            raise ConfigError("repairs must be 0 or more")
        if self.max_retries < 0:
            raise ConfigError("max_retries must be 0 or more")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError("timeout must be positive")
        if self.context_window is not None and self.context_window < 512:
            raise ConfigError("context_window must be at least 512 tokens")
        for name in ("max_input_tokens", "budget_tokens"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be a positive number of tokens")
        if not 1 <= self.local_slots <= 64:
            raise ConfigError("local_slots must be between 1 and 64")
        if self.local_speculative not in (None, *LOCAL_SPECULATIVE):
            known = ", ".join(LOCAL_SPECULATIVE)
            raise ConfigError(f"local_speculative must be one of {known} or None")
        if self.analysis not in ("auto", "composed", "model"):
            raise ConfigError('analysis must be "auto", "composed" or "model"')
        if self.evidence not in ("sentence", "quote"):
            raise ConfigError('evidence must be "sentence" or "quote"')
        if self.fact_text not in ("auto", "sentence", "written"):
            raise ConfigError('fact_text must be "auto", "sentence" or "written"')
        if self.summary not in ("auto", "sentences", "written"):
            raise ConfigError('summary must be "auto", "sentences" or "written"')
        for name, value in (("fact_text", "sentence"), ("summary", "sentences")):
            if getattr(self, name) == value and self.evidence == "quote":
                raise ConfigError(
                    f'{name} "{value}" cites numbered sentences: not with evidence "quote"'
                )
        if self.pack_tokens < 200:
            raise ConfigError("pack_tokens must be at least 200")

    @classmethod
    def given(cls, settings: object) -> Settings:
        """``settings`` as passed to a public function: None → the defaults; not a Settings →
        a ``ConfigError`` (a dict or keyword mix-up fails here, not deep inside a run)."""
        if settings is None:
            return cls()
        if not isinstance(settings, Settings):
            raise ConfigError(
                f"settings must be an analyst.Settings, not {type(settings).__name__}"
            )
        return settings

    @property
    def uses_local(self) -> bool:
        """Whether the embedded model serves: asked for by name or path, or nothing else is set."""
        if self.model_path is not None or (self.model or "").startswith("local"):
            return True
        return self.base_url is None and self.api_key is None

    @property
    def model_name(self) -> str:
        """The model to ask for: as set; OpenAI's default for OpenAI; else "" (ask the server)."""
        if self.uses_local:
            if self.model_path is not None:
                return self.model_path.stem
            return (self.model or "local").removeprefix("local").removeprefix(":") or LOCAL_DEFAULT
        if self.model:
            return self.model
        return DEFAULT_OPENAI_MODEL if self.base_url is None else ""

    @property
    def effective_timeout(self) -> float:
        """Seconds a request may go without a word from the server (longer while the server
        says it is at work: see ``analyst.model.patience``): as set, else 120 for a server, 900
        for the embedded CPU model."""
        if self.timeout is not None:
            return self.timeout
        return 900.0 if self.uses_local else 120.0

    @property
    def effective_context_window(self) -> int:
        """The context window in tokens: as set, else known for the model, else 8192."""
        if self.context_window is not None:
            return self.context_window
        return KNOWN_CONTEXT_WINDOWS.get(self.model_name, DEFAULT_CONTEXT_WINDOW)

    @property
    def backend(self) -> str:
        """``local`` (embedded), ``openai`` (OpenAI's API) or ``openai-compatible``."""
        if self.uses_local:
            return "local"
        if self.base_url is None or "api.openai.com" in self.base_url:
            return "openai"
        return "openai-compatible"

    def fetch_limits(self) -> Limits:
        """What fetching an article may take (``reading.fetch.fetch``'s limits)."""
        return {
            "timeout": self.fetch_timeout,
            "max_bytes": self.max_download_bytes,
            "allow_private": self.allow_private_urls,
        }

    def identity(self, model: str) -> str:
        """What makes replies of ``model`` comparable across runs: backend, server, model file."""
        where = redact_url(self.base_url or "")
        if self.model_path is not None:
            try:
                stat = self.model_path.stat()
                where = f"{self.model_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
            except OSError:
                where = str(self.model_path)
        return f"{self.backend}|{where}|{model}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from environment variables, then ``overrides`` (CLI flags) on top.

        Reads ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``ANALYST_MODEL``, ``ANALYST_MODEL_PATH``,
        ``ANALYST_CACHE_DIR`` and ``ANALYST_CONTEXT_WINDOW``. ``None`` overrides are ignored.
        """
        values: dict[str, Any] = {}
        if environ.get("OPENAI_API_KEY"):
            values["api_key"] = environ["OPENAI_API_KEY"]
        if environ.get("OPENAI_BASE_URL"):
            values["base_url"] = environ["OPENAI_BASE_URL"]
        if environ.get("ANALYST_MODEL"):
            values["model"] = environ["ANALYST_MODEL"]
        if environ.get("ANALYST_MODEL_PATH"):
            values["model_path"] = Path(environ["ANALYST_MODEL_PATH"])
        if environ.get("ANALYST_CACHE_DIR"):
            values["cache_dir"] = Path(environ["ANALYST_CACHE_DIR"])
        if environ.get("ANALYST_CONTEXT_WINDOW"):
            try:
                values["context_window"] = int(environ["ANALYST_CONTEXT_WINDOW"])
            except ValueError:
                raise ConfigError("ANALYST_CONTEXT_WINDOW must be an integer") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
