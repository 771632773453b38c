"""The readable API reference for staff (/api/v1/docs): the OpenAPI document rendered as a page."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from webapp.api.blueprint import api, bp
from webapp.api.schemas import SCHEMAS

docs = Blueprint("docs", __name__, url_prefix="/docs")  # "api.docs": not public, so the login gate applies


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
                           described=described, schemas=SCHEMAS, base=request.host_url.rstrip("/") + bp.url_prefix)


bp.register_blueprint(docs)
