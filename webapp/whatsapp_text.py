"""WhatsApp's text formatting as a phone shows it — *bold*, _italic_, ~strikethrough~ and ```monospace``` — as
safe HTML, for every page that shows a message the way the customer reads it (the Sandbox phone, the inbox).
The text is escaped first; only the formatting becomes markup."""
from __future__ import annotations

import re

from markupsafe import Markup, escape


def _between(marker: str) -> re.Pattern[str]:
    # As WhatsApp reads it: the markers hug the text (no space inside them), stand outside words, and stay on
    # one line; "2*3*4" and "snake_case_name" stay as typed.
    m = re.escape(marker)
    return re.compile(rf"(?<![\w{m}]){m}(?=\S)([^\n]*?\S){m}(?![\w{m}])")


_STYLES = (
    (re.compile(r"```(.+?)```", re.DOTALL), "code"),
    (_between("*"), "strong"),
    (_between("_"), "em"),
    (_between("~"), "del"),
)


def formatted(text: str) -> Markup:
    """The text as HTML, escaped, with WhatsApp's formatting applied."""
    html = str(escape(text))
    for pattern, tag in _STYLES:
        html = pattern.sub(lambda match, tag=tag: f"<{tag}>{match.group(1)}</{tag}>", html)
    return Markup(html)
