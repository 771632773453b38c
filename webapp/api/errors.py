"""The API's JSON errors: one shape, `{"error": {"code", "message", "details"}}`, and stable codes."""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException

from webapp.campaigns.errors import CampaignError
from webapp.contacts.errors import ContactsError

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


def from_domain(error: CampaignError | ContactsError) -> ApiError:
    """A service's refusal: a wrong state is 409, anything else a semantic error (422) naming its field."""
    code = "conflict" if error.code == "conflict" else "not_found" if error.code == "not_found" else "unprocessable"
    details = {"field": error.field} if error.field else None
    problems = getattr(error, "problems", None)
    if problems:
        details = {"field": error.field, "fields": dict(problems)}
    return ApiError(code, error.message, details)


def response(error: ApiError):
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    answer = jsonify(body)
    answer.status_code = error.status
    answer.headers.update(error.headers)
    return answer


def register(bp) -> None:
    """JSON for every error raised under the blueprint, so no HTML page ever answers an API client."""
    bp.register_error_handler(ApiError, response)
    bp.register_error_handler(CampaignError, lambda error: response(from_domain(error)))
    bp.register_error_handler(ContactsError, lambda error: response(from_domain(error)))
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
