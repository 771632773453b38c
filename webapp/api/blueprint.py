"""The API blueprint under /api/v1 and its `Api` router; webapp/api/views.py and reference.py add their routes to it.

Clients authenticate with X-API-Key, so there is no CSRF token; errors answer JSON; every answer to a known
key carries its rate headers.
"""
from __future__ import annotations

from flask import Blueprint

from webapp.api import auth, errors
from webapp.api.routing import Api
from webapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
errors.register(bp)
bp.after_request(auth.rate_headers)
api = Api(bp)
