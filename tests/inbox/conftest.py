"""The inbox's tests: webhooks in Meta's shape, and the real sandbox over HTTP for sends."""
import pytest

from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401 - shared fixtures
from tests.webhooks.scenarios import configure_webhook


@pytest.fixture
def webhook(app):
    """The webhook configured, and a sender number whose messages it applies (tests/webhooks/meta.py's)."""
    from tests import factories
    from webapp.extensions import db
    from webapp.senders.models import Sender

    if db.session.query(Sender).count() == 0:
        factories.sender()
        db.session.commit()
    return configure_webhook()


@pytest.fixture(scope="session")
def sandbox_webhooks():
    from tests.sandbox.harness import WebhookReceiver

    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


class Relay:
    """The sandbox's webhooks, caught by a receiver and handed on to the app's endpoint byte for byte (as Meta
    POSTs them, signed with the sandbox's app secret), until the app's database shows what a test waits for."""

    def __init__(self, receiver, client) -> None:
        self.receiver, self.client, self.handed = receiver, client, 0

    def until(self, condition, timeout: float = 5.0):
        import time

        from tests.sandbox.harness import APP_SECRET
        from tests.webhooks import meta
        from webapp.extensions import db

        deadline = time.monotonic() + timeout
        while True:
            for hook in self.receiver.accepted()[self.handed:]:
                assert meta.post(self.client, hook.body, secret=APP_SECRET).status_code == 200
                self.handed += 1
            db.session.expire_all()
            if result := condition():
                return result
            assert time.monotonic() < deadline, f"the app did not get there in {timeout} s"
            time.sleep(0.05)


@pytest.fixture
def relay(app, sandbox, sandbox_sender, sandbox_webhooks):
    """The sending sandbox posting its webhooks (statuses within a fraction of a second) for the app."""
    from tests.sandbox.harness import APP_SECRET

    sandbox_webhooks.reset()
    sandbox.configure(webhook_url=sandbox_webhooks.url, sent_delay=0.05, delivered_delay=0.1, read_delay=0.15,
                      reply_delay=60, delay_jitter=0, webhook_batch_wait=0.05, webhook_retry_base=0.05)
    configure_webhook(meta_app_secret=APP_SECRET)
    return Relay(sandbox_webhooks, app.test_client())
