"""Each compat API's answers held to its OpenAPI document (/compat/<name>/openapi.json): the status must be one the
operation lists, and the body must fit that status's schema (objects allow no other properties). The same check
for requests over the Flask test client and over real HTTP."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate


_VALID: set[str] = set()  # the documents found valid


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict


class Contract:
    """One compat API's document, and the check of an answer against it."""

    def __init__(self, document: dict, prefix: str) -> None:
        text = json.dumps(document, sort_keys=True)
        if text not in _VALID:  # validating a document takes a second: once per test session
            validate(document)  # a valid OpenAPI 3.1 document
            _VALID.add(text)
        self.document, self.prefix = document, prefix
        # The document's paths as patterns, those with fewer parameters first (/lists/new before /lists/{id}).
        self.patterns = sorted(((re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
                                for path in document["paths"]), key=lambda found: found[1].count("{"))

    def operation(self, method: str, path: str) -> dict:
        relative = path[len(self.prefix):] if path.startswith(self.prefix) else path
        for pattern, template in self.patterns:
            if pattern.match(relative) and method.lower() in self.document["paths"][template]:
                return self.document["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path}: no such operation in the document")

    def check(self, method: str, path: str, answer: Answer) -> None:
        responses = self.operation(method, path)["responses"]
        assert str(answer.status) in responses, \
            f"{method} {path} answered {answer.status}, not in the document: {sorted(responses)} ({answer.body})"
        content = responses[str(answer.status)].get("content")
        if content is None:
            return
        schema = content["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": self.document["components"]})
        errors = sorted(validator.iter_errors(answer.body), key=str)
        assert not errors, f"{method} {path} {answer.status} does not fit the document: {errors[0].message} " \
                           f"at {list(errors[0].absolute_path)} in {answer.body}"


Send = Callable[[str, str, Any, dict, dict], Answer]  # (method, url, json body, headers, query) -> Answer


class CompatClient:
    """Requests to one compat API with a key in the header form its document names; every answer is checked."""

    def __init__(self, contract: Contract, send: Send, key: str | None) -> None:
        self.contract, self.send = contract, send
        scheme = contract.document["components"]["securitySchemes"]["ApiKey"]
        self.headers = {}
        if key is not None:
            if scheme["type"] == "http":
                self.headers["Authorization"] = f"Bearer {key}"
            else:
                self.headers[scheme["name"]] = key

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **query) -> Answer:
        url = self.contract.prefix + path
        answer = self.send(method, url, raw if raw is not None else body, dict(self.headers),
                           {k: v for k, v in query.items() if v is not None})
        self.contract.check(method, url, answer)
        return answer


def flask_send(client) -> Send:
    def send(method, url, body, headers, query):
        data = body if isinstance(body, bytes) else (json.dumps(body) if body is not None else None)
        response = client.open(url, method=method, data=data, query_string=query,
                               headers={**headers, "Content-Type": "application/json"})
        return Answer(response.status_code, response.get_json(silent=True), dict(response.headers))
    return send


def http_send(base: str, session) -> Send:
    def send(method, url, body, headers, query):
        data = body if isinstance(body, bytes) else (json.dumps(body) if body is not None else None)
        response = session.request(method, base + url, data=data, params=query, timeout=60,
                                   headers={**headers, "Content-Type": "application/json"})
        return Answer(response.status_code, response.json() if response.content else None, dict(response.headers))
    return send
