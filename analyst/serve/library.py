"""The library's routes in ``analyst serve``: the page that lists, searches and digests the kept
reports, and the same as JSON.

- ``GET /library`` the page (``?q=&site=&language=&since=&until=&offset=``); it reads the
  folder again first when the last look is over five seconds old;
- ``POST /library/rescan`` (a form) reads the folder now, and goes back to the page;
- ``POST /library/digest`` (a form of ``ids``, and ``prose``) the digest of those reports, as
  its HTML page; ``POST /library/remove`` (a form of ``ids``) lets the kept ones go;
- ``GET /v1/library`` a page of the list or search, with the filters' sites and languages;
- ``GET /v1/library/{id}`` one report, ``DELETE`` lets it go (409 for a file of the folder);
  ``POST /v1/library/rescan``; ``POST /v1/library/digest`` (JSON ``{"ids": [...], "prose":
  true}``) the digest as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from analyst.digest import Digest
from analyst.errors import AnalystError, ConfigError, InputError
from analyst.library import Found, Query, scan, scan_if_stale
from analyst.output.digest import to_html as digest_html
from analyst.output.html import render
from analyst.schema import Report
from analyst.serve.jobs import Jobs

MAX_DIGEST = 100  # reports in one digest
PARAMS = ("q", "site", "language", "since", "until", "limit", "offset")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _query(request: Request) -> Query:
    given = request.query_params
    return Query.of(
        given.get("q"),
        site=given.get("site"),
        language=given.get("language"),
        since=given.get("since"),
        until=given.get("until"),
        limit=given.get("limit"),
        offset=given.get("offset"),
    )


async def _found(jobs: Jobs, query: Query) -> tuple[Found, dict[str, list[tuple[str, int]]]]:
    """The folder looked at (when it is time), the search, and the filters' choices: in one
    worker thread."""
    library = jobs.library

    def look() -> tuple[Found, dict[str, list[tuple[str, int]]]]:
        scan_if_stale(library)
        return library.search(query), library.facets()

    return await asyncio.to_thread(look)


async def _selected(jobs: Jobs, ids: list[Any]) -> list[tuple[Report, str | None]]:
    """The reports of ``ids``, in order, each with where the API serves it; an unknown id is a
    ``LookupError`` that names it."""
    if not ids or not all(isinstance(i, str) for i in ids):
        raise InputError("choose at least one report: ids is a list of report ids")
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_DIGEST:
        raise InputError(f"a digest takes at most {MAX_DIGEST} reports")
    chosen: list[tuple[Report, str | None]] = []
    for id in ids:
        report = await asyncio.to_thread(jobs.library.get, id)
        if report is None:
            raise LookupError(f"no report {id[:64]!r} in the library")
        chosen.append((report, f"/v1/library/{id}"))  # where the digest's reader finds it
    return chosen


def routes(jobs: Jobs) -> list[Route]:
    """The library's routes, on ``jobs``'s library (and its slots, for a digest's prose)."""

    async def listed(request: Request) -> Response:
        try:
            found, facets = await _found(jobs, _query(request))
        except ConfigError as exc:
            return _error(exc.http_status, str(exc))
        body = {
            "reports": [e.as_json() for e in found.entries],
            "total": found.total,
            "offset": found.query.offset,
            "limit": found.query.limit,
            "facets": {k: [{"name": n, "count": c} for n, c in v] for k, v in facets.items()},
        }
        return JSONResponse(body)

    async def one(request: Request) -> Response:
        report = await asyncio.to_thread(jobs.library.get, request.path_params["id"])
        if report is None:
            return _error(404, "no such report in the library")
        return Response(report.model_dump_json(), media_type="application/json")

    async def remove(request: Request) -> Response:
        try:
            gone = await asyncio.to_thread(jobs.library.remove, request.path_params["id"])
        except ConfigError as exc:
            return _error(409, str(exc))
        if not gone:
            return _error(404, "no such report in the library")
        jobs.forget(request.path_params["id"])  # nor is it served from memory any more
        return Response(status_code=204)

    async def remove_chosen(request: Request) -> Response:
        async with request.form(max_files=0, max_fields=MAX_DIGEST + 2) as form:
            ids = [v for v in form.getlist("ids") if isinstance(v, str)][:MAX_DIGEST]
        for id in ids:
            with contextlib.suppress(ConfigError):  # a file of the folder stays
                if await asyncio.to_thread(jobs.library.remove, id):
                    jobs.forget(id)
        return RedirectResponse("/library", status_code=303)

    async def rescan(request: Request) -> Response:
        scanned = await asyncio.to_thread(scan, jobs.library)
        if request.url.path.startswith("/v1/"):
            return JSONResponse(scanned.as_json())
        return RedirectResponse("/library", status_code=303)

    async def digest(request: Request) -> Response:
        as_json = request.url.path.startswith("/v1/")
        try:
            ids, prose = await _digest_ask(request, as_json)
            made: Digest = await jobs.digest(await _selected(jobs, ids), prose=prose)
        except LookupError as exc:
            return _refused(as_json, 404, str(exc).strip("'\""))
        except AnalystError as exc:
            return _refused(as_json, exc.http_status, str(exc))
        if as_json:
            return Response(made.model_dump_json(), media_type="application/json")
        return HTMLResponse(digest_html(made))

    async def page(request: Request) -> Response:
        problem: str | None = None
        try:
            query = _query(request)
        except ConfigError as exc:
            query, problem = Query(), str(exc)
        found, facets = await _found(jobs, query)
        given = {k: v for k, v in request.query_params.items() if k in PARAMS and v}
        pages = {
            "newer": _page_link(given, query.offset - query.limit) if query.offset else None,
            "older": _page_link(given, query.offset + query.limit)
            if query.offset + query.limit < found.total
            else None,
        }
        folder = jobs.library.folder
        return HTMLResponse(
            render(
                "library.html",
                connect=True,
                found=found,
                facets=facets,
                query=query,
                problem=problem,
                pages=pages,
                folder=str(folder) if folder is not None else None,
                pieces=_pieces,
            )
        )

    return [
        Route("/library", page),
        Route("/library/rescan", rescan, methods=["POST"]),
        Route("/library/digest", digest, methods=["POST"]),
        Route("/library/remove", remove_chosen, methods=["POST"]),
        Route("/v1/library", listed),
        Route("/v1/library/rescan", rescan, methods=["POST"]),
        Route("/v1/library/digest", digest, methods=["POST"]),
        Route("/v1/library/{id}", one, methods=["GET"]),
        Route("/v1/library/{id}", remove, methods=["DELETE"]),
    ]


async def _digest_ask(request: Request, as_json: bool) -> tuple[list[Any], bool]:
    """The ids and the prose switch of a digest request (JSON, or the page's form)."""
    if as_json:
        try:
            fields = json.loads(await request.body())
        except (ValueError, RecursionError):
            raise InputError("the request is not JSON") from None
        if not isinstance(fields, dict) or not isinstance(fields.get("ids"), list):
            raise InputError('send {"ids": ["…", …], "prose": true}')
        prose = fields.get("prose", True)
        if not isinstance(prose, bool):
            raise ConfigError("prose must be true or false")
        return fields["ids"], prose
    async with request.form(max_files=0, max_fields=MAX_DIGEST + 2) as form:
        ids = [v for v in form.getlist("ids") if isinstance(v, str)]
        return ids, form.get("prose") == "true"


def _refused(as_json: bool, status: int, message: str) -> Response:
    """A refused digest: JSON for the API, a page with the way back for the page's form."""
    if as_json:
        return _error(status, message)
    return HTMLResponse(render("refused.html", message=message), status_code=status)


def _page_link(given: dict[str, str], offset: int) -> str:
    return "/library?" + urlencode({**given, "offset": max(offset, 0)})


def _pieces(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """A snippet as pieces, each marked or not, for the template to escape and mark."""
    out, at = [], 0
    for start, end in spans:
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out
