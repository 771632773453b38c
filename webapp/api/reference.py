"""The readable API reference for staff (/api/v1/docs): the OpenAPI document rendered as a page."""
from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from markupsafe import Markup, escape

from webapp.api.blueprint import api, bp
from webapp.api.schemas import SCHEMAS, SCOPE_DESCRIPTIONS

docs = Blueprint("docs", __name__, url_prefix="/docs")  # "api.docs": not public, so the login gate applies


# The markdown the OpenAPI descriptions are written in is a small subset: `code`, **bold**, [links](url) and
# paragraphs. It is converted after escaping, so nothing in a description can become markup of its own; a link
# goes only to an http(s) address or to a place on this site.
CODE = re.compile(r"`([^`]+)`")
BOLD = re.compile(r"\*\*(.+?)\*\*")
LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|/|#)[^()\s]*)\)")


def inline(text: str | None) -> Markup:
    """One run of text as HTML: its source line breaks are spaces, code spans are kept as written."""
    parts = CODE.split(str(escape(" ".join((text or "").split()))))
    html = [f"<code>{part}</code>" if odd else LINK.sub(r'<a href="\2">\1</a>', BOLD.sub(r"<strong>\1</strong>", part))
            for part, odd in zip(parts, [False, True] * len(parts))]
    return Markup("".join(html))


def prose(text: str | None) -> Markup:
    """Paragraphs (split at blank lines) of inline text."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return Markup("".join(f"<p>{inline(p)}</p>" for p in paragraphs))


def type_text(schema: dict) -> str:
    """A property's type in a few words: "integer", "string or null", "array of RecipientIn"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "oneOf" in schema:
        return " or ".join(type_text(s) for s in schema["oneOf"])
    if "const" in schema:
        return repr(schema["const"]).lower()
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for one in kinds:
        if one == "array":
            words.append(f"array of {type_text(schema.get('items', {}))}")
        else:
            words.append(one)
    text = " or ".join(words)
    if schema.get("enum"):
        text += ": " + ", ".join(str(v) for v in schema["enum"])
    return text


def fields(name: str) -> list[dict]:
    """The properties of a named object schema, for a table; [] when it is not an object."""
    schema = SCHEMAS.get(name, {})
    required = set(schema.get("required", []))
    return [{"name": prop, "type": type_text(sub), "required": prop in required,
             "description": sub.get("description", "")} for prop, sub in (schema.get("properties") or {}).items()]


def described(name: str) -> str:
    schema = SCHEMAS.get(name, {})
    return schema.get("description", "") or (type_text(schema) if "properties" not in schema else "")


@docs.get("/")
def reference():
    from webapp.api.openapi import document

    spec = document(api.operations)
    return render_template("api/reference.html", spec=spec, operations=api.operations, fields=fields,
                           described=described, schemas=SCHEMAS, scopes=SCOPE_DESCRIPTIONS, prose=prose,
                           inline=inline, base=request.host_url.rstrip("/") + bp.url_prefix)


bp.register_blueprint(docs)
