import pytest

from tests.webhooks.scenarios import configure_webhook


@pytest.fixture
def webhook(app):
    """The workspace's webhook secret and verify token are set, as the first run or an admin sets them."""
    return configure_webhook()
