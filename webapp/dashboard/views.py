from __future__ import annotations

from flask import Blueprint, render_template

from webapp.dashboard.services import overview

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    return render_template("dashboard/index.html", overview=overview())
