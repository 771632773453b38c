"""The segments blueprint: its pages (webapp/audience/views.py) add their routes to it."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audience", __name__, url_prefix="/segments")
