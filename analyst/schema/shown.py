"""How a report or a digest shows itself in a notebook: Jupyter asks the object for
``_repr_html_`` and ``_repr_markdown_``; the views that answer are the output layer's (it
registers them: ``analyst.output.notebook``), so the schema imports no view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Render = Callable[[Any], str]
_VIEWS: dict[tuple[type, str], Render] = {}


def show_as(kind: type, mime: str, render: Render) -> None:
    """Show objects of ``kind`` as ``mime`` (``text/html``, ``text/markdown``) with ``render``."""
    _VIEWS[(kind, mime)] = render


class Shown:
    """A model a notebook shows as its HTML page and as Markdown."""

    def _repr_html_(self) -> str | None:
        return _view(self, "text/html")

    def _repr_markdown_(self) -> str | None:
        return _view(self, "text/markdown")


def _view(shown: object, mime: str) -> str | None:
    render = next((r for (k, m), r in _VIEWS.items() if m == mime and isinstance(shown, k)), None)
    return render(shown) if render else None
