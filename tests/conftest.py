"""Fixtures: a real redis-server, the database on SQLite and on PostgreSQL, the app, clients, a browser."""
from __future__ import annotations

import contextvars
import os
import re
import tempfile
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from tests.processes import ProcessSet
from tests.services import ThrowawayPostgres, free_port
from webapp import private_redis

PASSWORD = "correct horse battery"
ROOT_DIR = Path(__file__).resolve().parent.parent
BACKENDS = [b.strip() for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]


def pytest_collection_modifyitems(config, items):
    """Some tests run on one database only, where running them on both would test nothing more for the minutes
    they take: those marked `only_on("…")`, and the browser tests, on SQLite (what `make run` uses; the pages
    read the database through the services every other test runs on both). ALL_DATABASES=1 runs all on both."""
    def only_on(item) -> str | None:
        if os.environ.get("ALL_DATABASES") == "1":
            return None
        if marker := item.get_closest_marker("only_on"):
            return marker.args[0]
        return "sqlite" if item.get_closest_marker("browser") else None

    def elsewhere(item) -> bool:
        database = item.callspec.params.get("database_url") if hasattr(item, "callspec") else None
        return None not in (database, only_on(item)) and database != only_on(item)

    if deselected := [item for item in items if elsewhere(item)]:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not elsewhere(item)]


@pytest.fixture(scope="session")
def session_folder():
    with tempfile.TemporaryDirectory(prefix="broadcaster-test-") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def redis_url(session_folder):
    url, process = private_redis.start(session_folder / "redis")
    yield url
    if process is not None:
        private_redis.stop(process)


@pytest.fixture(scope="session")
def postgres_url():
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    server = ThrowawayPostgres()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, session_folder):
    """Every database-touching test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{session_folder / 'test.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def migrated(database_url, redis_url, session_folder):
    """The schema, built by the migrations (never by create_all), once per database."""
    from flask_migrate import upgrade

    from webapp import create_app

    app = create_app(_config(database_url, redis_url, session_folder))
    with app.app_context():
        upgrade()
    return database_url


def _config(database_url: str, redis_url: str, folder: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(folder),
        "UPLOAD_FOLDER": str(folder / "uploads"),
        "SECRET_KEY": "test-secret-key",
        "SANDBOX_ENABLED": False,
        # Most tests create and log in a user: scrypt's deliberate ~0.3 s for the two would be a third of the
        # suite. test_auth.py checks that a real configuration stores scrypt hashes.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


class IsolatedClient(FlaskClient):
    """Each request gets its own app context and database session, as in production, even though the
    test holds one open; the test's own session is committed around it, so each side sees the other's work."""

    def open(self, *args, **kwargs):
        from flask import has_app_context

        from webapp.extensions import db

        if not has_app_context():  # a redirect followed from inside a request's own context
            return super().open(*args, **kwargs)
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.commit()


@pytest.fixture
def app(migrated, redis_url, session_folder):
    from webapp import create_app
    from webapp.extensions import db
    from webapp.tracking import click_writer
    from webapp.webhooks import ingest

    app = create_app(_config(migrated, redis_url, session_folder))
    app.test_client_class = IsolatedClient
    app.extensions["redis"].flushdb()
    with app.app_context():
        yield app
        db.session.remove()
        ingest.stop(app)  # a webhook still being applied (the sandbox's, after the test) would race the clean-up
        click_writer.stop(app)  # so would a batch of clicks still being written
        _empty_tables(db)
        db.engine.dispose()


def _empty_tables(db) -> None:
    """Every table emptied and, on PostgreSQL, every sequence back at 1, as a fresh database. Only the tables a test
    wrote to are emptied: one query finds them (a TRUNCATE of every table took a quarter of a second a test)."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]  # children before their parents
    with db.engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            return
        written = set(conn.execute(text(" UNION ALL ".join(
            f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table})" for table in tables))).scalars())
        for table in (t for t in tables if t in written):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
                          "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()"))


@pytest.fixture
def client(app):
    return app.test_client()


_SIGNED_TOKENS: dict[str, str] = {}  # the session's raw CSRF secret -> the token a page of that session carried


def csrf_token(client) -> str:
    """The CSRF token of the client's session, read from a page as a browser would — once per session secret, as a
    browser keeps the token of the page it is on (rendering a page per form post was a tenth of the suite)."""
    with client.session_transaction() as session:
        known = _SIGNED_TOKENS.get(session.get("csrf_token", ""))
    if known:
        return known
    response = client.get("/login", follow_redirects=True)
    match = re.search(r'"X-CSRFToken": "([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    with client.session_transaction() as session:
        _SIGNED_TOKENS[session["csrf_token"]] = match.group(1)
    return match.group(1)


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token, as the page's form would."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


@pytest.fixture
def admin(app):
    from webapp.auth.services import create_user
    from webapp.extensions import db

    user = create_user("admin@example.com", PASSWORD, role="admin", name="Ada Admin")
    db.session.commit()
    return user


@pytest.fixture
def staff(app):
    from webapp.auth.services import create_user
    from webapp.extensions import db

    user = create_user("staff@example.com", PASSWORD, role="staff", name="Sam Staff")
    db.session.commit()
    return user


def login(client, email: str, password: str = PASSWORD):
    return post(client, "/login", {"email": email, "password": password})


@pytest.fixture
def admin_client(client, admin):
    assert login(client, admin.email).status_code == 302
    return client


@pytest.fixture
def staff_client(client, staff):
    assert login(client, staff.email).status_code == 302
    return client


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a loopback port, for the browser and other processes."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, session_folder):
    """Debian's Chromium (no browser download), with the network chatter this machine refuses turned off."""
    os.environ.setdefault("XDG_CACHE_HOME", str(session_folder / "cache"))
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture
def processes(app, sandbox):
    """Start worker processes (`processes(SETTING=…).worker()`) against the test's sandbox; all stopped after."""
    started = []

    def start(**settings):
        group = ProcessSet(app, **settings)
        started.append(group)
        return group

    yield start
    for group in started:
        group.stop()
