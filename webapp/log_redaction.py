"""Secrets in URLs never reach a log: the value of a query parameter named like a secret (Meta's
`hub.verify_token`, `access_token`, `key`, `api_key`, `password`, `signature`, `client_secret`…) is written
as [redacted] in every log line of the process — gunicorn's access and error logs, the dev server's request
log, the app's own logs and their tracebacks — whichever handler writes them.

`install()` does it with a log record factory, so no logger or handler configured later (gunicorn's, Alembic's
fileConfig, RQ's) can miss it: create_app and gunicorn.conf.py call it.
"""
from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# After ? & or ;, a parameter whose name ends like a secret's; its value runs to the next & or the URL's end.
SECRET_PARAMETER = re.compile(
    r"(?P<before>[?&;][\w.%-]*(?:token|secret|key|password|passwd|pwd|signature)=)[^&;#\s\"'<>]*", re.IGNORECASE)


def redact(text: str) -> str:
    # Most lines have no "=" at all (a webhook POST's access line): they cost a scan, not a regex.
    return SECRET_PARAMETER.sub(rf"\g<before>{REDACTED}", text) if "=" in text else text


def install() -> None:
    """From now on every log record this process makes is redacted (calling it again changes nothing)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return

    def redacted_record(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    redacted_record.redacts = True
    logging.setLogRecordFactory(redacted_record)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the message: logging itself reports it
        return
    if (safe := redact(message)) != message:
        record.msg, record.args = safe, ()
    if record.exc_info and not record.exc_text:  # an exception's message may carry the URL it failed on
        text = logging.Formatter().formatException(record.exc_info)
        if (safe := redact(text)) != text:
            record.exc_text = safe
