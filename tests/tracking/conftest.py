import pytest

from tests.webhooks.scenarios import configure_webhook


@pytest.fixture
def webhook(app):
    return configure_webhook()
