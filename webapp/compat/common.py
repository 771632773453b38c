"""What every compat API shares: its blueprint under /compat/<name>/, the per-workspace switch, our API keys read
from the header form that API documents (and their scopes), bodies parsed and validated, every refusal in that
API's error envelope, and its OpenAPI 3.1 document made from the same declarations the routes run.

A module declares one `CompatApi` and its routes:

    api = CompatApi("wask", "wask broadcast lists", key_header="X-API-Key", schemas=SCHEMAS, error=_error)

    @api.route("POST", "/sessions/<session>/broadcasts", scope="lists:write", body="ListCreate",
               responses={200: "ListCreated"}, summary="Create a broadcast list")
    def create(body, session): ...

A view gets the parsed body (a dict; {} for none) and its path arguments, and returns a payload, or
(payload, status). It raises `Refusal(status, message)` for anything the client did wrong; our services'
refusals (CampaignError, ContactsError, InboxError, the API's ApiError) answer with their status and message.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, jsonify, make_response, request
from jsonschema import Draft202012Validator
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from webapp.api import auth
from webapp.api.errors import DOMAIN_ERRORS, ApiError, from_domain
from webapp.api.routing import dotted, json_body
from webapp.api.schemas import SCOPE_DESCRIPTIONS
from webapp.extensions import csrf, db
from webapp.public_ids import parse
from webapp.workspace.models import COMPAT_APIS, WorkspaceSettings

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content", 400: "Malformed JSON or invalid fields",
                401: "No API key, or not a valid one", 403: "The key lacks the scope",
                404: "Not found, or this API is not enabled for the workspace", 405: "Method not allowed",
                409: "Wrong state", 413: "Too many items", 422: "Understood but not possible", 429: "Rate limited",
                500: "Server error"}


class Refusal(Exception):
    """An answer other than success, in the API's own error envelope."""

    def __init__(self, status: int, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details
        self.headers: dict[str, str] = {}


@dataclass
class Route:
    method: str
    path: str                        # Flask's rule, e.g. /sessions/<session>/broadcasts/<list_id>
    name: str
    summary: str
    scope: str | None
    responses: dict[int, str | None]  # success statuses and their schemas (names in the API's schemas)
    body: str | None = None
    query: dict[str, dict] = field(default_factory=dict)
    errors: tuple[int, ...] = ()

    @property
    def openapi_path(self) -> str:
        return self.path.replace("<", "{").replace(">", "}")


class CompatApi:
    def __init__(self, name: str, title: str, *, key_header: str, schemas: dict[str, dict],
                 error: Callable[[int, str, Any], dict], bearer: bool = False, description: str = "") -> None:
        assert name in COMPAT_APIS, name
        self.name, self.title, self.key_header, self.bearer = name, title, key_header, bearer
        self.schemas, self.error_body, self.description = schemas, error, description
        self.routes: list[Route] = []
        self.bp = Blueprint(f"compat_{name}", __name__, url_prefix=f"/compat/{name}")
        csrf.exempt(self.bp)  # key-authenticated, no session
        self.bp.after_request(auth.rate_headers)
        self.bp.add_url_rule("/openapi.json", "openapi", lambda: jsonify(self.document()))
        self.bp.add_url_rule("/<path:anything>", "unknown", self._unknown, methods=list(_METHODS))
        self.bp.register_error_handler(HTTPException, self._http)
        self.bp.register_error_handler(Exception, self._unexpected)

    # --- Declaring routes ---------------------------------------------------------------------------

    def route(self, method: str, path: str, *, scope: str, summary: str, responses: dict[int, str | None],
              body: str | None = None, query: dict[str, dict] | None = None, errors: tuple[int, ...] = ()
              ) -> Callable:
        def decorator(view: Callable) -> Callable:
            declared = Route(method, path, view.__name__, summary, scope, responses, body, query or {}, errors)
            self.routes.append(declared)
            self.bp.add_url_rule(path, view.__name__, self._handler(declared, view), methods=[method])
            return view

        return decorator

    def _handler(self, declared: Route, view: Callable) -> Callable:
        validator = Draft202012Validator(self._root(declared.body)) if declared.body else None

        @wraps(view)
        def handle(**path_args):
            try:
                self._check_enabled()
                self._authenticate(declared.scope)
                body = self._body(validator) if declared.method in ("POST", "PUT", "PATCH") else {}
                result = view(body, **path_args)
            except (Refusal, ApiError, *DOMAIN_ERRORS) as error:
                db.session.rollback()
                return self.refusal(error)
            payload, status = result if isinstance(result, tuple) else (result, min(declared.responses))
            return make_response(jsonify(payload), status)

        return handle

    # --- What every request goes through ------------------------------------------------------------

    def enabled(self) -> bool:
        return self.name in (WorkspaceSettings.get().compat_apis or [])

    def _check_enabled(self) -> None:
        if not self.enabled():
            raise Refusal(404, f"The {self.title} API is not enabled on this server; an admin enables it in "
                               "Settings → API keys.")

    @property
    def header_form(self) -> str:
        return f"{self.key_header}: Bearer <key>" if self.bearer else self.key_header

    def _authenticate(self, scope: str):
        raw = request.headers.get(self.key_header, "").strip()
        if self.bearer:
            scheme, _, token = raw.partition(" ")
            raw = token.strip() if scheme.lower() == "bearer" else ""
        return auth.authenticate(scope, raw, self.header_form)

    def _body(self, validator: Draft202012Validator | None) -> dict:
        body = json_body()
        if not isinstance(body, dict):
            raise Refusal(400, "The body must be a JSON object.")
        if validator is not None:
            problems = [f"{dotted(list(e.absolute_path)) or '(body)'}: {e.message}"
                        for e in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])]
            if problems:
                raise Refusal(400, "Invalid request: " + "; ".join(problems[:10]) + ".",
                              {"fields": problems})
        return body

    # --- Answers ------------------------------------------------------------------------------------

    def refusal(self, error: Refusal | ApiError | Exception):
        if isinstance(error, DOMAIN_ERRORS):
            error = from_domain(error)
        answer = jsonify(self.error_body(error.status, error.message, error.details))
        answer.status_code = error.status
        answer.headers.update(error.headers)
        return answer

    def _unknown(self, anything: str):
        adapter = current_app.url_map.bind_to_environ(request.environ)
        allowed = []
        for method in _METHODS:
            try:
                endpoint, _ = adapter.match(request.path, method=method)
            except HTTPException:
                continue
            if endpoint != f"{self.bp.name}.unknown":
                allowed.append(method)
        if allowed:
            error = Refusal(405, f"{request.method} is not allowed here; use {', '.join(allowed)}.")
            error.headers["Allow"] = ", ".join(allowed)
            return self.refusal(error)
        return self.refusal(Refusal(404, f"There is no {request.path}; the reference is at "
                                         f"/compat/{self.name}/openapi.json."))

    def _http(self, error: HTTPException):
        message = "The request body is larger than the server accepts." if error.code == 413 else error.description
        return self.refusal(Refusal(error.code or 500, message))

    def _unexpected(self, error: Exception):
        if isinstance(error, HTTPException):
            return self._http(error)
        db.session.rollback()
        current_app.logger.exception("Unhandled compat API error")
        return self.refusal(Refusal(500, "Something went wrong on our side; the error was logged."))

    # --- The document -------------------------------------------------------------------------------

    def _root(self, schema: str) -> dict:
        return {"$ref": f"#/components/schemas/{schema}", "components": {"schemas": self.schemas}}

    def document(self) -> dict:
        paths: dict[str, dict] = {}
        for declared in self.routes:
            paths.setdefault(declared.openapi_path, {})[declared.method.lower()] = self._operation(declared)
        scheme = ({"type": "http", "scheme": "bearer"} if self.bearer
                  else {"type": "apiKey", "in": "header", "name": self.key_header})
        return {
            "openapi": "3.1.0",
            "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
            "info": {"title": f"{self.title} (compatible API)", "version": "1.0.0",
                     "description": (f"{self.description}\n\nThe key is one of this server's API keys (Settings → "
                                     f"API keys), sent as `{self.header_form}`; each operation names the scope it "
                                     f"needs (`x-scope`). An admin enables this API in Settings → API keys; until "
                                     f"then every path answers 404.").strip()},
            "servers": [{"url": request.host_url.rstrip("/") + f"/compat/{self.name}"}],
            "security": [{"ApiKey": []}],
            "paths": paths,
            "components": {"schemas": self.schemas, "securitySchemes": {"ApiKey": {
                **scheme, "description": "Scopes: " + "; ".join(f"{s}: {t}" for s, t in SCOPE_DESCRIPTIONS.items())}}},
        }

    def _operation(self, declared: Route) -> dict:
        statuses: dict[int, str | None] = dict(declared.responses)
        errors = {401, 403, 404, 429, *declared.errors} | \
            ({400} if declared.body or declared.query or declared.method != "GET" else set())
        statuses.update({status: "Error" for status in sorted(errors)})
        found: dict = {
            "operationId": declared.name, "summary": declared.summary, "x-scope": declared.scope,
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                           for name in _path_names(declared.path)]
            + [{"name": name, "in": "query", "required": False, "schema": schema}
               for name, schema in declared.query.items()],
            "responses": {str(status): _response(status, schema) for status, schema in sorted(statuses.items())},
        }
        if declared.body:
            found["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{declared.body}"}}}}
        return found


def _path_names(path: str) -> list[str]:
    return [part[1:-1].split(":")[-1] for part in path.split("/") if part.startswith("<")]


def _response(status: int, schema: str | None) -> dict:
    found: dict = {"description": _STATUS_TEXT.get(status, "OK")}
    if schema:
        found["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return found


def by_public_id(model, value: str, missing: str):
    """The row of `model` whose public UUID is `value`; a 404 in the API's envelope when there is none."""
    uuid = parse(value)
    row = db.session.scalar(select(model).where(model.public_id == uuid)) if uuid is not None else None
    if row is None:
        raise Refusal(404, missing)
    return row


def int_id(value: str, prefix: str = "") -> int | None:
    """Our integer id from a path's string id (`broadcast_12` with prefix `broadcast_`); None when it is not one."""
    digits = value[len(prefix):] if prefix and value.startswith(prefix) else value
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)
