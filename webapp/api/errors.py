"""The API's JSON errors: one shape, `{"error": {"code", "message", "details"}}`, and stable codes."""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException

from webapp.audience.errors import FilterError
from webapp.campaigns.errors import CampaignError
from webapp.contacts.errors import ContactsError
from webapp.inbox.errors import InboxError

# Every code the API answers with, and its HTTP status: clients branch on the code, people read the message.
CODES = {
    "invalid_json": 400,
    "invalid_request": 400,
    "missing_api_key": 401,
    "invalid_api_key": 401,
    "insufficient_scope": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "idempotency_in_progress": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "unprocessable": 422,
    "outside_window": 422,
    "opted_out": 422,
    "bad_media": 422,
    "idempotency_key_reused": 422,
    "rate_limited": 429,
    "internal_error": 500,
}
_BY_STATUS = {400: "invalid_request", 401: "invalid_api_key", 403: "insufficient_scope", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "unprocessable", 429: "rate_limited"}


class ApiError(Exception):
    """An answer other than success; raise it anywhere below a view and the client gets its JSON."""

    def __init__(self, code: str, message: str, details: Any = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details, self.headers = code, message, details, headers or {}

    @property
    def status(self) -> int:
        return CODES[self.code]


# The inbox's refusals the API names with codes of their own (InboxError.code → API code).
INBOX_CODES = {"window_closed": "outside_window", "opted_out": "opted_out", "bad_media": "bad_media"}
DOMAIN_ERRORS = (CampaignError, ContactsError, InboxError, FilterError)


def from_domain(error: CampaignError | ContactsError | InboxError | FilterError) -> ApiError:
    """A service's refusal: a wrong state is 409, the inbox's window, opt-out and media refusals their own codes,
    anything else a semantic error (422) naming its field — and a filter's, the index of its condition (a list a
    condition names that does not exist is the condition's fault, 422, not a missing resource)."""
    if isinstance(error, FilterError):
        return _filter_error(error)
    code = error.code if error.code in ("conflict", "not_found") else INBOX_CODES.get(error.code, "unprocessable")
    details = {"field": error.field} if error.field else None
    problems = getattr(error, "problems", None)
    if problems:
        details = {"field": error.field, "fields": dict(problems)}
    return ApiError(code, error.message, details)


def _filter_error(error: FilterError) -> ApiError:
    if error.condition is not None:
        return ApiError("unprocessable", error.message, {"condition": error.condition})
    code = error.code if error.code in ("conflict", "not_found") else "unprocessable"
    field = getattr(error, "field", None)
    return ApiError(code, error.message, {"field": field} if field else None)


def response(error: ApiError):
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    answer = jsonify(body)
    answer.status_code = error.status
    answer.headers.update(error.headers)
    return answer


def register(bp) -> None:
    """JSON for every error raised under the blueprint, so no HTML page ever answers an API client."""
    bp.register_error_handler(ApiError, response)
    for domain in DOMAIN_ERRORS:
        bp.register_error_handler(domain, lambda error: response(from_domain(error)))
    bp.register_error_handler(HTTPException, _http)
    bp.register_error_handler(Exception, _unexpected)


def _http(error: HTTPException):
    code = _BY_STATUS.get(error.code or 500, "internal_error")
    headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else None
    message = "The request body is larger than the server accepts." if error.code == 413 else error.description
    return response(ApiError(code, message, headers=headers))


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http(error)
    from webapp.extensions import db

    db.session.rollback()
    current_app.logger.exception("Unhandled API error")
    return response(ApiError("internal_error", "Something went wrong on our side; the error was logged."))
