"""The OpenAPI 3.1 document, built from the endpoints' declarations (routing.py) and their schemas (schemas.py)."""
from __future__ import annotations

from flask import request

from webapp.api import auth, idempotency
from webapp.api.errors import CODES
from webapp.api.routing import Operation
from webapp.api.schemas import MAX_RECIPIENTS, SCHEMAS, SCOPE_DESCRIPTIONS, ref

TITLE = "Broadcaster API"
VERSION = "1.0.0"
INTRODUCTION = f"""Send WhatsApp template broadcasts and follow every message, from your own programs.

Authenticate with an API key in the `{auth.HEADER}` header (admins create keys in Settings → API keys).
Each key has scopes and a request rate per minute; past it the answer is 429 with `Retry-After`.
Every error is `{{"error": {{"code", "message", "details"}}}}` with a stable `code`: {", ".join(sorted(CODES))}.
A POST with an `{idempotency.HEADER}` header is done once: the same key and body within 24 hours gets the first
answer again (header `Idempotent-Replayed: true`); the same key with another body is refused (422).
Requests carry at most {MAX_RECIPIENTS:,} recipients or contacts (413 beyond). Times are UTC, ISO 8601."""

_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 400: "Malformed JSON or invalid fields",
                401: "No API key, or not a valid one", 403: "The key lacks the scope", 404: "Not found",
                405: "Method not allowed", 409: "Wrong state, or the Idempotency-Key is in use",
                413: f"More than {MAX_RECIPIENTS:,} items (recipients, contacts)", 415: "Not JSON",
                422: "Understood but not possible (or Idempotency-Key reused)", 429: "Rate limited"}


def document(operations: list[Operation]) -> dict:
    paths: dict[str, dict] = {}
    for operation in operations:
        paths.setdefault(operation.openapi_path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": TITLE, "version": VERSION, "description": INTRODUCTION},
        "servers": [{"url": request.host_url.rstrip("/") + "/api/v1"}],
        "security": [{"ApiKey": []}],
        "tags": [{"name": name} for name in dict.fromkeys(o.tag for o in operations)],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": auth.HEADER,
                                           "description": "Scopes: " + "; ".join(
                                               f"{scope}: {text}" for scope, text in SCOPE_DESCRIPTIONS.items())}},
        },
    }


def _operation(operation: Operation) -> dict:
    found = {
        "operationId": operation.name, "summary": operation.summary, "description": _description(operation),
        "tags": [operation.tag],
        "parameters": [*_path_parameters(operation), *_query_parameters(operation), *_headers(operation)],
        "responses": {str(status): _response(status, schema) for status, schema in operation.statuses.items()},
    }
    if operation.scope is None:
        found["security"] = []
    else:
        found["x-scope"] = operation.scope
    if operation.body:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(operation.body)}}}
    return found


def _description(operation: Operation) -> str:
    scope = f"Scope: `{operation.scope}`." if operation.scope else "No key needed."
    return f"{operation.description}\n\n{scope}".strip()


def _path_parameters(operation: Operation) -> list[dict]:
    types = {"id": {"type": "integer", "minimum": 1}, "string": {"type": "string"}, "path": {"type": "string"}}
    return [{"name": name, "in": "path", "required": True, "schema": types.get(kind, {"type": "string"})}
            for name, kind in operation.path_parameters()]


def _query_parameters(operation: Operation) -> list[dict]:
    found = []
    for name, schema in operation.query.items():
        schema = dict(schema)
        description = schema.pop("description", None)
        required = schema.pop("required", False) is True  # our mark on a query parameter, not JSON Schema's
        parameter = {"name": name, "in": "query", "required": required, "schema": schema}
        if description:
            parameter["description"] = description
        found.append(parameter)
    return found


def _headers(operation: Operation) -> list[dict]:
    if operation.method != "POST" or operation.scope is None:
        return []
    return [{"name": idempotency.HEADER, "in": "header", "required": False, "schema": {"type": "string",
                                                                                       "maxLength": 255},
             "description": "Retry safely: the same key and body within 24 hours gets the first answer again."}]


def _response(status: int, schema: str | None) -> dict:
    found: dict = {"description": _STATUS_TEXT.get(status, "OK")}
    if status == 429:
        found["headers"] = {"Retry-After": {"description": "Seconds until a request fits the key's rate.",
                                            "schema": {"type": "integer"}}}
    if schema:
        found["content"] = {"application/json": {"schema": ref(schema)}}
    return found
