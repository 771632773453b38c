"""WhatsApp's text formatting as the customer's phone shows it: *bold*, _italic_, ~strikethrough~, ```monospace```.

The text is escaped first; only our own tags are added to it, so nothing a customer or staff typed becomes HTML.
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape

# A marker hugging its words (no space inside), as WhatsApp requires.
_STYLES = (
    (re.compile(r"```(.+?)```", re.S), "code"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "s"),
)


def whatsapp_format(text: str | None) -> Markup:
    html = str(escape(text or ""))
    for pattern, tag in _STYLES:
        html = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", html)
    return Markup(html)
