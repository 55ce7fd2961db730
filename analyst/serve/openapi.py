"""The OpenAPI 3.1 description of ``analyst serve``'s API (``/openapi.json``, ``/docs``)."""

from __future__ import annotations

from typing import Any

from analyst.schema import Report
from analyst.serve.jobs import request_flags


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 description, with the Report's JSON Schema."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    report = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}}
    options: dict[str, Any] = {
        "language": {"type": "string", "description": "write the report in this language"},
        "keep_ungrounded": {
            "type": "boolean",
            "description": "keep facts whose quote was not found",
        },
    }
    for flag in request_flags():
        option: dict[str, Any] = {"type": "boolean" if flag.switch else "string"}
        if flag.choices:
            option["enum"] = list(flag.choices)
        options[flag.setting] = {**option, "description": flag.brief or flag.help}
    ask: dict[str, Any] = {
        "type": "object",
        "description": "exactly one of text, url (or, as a form, file)",
        "properties": {
            "text": {"type": "string", "description": "the article: text, HTML or Markdown"},
            "url": {"type": "string", "format": "uri", "description": "an http(s) page to fetch"},
            "name": {"type": "string", "description": "a file name for the text"},
            **options,
        },
        "oneOf": [{"required": ["text"]}, {"required": ["url"]}],
    }
    form = {
        **ask,
        "properties": {**ask["properties"], "file": {"type": "string", "format": "binary"}},
        "oneOf": [{"required": ["text"]}, {"required": ["url"]}, {"required": ["file"]}],
    }
    schema = Report.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "analyst",
            "version": "1",
            "description": "Reports on news articles, each fact proved by a quote.",
        },
        "paths": {
            "/v1/reports": {
                "post": {
                    "summary": "Write the report of one article",
                    "parameters": [
                        {
                            "name": "wait",
                            "in": "query",
                            "schema": {"type": "boolean", "default": True},
                            "description": "false: answer 202 at once and poll /v1/reports/{id}",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": ask},
                            "multipart/form-data": {"schema": form},
                        },
                    },
                    "responses": {
                        "200": {"description": "the report", **report},
                        "202": {"description": "queued (wait=false)"},
                        "400": {"description": "a bad option", **error},
                        "413": {"description": "the request or the article is too large", **error},
                        "422": {"description": "the article cannot be read", **error},
                        "429": {"description": "the queue is full; see Retry-After", **error},
                        "502": {
                            "description": "the model server failed, or its replies stayed invalid",
                            **error,
                        },
                    },
                },
                "get": {
                    "summary": "The recent reports",
                    "responses": {"200": {"description": "id, status, stage, title, source"}},
                },
            },
            "/v1/reports/{id}": {
                "get": {
                    "summary": "One report",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "the report", **report},
                        "202": {"description": "still running: its stage"},
                        "404": {"description": "unknown", **error},
                    },
                }
            },
            "/reports/{id}": {
                "get": {
                    "summary": "One report as its HTML page",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "HTML", "content": {"text/html": {}}},
                        "404": {"description": "unknown", "content": {"text/html": {}}},
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness, the model, the queue",
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
        "components": {
            "schemas": {
                **defs,
                "Report": schema,
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
