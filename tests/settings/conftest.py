"""Settings tests sync templates from the real sandbox, with the fixtures the sending tests use."""
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401
