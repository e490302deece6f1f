"""The OpenAPI 3 description of the HTTP API, written by hand (small, and no YAML dependency)."""

from __future__ import annotations

from typing import Any

from platewise import __version__

__all__ = ["DOCS_HTML", "openapi_spec"]

_ERR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_BIN = {"type": "string", "format": "binary"}


def openapi_spec() -> dict[str, Any]:
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}, "example": "alpr"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "platewise model server", "version": __version__},
        "paths": {
            "/v1/models/{name}/predict": {
                "post": {
                    "summary": "Run a model on one or more inputs",
                    "parameters": [
                        name,
                        {"name": "X-Shape", "in": "header", "schema": {"type": "string"}, "example": "1080,1920,3"},
                        {"name": "X-Dtype", "in": "header", "schema": {"type": "string"}, "example": "uint8"},
                        {"name": "X-Timeout-Ms", "in": "header", "schema": {"type": "number"}},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "image/jpeg": {"schema": _BIN},
                            "image/png": {"schema": _BIN},
                            "application/octet-stream": {"schema": _BIN},
                            "multipart/form-data": {
                                "schema": {"type": "object", "properties": {"image": _BIN}},
                            },
                            "application/json": {"schema": {"$ref": "#/components/schemas/JsonInputs"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "one output per input",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Outputs"}}},
                        },
                        "400": _ERR,
                        "401": _ERR,
                        "404": _ERR,
                        "413": _ERR,
                        "415": _ERR,
                        "503": _ERR,
                        "504": _ERR,
                    },
                }
            },
            "/v1/models": {"get": {"summary": "Served and broken models", "responses": {"200": {"description": "ok"}}}},
            "/v1/models/{name}": {
                "get": {
                    "summary": "One model's input/output description",
                    "parameters": [name],
                    "responses": {"200": {"description": "ok"}, "404": _ERR},
                }
            },
            "/v1/worker": {
                "get": {"summary": "pid, worker index and count", "responses": {"200": {"description": "ok"}}}
            },
            "/v1/reads": {
                "get": {
                    "summary": "Plate reads from the store (needs --store-db)",
                    "parameters": [
                        {"name": "pattern", "in": "query", "schema": {"type": "string"}, "example": "AB%"},
                        {"name": "regex", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "fuzzy", "in": "query", "schema": {"type": "number"}},
                        {"name": "since", "in": "query", "schema": {"type": "string"}, "example": "1h"},
                        {"name": "until", "in": "query", "schema": {"type": "string"}},
                        {"name": "source", "in": "query", "schema": {"type": "string"}},
                        {"name": "min_confidence", "in": "query", "schema": {"type": "number"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
                    ],
                    "responses": {"200": {"description": "ok"}, "400": _ERR, "503": _ERR},
                }
            },
            "/healthz": {"get": {"summary": "Process is up", "responses": {"200": {"description": "ok"}}}},
            "/readyz": {
                "get": {
                    "summary": "Models loaded and warmed, not draining",
                    "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
                }
            },
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "ok"}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
                },
                "JsonInputs": {
                    "type": "object",
                    "properties": {
                        "inputs": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "b64": {"type": "string", "format": "byte"},
                                    "shape": {"type": "array", "items": {"type": "integer"}},
                                    "dtype": {"type": "string"},
                                },
                                "required": ["b64"],
                            },
                        },
                        "args": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    "required": ["inputs"],
                },
                "Outputs": {
                    "type": "object",
                    "properties": {
                        "model": {"type": "string"},
                        "worker_pid": {"type": "integer"},
                        "outputs": {"type": "array", "items": {}},
                    },
                },
            },
        },
        "security": [{"bearer": []}],
    }


DOCS_HTML = """<!doctype html>
<html><head><title>platewise model server</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"><p>API description: <a href="/openapi.json">/openapi.json</a>
(the interactive viewer below loads swagger-ui from unpkg.com).</p></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>window.onload = () => SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>
"""
