"""The webhook's front door: `POST /webhooks/meta` answered before Flask's request machinery.

With one status a POST (how Meta sends when traffic is light), Flask's request context, session, login gate and
after-request hooks cost a webhook more CPU than verifying it (docs/benchmarks.md, "Webhook ingest, one status a
POST"). This WSGI middleware, mounted in front of the app by create_app, answers a POST with a Content-Length itself:
inside an app context (the secret and the writer need it), through the same rules as Flask's view
(webapp/webhooks/receipt.py: size, signature over the raw bytes, JSON object, stored before the answer), with the
same answers (status, text, headers; the security headers included) but `Vary: Cookie`: it reads no cookie.

Anything else goes on to Flask's view, which answers as it always has: a body without a Content-Length (chunked),
any other method or path, and a POST on which the rules raised (say, the database was unreachable for the secret):
its body, kept as read, is handed on so the view checks it afresh and the app's error page and log see the error.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.wsgi import LimitedStream

from webapp.security_headers import security_headers
from webapp.webhooks.receipt import receive_post

log = logging.getLogger(__name__)
PATH = "/webhooks/meta"
CONTENT_TYPE = {"Content-Type": "text/plain; charset=utf-8"}  # as the view answers


class WebhookFront:
    """WSGI middleware: POST /webhooks/meta with a Content-Length answered here, the rest passed to the app."""

    def __init__(self, flask_app: Flask):
        self.flask_app = flask_app
        self.app: Callable = flask_app.wsgi_app
        self.answers: dict[tuple[str, int], tuple[str, list, bytes]] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH", "")
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST" or not length.isdigit():
            return self.app(environ, start_response)
        # Never read past the Content-Length (PEP 3333): on a kept-alive connection of a server that does not bound
        # the stream (werkzeug's), reading more waits for the client's next request.
        body = _KeptBody(LimitedStream(environ["wsgi.input"], int(length)))
        try:
            with self.flask_app.app_context():
                text, status = receive_post(int(length), body.read, environ.get("HTTP_X_HUB_SIGNATURE_256"))
        except Exception:  # noqa: BLE001 - the view runs the same rules again, and its error page and log see it
            log.warning("The webhook's front door handed a POST to the app", exc_info=True)
            environ["wsgi.input"] = io.BytesIO(body.kept)
            return self.app(environ, start_response)
        status_line, headers, content = self._answer(text, status)
        start_response(status_line, headers)
        return [content]

    def _answer(self, text: str, status: int) -> tuple[str, list, bytes]:
        """The answer Flask gives the view's (text, status): its status line, headers and body, made once."""
        found = self.answers.get((text, status))
        if found is None:
            response = self.flask_app.response_class(text, status, CONTENT_TYPE)
            for name, value in security_headers(self.flask_app.config, self.flask_app.debug).items():
                response.headers.setdefault(name, value)  # as webapp/web.py does after every request
            found = self.answers[(text, status)] = (response.status, list(response.headers.items()),
                                                    response.get_data())
        return found


class _KeptBody:
    """The request's body stream, keeping what was read so a POST handed on can be read again."""

    def __init__(self, stream):
        self.stream = stream
        self.kept = b""

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        self.kept += data
        return data
