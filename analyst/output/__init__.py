"""Outputs: a report or a digest in a ``Format``, rendered by ``render`` (``formats``): JSON and
Markdown (``plain``), a self-contained HTML page (``html``), the rich terminal view (``terminal``);
the digest's views (``digest``); the pieces the report's views share (``pieces``)."""
