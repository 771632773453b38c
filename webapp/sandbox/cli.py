"""`sandbox run`: the command line of the sandbox, registered on the Flask app as `flask sandbox run`
and run by `python -m webapp.sandbox run`. Every setting is a flag and a SANDBOX_* variable."""
from __future__ import annotations

import asyncio
import dataclasses
import logging

import click

from webapp.sandbox.config import SandboxConfig, field_types


def config_options(command):
    """A click option per setting: --rate / SANDBOX_RATE, --webhook-url / SANDBOX_WEBHOOK_URL, …"""
    types = field_types()
    for setting in reversed(dataclasses.fields(SandboxConfig)):
        flag = "--" + setting.name.replace("_", "-")
        kind = types[setting.name]
        declarations = [f"{flag}/--no-{flag[2:]}" if kind is bool else flag, setting.name]
        command = click.option(
            *declarations, type=None if kind is bool else kind, default=setting.default, show_default=True,
            envvar=f"SANDBOX_{setting.name.upper()}", show_envvar=True, help=setting.metadata["help"],
        )(command)
    return command


@click.group("sandbox")
def sandbox_cli() -> None:
    """A stand-in for Meta's WhatsApp Cloud API on localhost (see docs/sandbox.md)."""


@sandbox_cli.command("run")
@config_options
def run(**settings) -> None:
    """Serve the sandbox until Ctrl-C."""
    config = SandboxConfig(**settings)
    try:
        config.validate()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(levelname)s %(message)s")
    from webapp.sandbox.server import serve  # aiohttp loads only when the sandbox really runs

    asyncio.run(serve(config))
