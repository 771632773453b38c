"""The sandbox as a real subprocess, and a real webhook receiver to catch what it calls back.

Other test packages that need the sandbox (sending, webhooks, end-to-end) can import these two.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import requests

from webapp.cloudapi import CloudAPI
from webapp.sandbox.process import SandboxChild

VERSION = "v23.0"
TOKEN = "sandbox-token"
APP_SECRET = "sandbox-app-secret"
VERIFY_TOKEN = "sandbox-verify-token"
PHONE_NUMBER_ID = "100000000000001"
DISPLAY_NUMBER = "15550001234"
WABA_ID = "200000000000001"
SECOND_PHONE_NUMBER_ID = "100000000000002"  # the contract tests start the sandbox with a second number


def final_rows(ledger: list[dict]) -> dict[str, tuple[str, int | None]]:
    """What each number's recipient row must end as, from what the sandbox did with its message (its ledger):
    (status, error code)."""
    found = {}
    for message in ledger:
        failed = [e for e in message["events"] if e["kind"] == "status" and e["status"] == "failed"]
        replied = any(e["kind"] == "reply" for e in message["events"])
        status = "failed" if failed else "replied" if replied else message["status"]
        found["+" + message["to"].lstrip("+")] = (status, failed[0]["error_code"] if failed else None)
    return found


class SandboxProcess(SandboxChild):
    """The sandbox in a subprocess (see webapp.sandbox.process), with a small HTTP handle on it."""

    # 60 s, not 20: on two cores shared by a whole suite and more, a fresh clone's sandbox took 13–30 s to listen,
    # and a session fixture that times out errors every test of that worker that needs it.
    def __init__(self, *args: str, startup_timeout: float = 60.0) -> None:
        self.http = requests.Session()  # first: a sandbox that fails to start is stopped, which closes it
        super().__init__(*args, startup_timeout=startup_timeout)

    def stop(self) -> None:
        self.http.close()  # no idle keep-alive connection for the server to wait on while stopping
        super().stop()

    # --- Graph API ---

    def graph_url(self, path: str) -> str:
        return f"{self.base_url}/{VERSION}/{path}"

    def send(self, body: Any, *, token: str | None = TOKEN, phone_number_id: str = PHONE_NUMBER_ID,
             timeout: float = 10) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.http.post(self.graph_url(f"{phone_number_id}/messages"), json=body, headers=headers,
                              timeout=timeout)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(self.graph_url(path), params=params, headers={"Authorization": f"Bearer {TOKEN}"},
                             timeout=10)

    def client(self, **kwargs: Any) -> CloudAPI:
        return CloudAPI(self.base_url, VERSION, kwargs.pop("access_token", TOKEN), **kwargs)

    # --- the sandbox's own endpoints ---

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        if method != "GET":
            kwargs.setdefault("json", {})  # the sandbox's writes take application/json only
        response = self.http.request(method, f"{self.base_url}/_sandbox/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def configure(self, **settings: Any) -> dict:
        return self.control("PATCH", "config", json=settings)

    def reset(self) -> None:
        self.control("POST", "reset")

    def stats(self) -> dict:
        return self.control("GET", "stats")

    def messages(self, **filters: Any) -> list[dict]:
        return self.control("GET", "messages", params=filters)["data"]

    def fault(self, **spec: Any) -> None:
        self.control("POST", "faults", json=spec)

    def wait_until(self, condition: Callable[[SandboxProcess], Any], timeout: float = 5.0) -> Any:
        """Poll the sandbox until condition(self) is truthy: for what it records after answering."""
        deadline = time.monotonic() + timeout
        while not (result := condition(self)):
            assert time.monotonic() < deadline, f"the sandbox did not get there in {timeout} s"
            time.sleep(0.02)
        return result


@dataclass
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def values(self) -> list[dict]:
        return [change["value"] for entry in self.payload["entry"] for change in entry["changes"]]


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records every webhook POST and answers as told (200 by default);
    it answers Meta's GET verification handshake for `verify_token`."""

    def __init__(self, verify_token: str = VERIFY_TOKEN) -> None:
        self.verify_token = verify_token
        self.received: list[ReceivedWebhook] = []
        self._answers: deque[int] = deque()
        self._changed = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/webhooks/meta"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._changed:
            self.received.clear()
            self._answers.clear()

    def answer_next(self, *statuses: int) -> None:
        """Answer the next POSTs with these statuses, then 200 again."""
        with self._changed:
            self._answers.extend(statuses)

    def wait_for(self, condition: Callable[[WebhookReceiver], Any], timeout: float = 5.0) -> Any:
        """Block until condition(self) is truthy (checked on each POST); fail the test on timeout."""
        with self._changed:
            result = self._changed.wait_for(lambda: condition(self), timeout)
        assert result, f"webhooks did not arrive in {timeout} s; got {len(self.received)} POSTs"
        return result

    def accepted(self) -> list[ReceivedWebhook]:
        return [w for w in self.received if w.answered == 200]

    def statuses(self) -> list[dict]:
        """Every status item of every accepted POST, in arrival order."""
        return [s for w in self.accepted() for v in w.values for s in v.get("statuses", [])]

    def inbound_messages(self) -> list[dict]:
        return [m for w in self.accepted() for v in w.values for m in v.get("messages", [])]

    def changes(self, field: str) -> list[dict]:
        return [c for w in self.accepted() for e in w.payload["entry"] for c in e["changes"] if c["field"] == field]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._changed:
                    status = receiver._answers.popleft() if receiver._answers else 200
                    receiver.received.append(ReceivedWebhook(dict(self.headers), body, status))
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                if query.get("hub.verify_token") == [receiver.verify_token] and query.get("hub.mode") == ["subscribe"]:
                    answer = query["hub.challenge"][0].encode()
                    self.send_response(200)
                else:
                    answer = b"forbidden"
                    self.send_response(403)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass  # keep test output quiet; received webhooks are inspected directly

        return Handler
