"""The reliability trials: short campaigns through real workers, the real sandbox and the app's webhook endpoint
over HTTP, each with one fault, each on one database (marker `only_on`; see trials.py for what every trial
must show)."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests import factories
from tests.sandbox.harness import SandboxProcess
from webapp.extensions import db
from webapp.senders.services import sync_templates
from webapp.workspace.models import WorkspaceSettings

RATE = 250  # messages a second, the sandbox's and the sender's: 1,000 recipients take four seconds
QUICK_EVENTS = {"sent_delay": 0.2, "delivered_delay": 0.4, "read_delay": 0.6, "reply_delay": 0.8,
                "delay_jitter": 0.1, "webhook_batch": 25, "webhook_batch_wait": 0.1,
                "webhook_retry_base": 0.2, "webhook_retry_max": 0.5}


@pytest.fixture(scope="session")
def trial_sandbox():
    sandbox = SandboxProcess("--latency-ms", "30", "--jitter-ms", "10", "--rate", str(RATE), "--pair-interval", "0")
    yield sandbox
    sandbox.stop()


class Web:
    """The app served over HTTP on one port, which a trial can take down and bring back."""

    def __init__(self, app) -> None:
        self.app, self.server, self.port = app, None, 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # connections are refused, as when the web process is down


@pytest.fixture
def web(app):
    web = Web(app)
    web.start()
    yield web
    web.stop()


@pytest.fixture
def sandbox(app, trial_sandbox, web):
    """The sandbox, reset, playing each message's events out within a second and calling the app's webhook."""
    trial_sandbox.reset()
    trial_sandbox.configure(webhook_url=f"{web.url}/webhooks/meta", **QUICK_EVENTS)
    app.config.update(SANDBOX_ENABLED=True, SANDBOX_URL=trial_sandbox.base_url)
    WorkspaceSettings.get().meta_app_secret = "sandbox-app-secret"
    db.session.commit()
    yield trial_sandbox
    trial_sandbox.configure(webhook_url="")


@pytest.fixture
def sandbox_sender(app, sandbox):
    from webapp.senders.services import _client

    _client.cache_clear()
    sender = factories.sender(is_sandbox=True, throughput=RATE)
    sync_templates(sender)
    db.session.commit()
    return sender

