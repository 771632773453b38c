"""`sandbox run`: the command line of the sandbox, registered on the Flask app as `flask sandbox run`
and run by `python -m webapp.sandbox run`. Every setting is a flag and a SANDBOX_* variable."""
from __future__ import annotations

import asyncio
import dataclasses
import json
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


@sandbox_cli.command("quality")
@click.argument("event", type=click.Choice(["FLAGGED", "UNFLAGGED", "UPGRADE", "DOWNGRADE", "THROUGHPUT_UPGRADE"]))
@click.option("--limit", "current_limit", help="The number's new tier: TIER_250, TIER_2K, TIER_10K, TIER_100K, "
                                               "TIER_UNLIMITED…")
@click.option("--rating", "quality_rating", type=click.Choice(["GREEN", "YELLOW", "RED"]), help="Its new rating.")
@click.option("--phone-number-id", help="Which sender number (default: the first).")
@click.option("--url", default="http://127.0.0.1:8001", show_default=True, envvar="SANDBOX_URL",
              help="The running sandbox.")
def quality(event: str, url: str, **spec) -> None:
    """Make a running sandbox rate its number again and send the phone_number_quality_update webhook
    (e.g. `flask sandbox quality DOWNGRADE --limit TIER_250`)."""
    _control(url, "quality", {"event": event, **{k: v for k, v in spec.items() if v}})


@sandbox_cli.command("restrict")
@click.argument("event", type=click.Choice(["ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE"]))
@click.option("--url", default="http://127.0.0.1:8001", show_default=True, envvar="SANDBOX_URL",
              help="The running sandbox.")
def restrict(event: str, url: str) -> None:
    """Make a running sandbox send an account_update webhook that restricts the account."""
    _control(url, "account-update", {"event": event})


@sandbox_cli.command("template-status")
@click.argument("name")
@click.argument("language")
@click.argument("event", type=click.Choice(["PAUSED", "DISABLED", "REINSTATED", "APPROVED", "REJECTED", "FLAGGED"]))
@click.option("--url", default="http://127.0.0.1:8001", show_default=True, envvar="SANDBOX_URL",
              help="The running sandbox.")
def template_status(name: str, language: str, event: str, url: str) -> None:
    """Make a running sandbox review a template again and send the message_template_status_update webhook
    (e.g. `flask sandbox template-status order_shipped en_US PAUSED`)."""
    _control(url, "template-status", {"name": name, "language": language, "event": event})


def _control(url: str, path: str, spec: dict) -> None:
    import requests

    try:
        answer = requests.post(f"{url.rstrip('/')}/_sandbox/{path}", json=spec, timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"Could not reach the sandbox at {url}: {exc}") from exc
    if answer.status_code >= 400:
        raise click.ClickException(answer.json().get("error", answer.text) if answer.headers.get(
            "Content-Type", "").startswith("application/json") else answer.text)
    click.echo(json.dumps(answer.json(), indent=2))
