"""The public click redirect, /r/<code>: one indexed lookup, a 302 to the link's address, the click queued.

No login, no session, no form: the code's signature is the only key (webapp/campaigns/links.py). An unknown or
malformed code gets the friendly 404 page. The front door (webapp/tracking/front.py) answers most redirects before
Flask; this view answers what it hands over: bad codes, and any request it could not serve.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request

from webapp.extensions import db
from webapp.tracking.clicks import REDIRECT_HEADERS, record_click

bp = Blueprint("clicks", __name__)
UNKNOWN = ("This link is not valid: check that it was copied whole. Links in our messages open the page they "
           "name for as long as it exists.")


@bp.route("/r/<code>", methods=["GET", "HEAD"])
@bp.route("/r/<code>/", methods=["GET", "HEAD"])  # as the multi-platform API's links end (/compat/django)
def follow_link(code: str):
    url = record_click(db.session, code, request.user_agent.string, request.method)
    db.session.commit()
    if url is None:
        abort(404, description=UNKNOWN)
    response = redirect(url, 302)
    response.headers.update(REDIRECT_HEADERS)
    return response
