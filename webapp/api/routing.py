"""How an API endpoint is declared: path, method, scope, parameters, body and answers, in one decorator.

The decorator registers the view on the blueprint and wraps it with what every endpoint does the same way
(key, rate, scope, idempotency, parsing and validating the query and body); the same declarations make the
OpenAPI document (webapp/api/openapi.py), so the reference describes exactly what runs.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, jsonify, make_response, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from webapp.api import auth, idempotency
from webapp.api.errors import DOMAIN_ERRORS, ApiError, from_domain, response
from webapp.api.schemas import MAX_RECIPIENTS, SCHEMAS, root
from webapp.extensions import db
from webapp.url_numbers import LARGEST

_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <name>, <id:name>, <id(big=True):name>


@dataclass
class Operation:
    """One endpoint as a client sees it."""

    method: str
    path: str                    # Flask's rule, e.g. /broadcasts/<id:broadcast_id>
    name: str                    # the view's name: the Flask endpoint and the operationId
    summary: str
    description: str
    tag: str
    scope: str | None            # None: no key needed
    ok: int                      # the success status
    response: str | None         # the success body's schema, a name in SCHEMAS
    body: str | None = None      # the request body's schema
    query: dict[str, dict] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    items: str | None = None     # the body's array whose items fail one by one ("recipients")
    also_ok: dict[int, str] = field(default_factory=dict)  # other success statuses and their bodies

    @property
    def openapi_path(self) -> str:
        return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", self.path)

    def path_parameters(self) -> list[tuple[str, str]]:
        return [(name, kind or "string") for kind, name in _CONVERTER.findall(self.path)]

    @property
    def statuses(self) -> dict[int, str | None]:
        """Every status this operation may answer, with its body's schema."""
        found: dict[int, str | None] = {self.ok: self.response, **self.also_ok}
        errors = set(self.errors) | {400} if (self.body or self.query) else set(self.errors)
        if self.scope:
            errors |= {401, 403, 429}
        if self.method == "POST" and self.scope:
            errors |= {409, 422}  # an Idempotency-Key in use, or reused with another body
        if self.items:
            errors.add(413)
        for status in sorted(errors):
            found[status] = "Error"
        return found


@dataclass
class Call:
    """What a view gets besides its path arguments: the parsed query and body, and the items that failed."""

    query: dict[str, Any]
    body: dict[str, Any]
    item_errors: dict[int, str]


class Api:
    def __init__(self, bp: Blueprint) -> None:
        self.bp = bp
        self.operations: list[Operation] = []

    def route(self, method: str, path: str, *, summary: str, tag: str, scope: str | None, ok: int = 200,
              response: str | None = None, body: str | None = None, query: dict[str, dict] | None = None,
              errors: tuple[int, ...] = (), items: str | None = None, also_ok: dict[int, str] | None = None,
              ) -> Callable:
        def decorator(view: Callable) -> Callable:
            doc = (view.__doc__ or "").strip()
            operation = Operation(method, path, view.__name__, summary, doc, tag, scope, ok, response, body,
                                  query or {}, errors, items, also_ok or {})
            self.operations.append(operation)
            self.bp.add_url_rule(path, view.__name__, _handler(operation, view), methods=[method])
            return view

        return decorator


def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(root(SCHEMAS[name]))


def _handler(operation: Operation, view: Callable) -> Callable:
    body_validator = _validator(operation.body) if operation.body else None
    query_validators = {name: Draft202012Validator(schema) for name, schema in operation.query.items()}

    @wraps(view)
    def handle(**path_args):
        try:
            key = auth.authenticate(operation.scope) if operation.scope else None
            replay = idempotency.begin(key) if key is not None and request.method == "POST" else None
        except ApiError as error:
            return response(error)
        if replay is not None:
            return replay
        try:
            call = Call(_query(operation, query_validators), *_body(operation, body_validator))
            answer = _json(view(call, **path_args), operation.ok)
        except (ApiError, *DOMAIN_ERRORS) as error:
            db.session.rollback()
            answer = response(error if isinstance(error, ApiError) else from_domain(error))
        except Exception:
            db.session.rollback()
            idempotency.abandon(key)
            raise
        idempotency.finish(key, answer)
        return answer

    return handle


def _json(result, default_status: int):
    payload, status = result if isinstance(result, tuple) else (result, default_status)
    answer = make_response(jsonify(payload), status)
    return answer


def _query(operation: Operation, validators: dict[str, Draft202012Validator]) -> dict[str, Any]:
    values, problems = {}, []
    for name, schema in operation.query.items():
        raw = request.args.get(name)
        if raw is None or raw == "":
            if schema.get("required") is True:
                problems.append({"field": name, "message": "this query parameter is required"})
            elif "default" in schema:
                values[name] = schema["default"]
            continue
        value: Any = raw
        if schema.get("type") == "integer":
            value = int(raw) if raw.isascii() and raw.lstrip("-").isdigit() else None
            if value is None or abs(value) > LARGEST:  # larger ones would overflow the database's driver
                problems.append({"field": name, "message": f"{raw!r} is not a whole number within ±{LARGEST}."})
                continue
        error = next(iter(validators[name].iter_errors(value)), None)
        if error is not None:
            problems.append({"field": name, "message": error.message})
            continue
        values[name] = value
    if problems:
        raise ApiError("invalid_request", "Some query parameters are not valid: "
                       + ", ".join(p["field"] for p in problems) + ".", problems)
    return values


def _body(operation: Operation, validator: Draft202012Validator | None) -> tuple[dict, dict[int, str]]:
    if validator is None:
        return {}, {}
    body = json_body()
    if operation.items and isinstance(body, dict) and isinstance(body.get(operation.items), list) \
            and len(body[operation.items]) > MAX_RECIPIENTS:
        raise ApiError("payload_too_large", f"At most {MAX_RECIPIENTS:,} {operation.items} per request; this one has "
                       f"{len(body[operation.items]):,}. Send them in batches.",
                       {"field": operation.items, "max_items": MAX_RECIPIENTS})
    item_errors: dict[int, str] = {}
    problems = []
    for error in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path]):
        where = list(error.absolute_path)
        cause = _cause(error)
        if operation.items and len(where) >= 2 and where[0] == operation.items and isinstance(where[1], int):
            inner = dotted(list(cause.absolute_path)[2:])
            item_errors.setdefault(where[1], f"{inner}: {cause.message}" if inner else cause.message)
        else:
            problems.append({"field": dotted(list(cause.absolute_path)) or "(body)", "message": cause.message})
    if problems:
        raise ApiError("invalid_request", "Some fields are not valid: "
                       + ", ".join(dict.fromkeys(p["field"] for p in problems)) + ".", problems)
    return body, item_errors


def json_body() -> Any:
    """The request's JSON ({} for an empty body), or ApiError invalid_json saying why it is not JSON."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError("invalid_json", f"The body is not valid JSON: {exc}.") from None


def _cause(error: ValidationError) -> ValidationError:
    """The error that explains a oneOf: the one inside the branch of the value's own type, deepest first."""
    while error.context:
        relevant = [e for e in error.context if e.validator != "type" or list(e.relative_path)]
        error = max(relevant or error.context, key=lambda e: len(e.absolute_path))
    return error


def dotted(path: list) -> str:
    """["recipients", 3, "name"] as recipients[3].name."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
