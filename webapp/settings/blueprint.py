"""The settings blueprint, admins only: its route modules (views, senders, api_keys) add their pages to it."""
from __future__ import annotations

from flask import Blueprint

from webapp.auth.services import admin_required

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.before_request
@admin_required
def _admins_only():
    """Every settings page is for admins; staff get 403 from here."""
