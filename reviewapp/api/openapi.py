"""The JSON API's contract: an OpenAPI 3.1 document of every endpoint, body and error, served
at /api/v1/openapi.json so that a CRM integrator can generate a client. The tests run
schemathesis against it with a token of each role: no 5xx, no answer outside this document."""

from __future__ import annotations

from typing import Any

from reviewapp.api.services import MAX_ERRORS_RETURNED, MAX_SOURCE_NAME_LENGTH

_ERROR = {"$ref": "#/components/schemas/Error"}


def _answer(description: str, schema: dict | None = None, **headers: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    if headers:
        out["headers"] = headers
    return out


_RETRY_AFTER = {"schema": {"type": "integer", "minimum": 0},
                "description": "Seconds until the limit allows another request."}
_COMMON = {
    "401": _answer("No token, or a token that is not valid or was revoked. The "
                   "WWW-Authenticate header says which.", _ERROR,
                   **{"WWW-Authenticate": {"schema": {"type": "string"}}}),
    "403": _answer("The token's owner is deactivated or may no longer use the API.", _ERROR),
    "429": _answer("Too many requests with this token (or without a valid one from this "
                   "address).", _ERROR, **{"Retry-After": _RETRY_AFTER}),
    "503": _answer("The database is briefly unavailable (restarting, or busy); nothing was "
                   "written. Send the request again after Retry-After seconds.", _ERROR,
                   **{"Retry-After": _RETRY_AFTER}),
}

ROW = {
    "type": "object",
    "description": "One value in the long layout of the import page. Periods: 2026-03-15, "
                   "2026-W11, 2026-03 or 2026-Q1. Other keys are reported as unknown columns.",
    "properties": {
        "rep_email": {"type": "string", "examples": ["rep@example.com"]},
        "period": {"type": "string", "examples": ["2026-Q1"]},
        "metric": {"type": "string", "description": "A metric key of the catalogue.",
                   "examples": ["meetings"]},
        "value": {"type": ["number", "string", "null"],
                  "description": "A finite number between -1e12 and 1e12 (as a number, or as "
                                 "text in the import page's notation)."},
    },
    "required": ["rep_email", "period", "metric", "value"],
}


def document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the API's base URL as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ReviewApp API",
            "version": "1",
            "description": "Push metric values from a CRM, and read the metric catalogue. Every "
                           "request needs `Authorization: Bearer <token>` (a personal token "
                           "from /account/tokens); session cookies never authenticate. An "
                           "import is all or nothing.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/metrics": {"get": {
                "operationId": "listMetrics",
                "summary": "The metric catalogue",
                "responses": {
                    "200": _answer("Every metric, archived ones included.", {
                        "type": "object", "required": ["metrics"],
                        "properties": {"metrics": {"type": "array", "items": {
                            "$ref": "#/components/schemas/Metric"}}}}),
                    **_COMMON,
                },
            }},
            "/observations": {"post": {
                "operationId": "importObservations",
                "summary": "Import metric values, all or nothing",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ImportBody"}}}},
                "responses": {
                    "201": _answer("Every row was written as one import batch.",
                                   {"$ref": "#/components/schemas/BatchSummary"},
                                   Location={"schema": {"type": "string"},
                                             "description": "The batch's page."}),
                    "400": _answer("The body is not JSON of this shape; nothing was written.",
                                   _ERROR),
                    "409": _answer("The rows were imported before, change nothing that is "
                                   "stored, would replace stored values without "
                                   "\"replace\": true, or raced another import; nothing was "
                                   "written.", {
                                       "allOf": [_ERROR], "type": "object",
                                       "properties": {
                                           "duplicate_of": {"type": "integer"},
                                           "changed": {"type": "integer"},
                                           "unchanged": {"type": "integer"}}}),
                    "413": _answer("The body is larger than the import limit.", _ERROR),
                    "422": _answer("Some rows have errors; nothing was written.",
                                   {"$ref": "#/components/schemas/ValidationFailed"}),
                    "507": _answer("The server has run out of storage space; nothing was "
                                   "written. Try again later, or tell its administrator.",
                                   _ERROR),
                    **_COMMON,
                },
            }},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token (ra_…)."}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
                "Metric": {"type": "object", "required": [
                    "key", "name", "unit", "kind", "direction", "rollup", "kpi_status",
                    "archived"], "properties": {
                    "key": {"type": "string"}, "name": {"type": "string"},
                    "unit": {"type": ["string", "null"]},
                    "kind": {"enum": ["activity", "outcome"]},
                    "direction": {"enum": ["higher", "lower"]},
                    "rollup": {"enum": ["sum", "mean", "last"]},
                    "kpi_status": {"type": ["string", "null"]},
                    "archived": {"type": "boolean"}}},
                "Row": ROW,
                "ImportBody": {"oneOf": [
                    {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                    {"type": "object", "required": ["rows"], "additionalProperties": False,
                     "properties": {
                         "rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                         "replace": {"type": "boolean", "default": False,
                                     "description": "Replace values that are already stored."},
                         "source_name": {"type": "string", "minLength": 1,
                                         "maxLength": MAX_SOURCE_NAME_LENGTH,
                                         "description": "Shown as the batch's file name."}}},
                ]},
                "BatchSummary": {"type": "object", "required": [
                    "batch_id", "rows", "new", "changed", "unchanged"], "properties": {
                    "batch_id": {"type": "integer"}, "rows": {"type": "integer"},
                    "new": {"type": "integer"}, "changed": {"type": "integer"},
                    "unchanged": {"type": "integer"}}},
                "ValidationFailed": {"type": "object", "required": [
                    "error", "error_count", "errors"], "properties": {
                    "error": {"const": "validation failed"},
                    "error_count": {"type": "integer", "minimum": 1},
                    "errors": {"type": "array", "maxItems": MAX_ERRORS_RETURNED, "items": {
                        "type": "object", "required": ["row", "field", "value", "message"],
                        "properties": {
                            "row": {"type": ["integer", "null"],
                                    "description": "0-based index into rows"},
                            "field": {"type": ["string", "null"]},
                            "value": {},
                            "message": {"type": "string"}}}}}},
            },
        },
    }
