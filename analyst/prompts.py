"""Prompt files: every prompt text analyst sends, one file each, loaded by name.

Their source is the repository's top-level ``prompts/`` folder; the wheel ships it as the
``analyst._prompts`` package (see ``pyproject.toml``). ``--prompts DIR`` overrides any of them.

Every ``*.md`` file of the folder is a prompt, named by its file name; the stage that renders it
declares it (``Stage.prompts``), and a test holds the two together. Templates use ``$name``
placeholders (``$$`` for a literal dollar sign). Rendering with a variable missing fails with the
variable's and the file's names. The hash of all prompt texts (in name order) goes into every
report, so a report says exactly which prompts wrote it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from analyst.errors import ConfigError


@functools.cache
def _packaged() -> tuple[tuple[str, str], ...]:
    folder: Traversable
    try:
        folder = resources.files("analyst._prompts")
    except ModuleNotFoundError:  # a source checkout on sys.path, not installed
        folder = Path(__file__).resolve().parent.parent / "prompts"
    found = sorted(f.name for f in folder.iterdir() if f.name.endswith(".md") and f.is_file())
    return tuple((name[:-3], folder.joinpath(name).read_text("utf-8")) for name in found)


@dataclass(frozen=True)
class Prompts:
    """The prompt templates in use, and their combined hash."""

    templates: dict[str, str]
    sha256: str

    @classmethod
    def load(cls, override_dir: Path | None = None) -> Prompts:
        """The packaged prompts, each replaced by ``override_dir/<name>.md`` where that exists."""
        templates = dict(_packaged())
        if override_dir is not None:
            if not override_dir.is_dir():
                raise ConfigError(f"prompts folder {override_dir} does not exist")
            for name in list(templates):
                path = override_dir / f"{name}.md"
                if path.is_file():
                    try:
                        templates[name] = path.read_text("utf-8")
                    except (OSError, UnicodeDecodeError) as exc:
                        raise ConfigError(f"cannot read prompt {path}: {exc}") from None
        digest = hashlib.sha256()
        for name in sorted(templates):
            digest.update(name.encode() + b"\0" + templates[name].encode() + b"\0")
        return cls(templates=templates, sha256=digest.hexdigest())

    def system(self, tasks: Sequence[str] = ()) -> str:
        """The system text of every call: the rules (``system.md``), then each task described.

        All tasks travel in the one system text so that every call of every article begins
        with the same tokens: llama.cpp computes them once per slot (and restores them from a
        saved slot in later processes), OpenAI bills them at its cached rate. A call then ends
        with a short request that names its task. Which tasks, in which order, the stages say
        (``analyst.pipeline.system_tasks``).
        """
        return "\n\n".join([self.render("system"), *(self.render(name) for name in tasks)])

    def reask(self, error: str) -> str:
        """The message that re-asks after an invalid reply (``reask.md``), given the error."""
        return self.render("reask", error=error)

    def render(self, name: str, **variables: str) -> str:
        """Fill template ``name``; a placeholder without a value is a ``ConfigError``."""
        if name not in self.templates:
            raise ConfigError(f"there is no prompt file {name}.md")
        try:
            return Template(self.templates[name]).substitute(variables).strip()
        except KeyError as exc:
            raise ConfigError(
                f"prompt {name}.md uses ${exc.args[0]}, which analyst does not provide "
                f"(it provides: {', '.join(sorted(variables)) or 'nothing'})"
            ) from None
        except ValueError as exc:
            raise ConfigError(f"prompt {name}.md has a bad placeholder: {exc}") from None
