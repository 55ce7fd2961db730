"""Outputs: a report or a digest in a ``Format``, rendered by ``render`` (``formats``): JSON and
Markdown (``plain``), a self-contained HTML page (``html``), the rich terminal view (``terminal``);
the digest's views (``digest``); the pieces the report's views share (``pieces``)."""

# Registers how a Report and a Digest show themselves in a notebook (``output.notebook``): any
# import of analyst loads this package, so the views are there before an object is shown.
from analyst.output import notebook as _notebook  # noqa: E402,F401
