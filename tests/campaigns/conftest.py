"""Sending tests talk to the real sandbox over HTTP."""
from __future__ import annotations

import pytest

from tests.sandbox.harness import SandboxProcess


@pytest.fixture(scope="session")
def sending_sandbox():
    """A sandbox with short latency and a rate of 50 msg/s; tests reset it before use."""
    sandbox = SandboxProcess("--latency-ms", "30", "--jitter-ms", "10", "--rate", "50", "--pair-interval", "0")
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(app, sending_sandbox):
    sending_sandbox.reset()
    app.config.update(SANDBOX_ENABLED=True, SANDBOX_URL=sending_sandbox.base_url)
    from webapp.senders.services import _client

    _client.cache_clear()
    return sending_sandbox


@pytest.fixture
def sandbox_sender(app, sandbox):
    from tests import factories
    from webapp.extensions import db
    from webapp.senders.services import sync_templates

    sender = factories.sender(is_sandbox=True, throughput=50)
    sync_templates(sender)
    db.session.commit()
    return sender
