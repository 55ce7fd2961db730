"""The Starlette application of ``analyst serve``.

Routes (all behind ``guard.Guard``):

- ``GET /`` the page: paste text, give a URL or upload a file, watch the stages, read the report;
- ``POST /v1/reports`` a report: JSON ``{"text"|"url", options...}`` or a multipart form
  (``file``, ``text`` or ``url``, options); it waits for the report (200, the Report) unless
  ``?wait=false`` (202 and where to look);
- ``GET /v1/reports`` the recent reports; ``GET /v1/reports/{id}`` one: 200 and the Report when
  done, 202 and its stage while it runs, its error's status and message when it failed;
- ``GET /reports/{id}`` the report as its HTML page (both read the library for a report no
  longer in memory: one made before a restart, or a file of the library's folder);
- ``/library`` and ``/v1/library…``: the kept reports, searched and digested (``serve.library``);
- ``GET /healthz``; ``GET /openapi.json`` and ``GET /docs``.

Errors are ``{"error": message}`` with the CLI's wording and the error class's HTTP status
(``AnalystError.http_status``); a full queue is 429 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from analyst.errors import ConfigError, InputError
from analyst.library import Library
from analyst.output.html import render, to_html
from analyst.schema import Report
from analyst.serve.guard import Guard
from analyst.serve.jobs import OPTIONS, SWITCHES, Ask, Full, Job, Jobs
from analyst.serve.library import routes as library_routes
from analyst.serve.openapi import openapi_document
from analyst.serve.protocol import (
    BODY_SECONDS,
    HEADER_SECONDS,
    DeadlineProtocol,
    connection_limit,
    quiet_errors,
)
from analyst.settings import Settings


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _report(report: Report, id: str, status: int = 200) -> Response:
    headers = {"Location": f"/v1/reports/{id}", "X-Report-Id": id}
    body = report.model_dump_json()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _truthy(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (
        "1",
        "true",
        "on",
        "yes",
        "0",
        "false",
        "off",
        "no",
        "",
    ):
        return value.lower() in ("1", "true", "on", "yes")
    raise ConfigError(f"{name} must be true or false")


# The most characters a field other than the article may have: a 15 MB "name" was kept with
# its job and listed whole by GET /v1/reports.
FIELD_CAPS = {
    "name": 255,
    "url": 8192,
    "language": 64,
    "analysis": 16,
    "fact_text": 16,
    "summary": 16,
}


def _capped(fields: dict[str, Any], name: Any) -> None:
    """Refuse a field over its cap, or a name that is not text."""
    if name is not None and not isinstance(name, str):
        raise InputError("name must be a string")
    for field, cap in FIELD_CAPS.items():
        value = name if field == "name" else fields.get(field)
        if isinstance(value, str) and len(value) > cap:
            raise InputError(f"{field} is over {cap:,} characters")


def _options(fields: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name in OPTIONS:
        value = fields.get(name)
        if value is None or value == "":
            continue
        options[name] = _truthy(value, name) if name in SWITCHES else str(value)
    return {k: v for k, v in options.items() if v is not False}


async def _ask(request: Request) -> Ask:
    """The article and options of a POST, as JSON or as a form (with an uploaded file)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            fields = json.loads(await request.body())
        except ValueError as exc:
            raise InputError(f"the request is not JSON: {exc}") from None
        except RecursionError:  # 100,000 nested arrays: no request is shaped so
            raise InputError("the request's JSON is nested too deeply") from None
        if not isinstance(fields, dict):
            raise InputError("the request must be a JSON object")
        upload: bytes | None = None
        name = fields.get("name")
    elif kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # As a context manager: the uploaded file's temporary copy is closed at the end.
        async with request.form(max_files=1, max_fields=20) as form:
            fields = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
            file = form.get("file")
            has_file = isinstance(file, UploadFile) and bool(file.filename)
            upload = await file.read() if isinstance(file, UploadFile) and has_file else None
            name = file.filename if isinstance(file, UploadFile) and has_file else None
    else:
        raise InputError("send the article as JSON or as a form (multipart/form-data)")
    text, url = fields.get("text") or None, fields.get("url") or None
    given = [x for x in (text, url, upload) if x is not None]
    if len(given) != 1:
        raise InputError("give exactly one of text, url or file")
    if (
        url is not None
        and not isinstance(url, str)
        or text is not None
        and not isinstance(text, str)
    ):
        raise InputError("text and url must be strings")
    unknown = set(fields) - {"text", "url", "name", *OPTIONS}
    if unknown:
        raise ConfigError(f"unknown fields {', '.join(sorted(unknown))[:200]}")
    _capped(fields, name)
    return Ask(
        text=upload if upload is not None else text, url=url, name=name, options=_options(fields)
    )


