"""`python -m webapp.sandbox run …`: the sandbox without the Flask app."""
from webapp.sandbox.cli import sandbox_cli

sandbox_cli(prog_name="python -m webapp.sandbox")
