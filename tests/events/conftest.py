import pytest

from tests.events.receiver import Receiver
from tests.webhooks.conftest import webhook  # noqa: F401


@pytest.fixture
def receiver(app):
    """A receiver on 127.0.0.1, which the app may send to here only: private addresses are allowed for tests."""
    app.config.update(EVENTS_ALLOW_PRIVATE=True, EVENTS_TIMEOUT_SECONDS=0.3)
    receiver = Receiver()
    receiver.url = receiver.start()
    yield receiver
    receiver.stop()