def create_app(
    settings: Settings,
    *,
    client: Any = None,
    concurrency: int = 2,
    queue: int = 8,
    keep: int = 200,
    max_request_bytes: int = 16 * 2**20,
    token: str | None = None,
    loopback: bool = True,
    body_seconds: float = BODY_SECONDS,
    library: Library | None = None,
) -> Any:
    """The app, guarded; its ``state.jobs`` runs the reports and keeps them in ``library``
    (``None``: a library in memory, gone with the process)."""
    jobs = Jobs(
        settings,
        client=client,
        concurrency=concurrency,
        queue=queue,
        keep=keep,
        library=library,
    )

    async def create(request: Request) -> Response:
        try:
            ask = await _ask(request)
            job = jobs.submit(ask)
        except Full as full:
            return _error(429, str(full), {"Retry-After": str(full.retry_after)})
        except (ConfigError, InputError) as exc:
            return _error(exc.http_status, str(exc))
        if request.query_params.get("wait", "true").lower() in ("false", "0", "no"):
            body = {**job.summary(), "links": _links(job)}
            return JSONResponse(
                body, status_code=202, headers={"Location": f"/v1/reports/{job.id}"}
            )
        await jobs.wait(job)
        return _outcome(job)

    async def recent(request: Request) -> Response:
        # A page at a time: the list holds up to ``keep`` jobs.
        try:
            limit = min(max(int(request.query_params.get("limit", "100")), 1), 1000)
            offset = max(int(request.query_params.get("offset", "0")), 0)
        except ValueError:
            return _error(400, "limit and offset must be whole numbers")
        listed = list(reversed(jobs.jobs.values()))
        page = [j.summary() for j in listed[offset : offset + limit]]
        return JSONResponse({"reports": page, "total": len(listed), "offset": offset})

    async def one(request: Request) -> Response:
        job = jobs.jobs.get(request.path_params["id"])
        if job is None:
            kept = await asyncio.to_thread(jobs.library.get, request.path_params["id"])
            if kept is None:
                return _error(404, "no such report")
            return _report(kept, request.path_params["id"])
        if job.status in ("queued", "running"):
            return JSONResponse({**job.summary(), "links": _links(job)}, status_code=202)
        return _outcome(job)

    async def page(request: Request) -> Response:
        job = jobs.jobs.get(request.path_params["id"])
        report = job.report if job is not None else None
        if job is None:
            report = await asyncio.to_thread(jobs.library.get, request.path_params["id"])
        if report is None:
            return HTMLResponse("<!doctype html><title>analyst</title><p>No such report.</p>", 404)
        return HTMLResponse(await asyncio.to_thread(to_html, report))

    async def home(request: Request) -> Response:
        info = jobs.base.client.info
        return HTMLResponse(
            render(
                "serve.html",
                connect=True,
                model=info.model,
                backend=info.backend,
                kept=await asyncio.to_thread(len, jobs.library),
            )
        )

    async def health(request: Request) -> Response:
        info = jobs.base.client.info
        running = sum(1 for j in jobs.jobs.values() if j.status == "running")
        body = {
            "status": "ok",
            "model": info.model,
            "backend": info.backend,
            "running": running,
            "queued": jobs.pending - running,
            "concurrency": concurrency,
            "queue": queue,
        }
        return JSONResponse(body)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def docs(request: Request) -> Response:
        return HTMLResponse(render("docs.html", api=openapi_document()))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await jobs.start()
        yield
        await jobs.close()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/v1/reports", create, methods=["POST"]),
            Route("/v1/reports", recent, methods=["GET"]),
            Route("/v1/reports/{id}", one),
            Route("/reports/{id}", page),
            Route("/healthz", health),
            Route("/openapi.json", openapi),
            Route("/docs", docs),
            *library_routes(jobs),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    app.state.jobs = jobs
    return Guard(
        app, limit=max_request_bytes, token=token, loopback=loopback, body_seconds=body_seconds
    )


def server(
    app: Any,
    *,
    host: str,
    port: int,
    verbose: bool = False,
    header_seconds: float = HEADER_SECONDS,
) -> Any:
    """uvicorn's server for ``app`` as ``analyst serve`` runs it (``serve.protocol``): a
    deadline for each request's headers, connections held below the file limit."""
    import uvicorn

    protocol = type("Deadline", (DeadlineProtocol,), {"header_seconds": header_seconds})
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        limit_concurrency=connection_limit(),
        log_level="info" if verbose else "warning",
        access_log=verbose,
        server_header=False,
    )
    return uvicorn.Server(config)


async def serve_forever(running: Any) -> None:
    """Run a ``server(...)`` with the event loop's errors logged once a minute per kind."""
    asyncio.get_running_loop().set_exception_handler(quiet_errors)
    await running.serve()


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, a method it does not take, a form over its
    limits) in the API's ``{"error": …}`` shape, not as plain text."""
    assert isinstance(exc, HTTPException)
    detail = {404: "no such route", 405: "this route does not take that method"}
    message = detail.get(exc.status_code) or str(exc.detail)
    return _error(exc.status_code, message, dict(exc.headers or {}))


def _outcome(job: Job) -> Response:
    if job.report is not None:
        return _report(job.report, job.id)
    return _error(job.http_status, job.error or "failed")


def _links(job: Job) -> dict[str, str]:
    return {"self": f"/v1/reports/{job.id}", "html": f"/reports/{job.id}"}
