"""The click redirect's front door: /r/<code> answered before Flask, in a few dozen microseconds of Python.

2,000 redirects a second on two cores leave half a millisecond of CPU for each, gunicorn's share included, and
Flask's request, session, login gate and after-request hooks cost more than that alone (docs/benchmarks.md). So this
WSGI middleware, mounted in front of the app by create_app, answers a good code itself:

- the code's signature checked first (webapp/campaigns/links.py): a forged code touches no database;
- the link from a cache in the process: a link's address and place in the parameters never change after launch;
- the recipient's own address, when the link has one: one indexed lookup;
- a person's click queued, committed before the 302, with the clicks other requests of the process made meanwhile:
  one INSERT a batch (webapp/tracking/click_writer.py; a job counts them, webapp/tracking/clicks.py);
- the same 302 as Flask's view, with the same headers (but `Vary: Cookie`: no cookie is read).

Its database statements run on a small pool of its own, autocommit and without the pre-ping the app's pool makes
before each checkout. Anything else goes on to Flask's view (webapp/tracking/redirect.py), which answers as it
always has: a bad code or a link without a web address gets the friendly 404; a database error here (a click's
batch not written included) is retried there (the pre-ping reconnects) and, if it lasts, gets the error page.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from werkzeug.utils import redirect

from webapp import group_commit
from webapp.campaigns.links import REDIRECT_PATH, is_web_url, parse, signing_key, value_at
from webapp.security_headers import security_headers
from webapp.timestamps import utcnow
from webapp.tracking.click_writer import WRITER, ClickWriter
from webapp.tracking.clicks import REDIRECT_HEADERS, is_preview

log = logging.getLogger(__name__)
# Per process. A statement holds a connection a fraction of a millisecond; no overflow, whose connections are closed
# on return: opening one per click cost more than the click (PostgreSQL: a server process each).
POOL = {"pool_size": 8, "max_overflow": 0, "pool_timeout": 5}
ANSWERS_KEPT = 4096  # redirect answers cached by address (a constant link's is asked again and again)


@dataclass(frozen=True)
class _Link:
    url: str            # "" when each recipient has its own address
    path: tuple         # where a recipient's own address sits in its parameters
    campaign_id: int | None


class RedirectFront:
    """WSGI middleware: GET and HEAD /r/<code>[/] answered here when the code is good, the rest passed to `app`."""

    def __init__(self, flask_app: Flask, database_url: URL | str):
        self.flask_app = flask_app
        self.app: Callable = flask_app.wsgi_app
        self.key = signing_key(flask_app.config["SECRET_KEY"])
        self.database_url = database_url
        self._sqlite = make_url(database_url).get_backend_name() == "sqlite"
        mark = self._mark = "?" if make_url(database_url).get_dialect().default_paramstyle == "qmark" else "%s"
        self._sql = {"link": f"SELECT url, path, campaign_id FROM tracked_links WHERE id = {mark}",
                     "own url": f"SELECT params FROM recipients WHERE id = {mark} AND campaign_id = {mark}"}
        self.engine_options = {**flask_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), **POOL,
                               "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
        self.headers = [*REDIRECT_HEADERS.items(),
                        *((name, value) for name, value in security_headers(flask_app.config).items()
                          if name not in REDIRECT_HEADERS)]
        self.links: dict[int, _Link] = {}
        self.answers: dict[str, tuple[list, bytes]] = {}
        self._engine: Engine | None = None
        self._engine_pid = 0
        self._engine_lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path.startswith(REDIRECT_PATH) and method in ("GET", "HEAD"):
            code = path[len(REDIRECT_PATH):]
            answer = self.answer(code[:-1] if code.endswith("/") else code, method, environ.get("HTTP_USER_AGENT"))
            if answer is not None:
                headers, body = answer
                start_response("302 FOUND", headers)
                return [body] if method == "GET" else []
        return self.app(environ, start_response)

    def answer(self, code: str, method: str, user_agent: str | None) -> tuple[list, bytes] | None:
        """The 302's headers and body, the click queued when a person made it; None: Flask's view answers."""
        found = parse(code, self.key)
        if found is None:
            return None
        link_id, recipient_id = found
        try:
            link = self.links.get(link_id) or self._link(link_id)
            if link is None:
                return None
            url = link.url or self._own_url(link, recipient_id)
            if not url:
                return None
            if not is_preview(user_agent, method):
                if not self._clicks().record((link_id, recipient_id, self._moment())):
                    return None  # its batch was not written: Flask's view writes it
        except Exception:  # noqa: BLE001 - the full view retries with the app's own pool, and logs what lasts
            log.warning("The click redirect's front door handed /r/%s to the app", code, exc_info=True)
            return None
        return self._redirect(url)

    def _link(self, link_id: int) -> _Link | None:
        row = self._run("link", (link_id,))
        if row is None:
            return None
        url, path, campaign_id = row
        if url and not is_web_url(url):
            return None  # Flask's view says the link is not valid
        link = _Link(url, tuple(_json(path) or ()), campaign_id)
        self.links[link_id] = link  # a handful per campaign: kept for the process's life
        return link

    def _own_url(self, link: _Link, recipient_id: int) -> str:
        if link.campaign_id is None:  # its campaign was deleted, and its recipients with it
            return ""
        row = self._run("own url", (recipient_id, link.campaign_id))
        url = value_at(_json(row[0]), link.path) if row else ""
        return url if is_web_url(url) else ""

    def _redirect(self, url: str) -> tuple[list, bytes]:
        """The answer Flask's view gives (werkzeug's redirect), kept by address."""
        found = self.answers.get(url)
        if found is None:
            response = redirect(url, 302)
            found = ([*((name, value) for name, value in response.headers.items()), *self.headers],
                     response.get_data())
            if len(self.answers) >= ANSWERS_KEPT:
                self.answers.clear()
            self.answers[url] = found
        return found

    def _run(self, statement: str, parameters: tuple):
        return self._execute(self._sql[statement], parameters, fetch=True)

    def _execute(self, sql: str, parameters: tuple, fetch: bool = False):
        connection = self._pool().raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, parameters)
            return cursor.fetchone() if fetch else None
        except Exception:
            connection.invalidate()  # a broken connection is not handed out again
            raise
        finally:
            connection.close()

    def _pool(self) -> Engine:
        """This process's engine, made at its first redirect (a forked process makes its own)."""
        if self._engine is None or self._engine_pid != os.getpid():
            with self._engine_lock:
                if self._engine is None or self._engine_pid != os.getpid():
                    self._engine = create_engine(self.database_url, **self.engine_options)
                    self._engine_pid = os.getpid()
        return self._engine

    def _clicks(self) -> ClickWriter:
        """This process's click writer, on this process's pool."""
        return group_commit.writer(self.flask_app, WRITER, lambda: ClickWriter(
            self._execute, self._mark, group_commit.turns_file(self.flask_app)))

    def _moment(self):
        """Now, as webapp/timestamps.py's UTCDateTime stores it: naive UTC text on SQLite, aware on PostgreSQL."""
        now = utcnow()  # UTC already
        return now.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else now


def _json(value):
    """A JSON column's value: PostgreSQL's driver decodes it, SQLite's gives the text."""
    return json.loads(value) if isinstance(value, str) else value
