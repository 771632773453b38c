"""Fixtures for the sandbox's contract tests: one sandbox subprocess and one webhook receiver for the
session, both reset before each test. Delays are short so the suite stays fast."""
from __future__ import annotations

import pytest

from tests.sandbox.harness import SECOND_PHONE_NUMBER_ID, SandboxProcess, WebhookReceiver

FAST = [
    "--latency-ms", "5", "--jitter-ms", "2",
    "--sent-delay", "0.05", "--delivered-delay", "0.1", "--read-delay", "0.15", "--reply-delay", "0.2",
    "--delay-jitter", "0", "--webhook-retry-base", "0.05", "--webhook-batch-wait", "0.05",
    # A second sender number, to show that limits are per number.
    "--extra-numbers", f"{SECOND_PHONE_NUMBER_ID}:15550009999",
]


@pytest.fixture(scope="session")
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def sandbox_process(webhook_receiver):
    process = SandboxProcess(*FAST, "--webhook-url", webhook_receiver.url)
    yield process
    process.stop()


@pytest.fixture
def sandbox(sandbox_process, webhook_receiver):
    """The running sandbox, back at its start-up settings with an empty ledger and no webhooks caught."""
    sandbox_process.reset()
    webhook_receiver.reset()
    return sandbox_process


@pytest.fixture
def webhooks(sandbox, webhook_receiver):
    return webhook_receiver
