"""Secrets in query strings (Meta's hub.verify_token, access_token, key, password, signature…) never reach a log:
gunicorn's access log, the dev server's request log and the app's own logs write them as [redacted]."""
from __future__ import annotations

import logging
import runpy
from datetime import timedelta
from types import SimpleNamespace

import requests

from tests.conftest import ROOT_DIR
from webapp.log_redaction import redact

HANDSHAKE = "/webhooks/meta?hub.mode=subscribe&hub.verify_token=s3cret-verify&hub.challenge=1158201444"


def test_secret_query_parameters_are_redacted_and_the_rest_kept():
    line = (f'127.0.0.1 - - [01/Dec/2026:17:00:00 +0000] "GET {HANDSHAKE} HTTP/1.1" 403 27 '
            '"https://example.com/?api_key=k-123&page=2" "curl/8.5"')
    assert redact(line) == (
        '127.0.0.1 - - [01/Dec/2026:17:00:00 +0000] "GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=[redacted]'
        '&hub.challenge=1158201444 HTTP/1.1" 403 27 "https://example.com/?api_key=[redacted]&page=2" "curl/8.5"')
    for name in ("access_token", "token", "key", "password", "signature", "client_secret", "hub%2Everify_token",
                 "X-Amz-Signature", "apikey"):
        assert redact(f"GET /x?a=1&{name}=hunter2&b=2") == f"GET /x?a=1&{name}=[redacted]&b=2"
    assert redact("Meta error code=131026; monkey business") == "Meta error code=131026; monkey business"


def test_the_apps_own_log_records_are_redacted_with_their_tracebacks(app, caplog):
    url = "https://graph.facebook.com/v23.0/me?fields=id&access_token=EAAG-secret"
    with caplog.at_level(logging.INFO):
        app.logger.warning("Calling %s", url)
        try:
            raise ConnectionError(f"Max retries exceeded with url: {url}")
        except ConnectionError:
            app.logger.exception("The Graph API did not answer")

    assert "access_token=[redacted]" in caplog.text
    assert "EAAG-secret" not in caplog.text


def test_the_dev_servers_request_log_hides_the_verify_token(live_server, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        assert requests.get(live_server + HANDSHAKE, timeout=10).status_code == 403

    assert "hub.verify_token=[redacted]" in caplog.text
    assert "s3cret-verify" not in caplog.text


def test_gunicorns_access_log_hides_the_verify_token(tmp_path):
    """gunicorn's own access-log line, in a process set up by gunicorn.conf.py as `make run` and deployments are."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)  # as a fresh gunicorn process starts
    try:
        runpy.run_path(str(ROOT_DIR / "gunicorn.conf.py"))
        config = Config()
        config.set("accesslog", str(tmp_path / "access.log"))
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": HANDSHAKE, "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "facebookexternalua"}
        gunicorn_log = Logger(config)
        gunicorn_log.access(SimpleNamespace(status="403 Forbidden", sent=27, headers=[]), SimpleNamespace(headers=[]),
                            environ, timedelta(milliseconds=3))
    finally:
        logging.setLogRecordFactory(previous)
    for handler in gunicorn_log.access_log.handlers:
        handler.close()

    written = (tmp_path / "access.log").read_text()
    assert '"GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=1158201444 HTTP/1.1" 403 27' \
        in written
    assert "s3cret-verify" not in written
