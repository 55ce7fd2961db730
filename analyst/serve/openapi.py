"""The OpenAPI 3.1 description of ``analyst serve``'s API (``/openapi.json``, ``/docs``)."""

from __future__ import annotations

from typing import Any

from analyst.digest import Digest
from analyst.library.query import MAX_LIMIT, MAX_OFFSET
from analyst.schema import Report
from analyst.serve.jobs import request_flags
from analyst.serve.library import MAX_DIGEST


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
    digest = Digest.model_json_schema(ref_template="#/components/schemas/{model}")
    defs.update(digest.pop("$defs", {}))  # the two share ModelInfo and Usage, alike
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
            **_library(report, error),
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
                "Digest": digest,
                "Entry": _ENTRY,
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


_ENTRY: dict[str, Any] = {
    "type": "object",
    "description": "a report as the library lists it",
    "properties": {
        "id": {"type": "string"},
        "title": {"type": ["string", "null"]},
        "site": {"type": ["string", "null"]},
        "date": {"type": ["string", "null"], "description": "the article's day, YYYY-MM-DD"},
        "language": {"type": ["string", "null"]},
        "source": {"type": ["string", "null"], "description": "its URL or file"},
        "facts": {"type": "integer", "description": "grounded facts"},
        "summary": {"type": "string"},
        "added": {"type": "number", "description": "when the library took it (Unix time)"},
        "file": {"type": ["string", "null"], "description": "its file in the library's folder"},
        "snippet": {"type": ["string", "null"], "description": "where the search words are"},
        "highlights": {
            "type": "array",
            "description": "[start, end) of each match in the snippet",
            "items": {"type": "array", "items": {"type": "integer"}},
        },
        "links": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["id", "title", "facts", "summary", "links"],
}


def _library(report: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    """The library's operations (``serve.library``)."""

    def query(name: str, description: str, **schema: Any) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "schema": {"type": "string", **schema},
            "description": description,
        }

    page = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
    day = {"format": "date"}
    found = {
        "type": "object",
        "properties": {
            "reports": {"type": "array", "items": {"$ref": "#/components/schemas/Entry"}},
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "facets": {"type": "object", "description": "the sites and languages, with counts"},
        },
        "required": ["reports", "total", "offset", "limit", "facets"],
    }
    digest = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Digest"}}}}
    return {
        "/v1/library": {
            "get": {
                "summary": "The kept reports: listed, newest first, or searched",
                "parameters": [
                    query(
                        "q",
                        "words in the title, summary, facts, notes or names; all must "
                        "match, the last may be a word's start",
                    ),
                    query("site", "only this site"),
                    query("language", "only this language (ISO 639-1)"),
                    query("since", "only articles of this day or later", **day),
                    query("until", "only articles of this day or earlier", **day),
                    {
                        **query("limit", "reports in one page"),
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": 50,
                        },
                    },
                    {**query("offset", "reports to pass over"), "schema": page},
                ],
                "responses": {
                    "200": {
                        "description": "one page of them",
                        "content": {"application/json": {"schema": found}},
                    },
                    "400": {"description": "a bad date, limit or offset", **error},
                },
            }
        },
        "/v1/library/{id}": {
            "get": {
                "summary": "One kept report",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "the report", **report},
                    "404": {"description": "not in the library", **error},
                },
            },
            "delete": {
                "summary": "Let a kept report go",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "204": {"description": "gone"},
                    "404": {"description": "not in the library", **error},
                    "409": {"description": "a file of the library's folder: delete it", **error},
                },
            },
        },
        "/v1/library/rescan": {
            "post": {
                "summary": "Read the library's folder again: new, changed and removed report files",
                "responses": {"200": {"description": "added, updated, removed, skipped, reports"}},
            }
        },
        "/v1/library/digest": {
            "post": {
                "summary": "The digest of kept reports",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "ids": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "minItems": 1,
                                        "maxItems": MAX_DIGEST,
                                    },
                                    "prose": {
                                        "type": "boolean",
                                        "default": True,
                                        "description": "the model writes the summary and "
                                        "analysis (false: the facts matched, no model call)",
                                    },
                                },
                                "required": ["ids"],
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "the digest", **digest},
                    "400": {"description": "a bad option", **error},
                    "404": {"description": "a report not in the library", **error},
                    "413": {"description": "the reports do not fit the model's context", **error},
                    "422": {"description": "no report chosen, or too many", **error},
                    "429": {"description": "the model's budget is spent", **error},
                    "502": {"description": "the model server failed", **error},
                },
            }
        },
    }
