"""Compat API tests: the API enabled, a key, a client whose every answer is checked against the API's document; and
one live stack per slow test (the app over HTTP, the sandbox posting its webhooks back, a worker and cron)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
from rq import Worker

from tests.api.conftest import api, make_key  # noqa: F401 - api: our own API's client
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401
from tests.compat.contract import CompatClient, Contract, flask_send, http_send
from tests.processes import ProcessSet, wait_until
from webapp.api.models import SCOPES
from webapp.extensions import db
from webapp.queues import redis_client
from webapp.workspace.models import WorkspaceSettings


def enable(*names: str) -> None:
    WorkspaceSettings.get().compat_apis = list(names)
    db.session.commit()


@pytest.fixture
def compat(app, client):
    """compat(name, scopes=…, key=…) — the API enabled and a test client for it (key=None sends none)."""
    contracts: dict[str, Contract] = {}

    def make(name: str, scopes=SCOPES, key: str | None = "new") -> CompatClient:
        enable(*dict.fromkeys([*(WorkspaceSettings.get().compat_apis or []), name]))
        if name not in contracts:
            contracts[name] = Contract(client.get(f"/compat/{name}/openapi.json").get_json(), f"/compat/{name}")
        return CompatClient(contracts[name], flask_send(client), make_key(scopes) if key == "new" else key)

    return make


@dataclass
class LiveStack:
    base: str
    sandbox: object
    sender: object
    processes: ProcessSet  # its output() tells what the worker did, for a failure's message

    def client(self, name: str, scopes=SCOPES) -> CompatClient:
        enable(*dict.fromkeys([*(WorkspaceSettings.get().compat_apis or []), name]))
        http = requests.Session()
        contract = Contract(http.get(f"{self.base}/compat/{name}/openapi.json", timeout=30).json(), f"/compat/{name}")
        return CompatClient(contract, http_send(self.base, http), make_key(scopes))


@pytest.fixture
def live_stack(app, sandbox, sandbox_sender, live_server):
    """The app over HTTP, the sandbox (250 msg/s) posting signed webhooks to it, a worker and cron: one per slow
    test, which walks its API's whole path (examples, then create → recipients → send → poll)."""
    settings = WorkspaceSettings.get()
    settings.meta_app_secret = "sandbox-app-secret"
    sandbox_sender.throughput = 250
    db.session.commit()
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", webhook_batch=25, rate=250)
    group = ProcessSet(app)
    group.worker()
    group.cron()
    try:  # a worker takes seconds to start on a loaded machine: tests wait for the product, not for its boot
        wait_until(lambda: Worker.count(connection=redis_client()), 90, interval=0.2, message="the worker to start",
                   processes=group)
        yield LiveStack(live_server, sandbox, sandbox_sender, group)
    finally:
        group.stop()
        sandbox.configure(webhook_url="")
