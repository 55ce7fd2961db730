"""``analyst serve``: the report as a local web service — a page to paste, link or upload an
article and read its HTML report, and a JSON API (``POST /v1/reports``) with OpenAPI docs.

``jobs`` runs reports on one shared model client and call cache with a bounded queue; ``guard``
holds the ASGI middleware that limits request bodies and checks the bearer token and the Host;
``app`` makes the Starlette application. The server-only dependencies are the ``serve`` extra.
"""
