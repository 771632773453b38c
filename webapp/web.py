"""What every page shares: the login gate, error pages, security headers, template globals and filters.

The blueprints themselves are listed in create_app (webapp/__init__.py).
"""
from __future__ import annotations

from flask import Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.meta_errors import explain
from webapp.security_headers import security_headers
from webapp.workspace.zone import localtime

# Endpoints reachable without a staff session: login and setup, assets, Meta's webhook, the click redirect, the
# key-authenticated API and the compat APIs (blueprints compat_<name>, webapp/compat/).
PUBLIC_ENDPOINTS = {"auth.login", "auth.setup", "static", "health", "webhooks.verify", "webhooks.receive",
                    "clicks.follow_link"}
PUBLIC_BLUEPRINTS = {"api"}
KEYED_PATHS = ("/api/", "/compat/")  # their blueprints answer their own JSON errors


def register_web(app: Flask) -> None:
    """Hook what every page shares onto the app."""
    app.before_request(_require_login)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(Exception, _unexpected_error)

    @app.context_processor
    def _globals():
        return {"business_name": _business_name(), "nav_items": _nav_items, "inbox_unread": _unread}

    app.add_template_filter(localtime)
    app.add_template_global(explain, "explain_error")  # Meta's errors in plain words, for the log and banners


def _everyone() -> bool:
    return True


def _admins() -> bool:
    return current_user.is_admin


def _with_the_sandbox() -> bool:
    return current_app.config["SANDBOX_ENABLED"]


NAV = (  # label, endpoint, whether it is shown
    ("Dashboard", "dashboard.index", _everyone),
    ("Lists", "contacts.index", _everyone),
    ("Contacts", "directory.index", _everyone),
    ("Segments", "audience.index", _everyone),
    ("Campaigns", "campaigns.index", _everyone),
    ("Inbox", "inbox.index", _everyone),
    ("Reports", "reports.index", _everyone),
    ("Sandbox phone", "sandbox.phone", _with_the_sandbox),
    ("Settings", "settings.index", _admins),
)


def _nav_items() -> list[dict]:
    """The main navigation: Settings only for admins, the Sandbox phone only when the sandbox runs."""
    items = []
    for label, endpoint, shown in NAV:
        if not shown():
            continue
        area = endpoint.split(".")[0]
        items.append({"label": label, "url": url_for(endpoint), "active": request.blueprint == area,
                      "inbox": area == "inbox", "badge": _unread() if area == "inbox" else ""})
    return items


def _unread() -> str:
    """The Inbox's badge: customers' messages nobody has read yet ("99+" beyond 99)."""
    from webapp.extensions import db
    from webapp.inbox.conversations import unread_badge

    return unread_badge(db.session)


def _business_name() -> str:
    from webapp.workspace.models import WorkspaceSettings

    try:
        return WorkspaceSettings.get().business_name if current_user.is_authenticated else ""
    except Exception:  # noqa: BLE001 - a page must render even before the first migration
        return ""


def _require_login():
    """Login on every page, checked once here rather than remembered on every view."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS \
            or (request.blueprint or "").startswith("compat_"):
        return None
    if request.endpoint is None:  # 404s render the friendly page, for visitors too
        return None
    if not current_user.is_authenticated:
        from webapp.auth.services import needs_setup

        if request.headers.get("HX-Request"):
            return "", 401  # a polling fragment whose session ended: the page reloads to the login form

        if needs_setup():
            return redirect(url_for("auth.setup"))
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    return None


def _security_headers(response):
    # The headers live in webapp/security_headers.py, shared with the click redirect's front door (issue #20).
    for name, value in security_headers(current_app.config, current_app.debug).items():
        response.headers.setdefault(name, value)
    return response


def _http_error(error: HTTPException):
    if request.blueprint == "api" or request.path.startswith(KEYED_PATHS):
        return error  # the API's and compat APIs' blueprints answer JSON errors themselves
    if error.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        message = (f"That file is larger than the upload limit of {limit} MB. Split it into smaller files, "
                   "or ask an administrator to raise MAX_UPLOAD_MB.")
        return render_template("errors/error.html", code=413, title="File too large", message=message), 413
    if error.code in (400, 403, 404, 405, 429):
        titles = {400: "Not understood", 403: "Not allowed", 404: "Page not found", 405: "Not allowed",
                  429: "Too many requests"}
        return render_template("errors/error.html", code=error.code, title=titles[error.code],
                               message=error.description), error.code
    return error


def _csrf_error(error: CSRFError):
    flash("Your form expired or was sent from elsewhere. Please try again.", "error")
    return render_template("errors/error.html", code=400, title="Form expired", message=error.description), 400


def _unexpected_error(error: Exception):
    if isinstance(error, HTTPException):
        return _http_error(error)
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return render_template("errors/error.html", code=500, title="Something went wrong",
                           message="The error was logged. Please try again in a moment."), 500
