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
