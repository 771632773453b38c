from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.dashboard.services import overview
from webapp.events.endpoints import disabled_endpoints
from webapp.extensions import db

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    return render_template("dashboard/index.html", overview=overview(),
                           disabled_endpoints=disabled_endpoints(db.session) if current_user.is_admin else [])
