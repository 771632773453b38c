"""Builds the sandbox's aiohttp application and serves it until SIGINT or SIGTERM."""
from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from webapp.sandbox.config import SandboxConfig
from webapp.sandbox.control import add_control_routes, json_writes_only
from webapp.sandbox.graph import add_graph_routes, graph_front
from webapp.sandbox.process import BANNER
from webapp.sandbox.state import STATE, SandboxState

log = logging.getLogger("webapp.sandbox")
# Hundreds of clients may connect at once; the default listen backlog (128) would drop some.
BACKLOG = 2048


def create_sandbox_app(config: SandboxConfig) -> web.Application:
    """The sandbox as an aiohttp application: Graph endpoints plus the /_sandbox control endpoints."""
    app = web.Application(middlewares=[json_writes_only, graph_front], client_max_size=4 * 1024 * 1024)
    state = SandboxState(config)
    app[STATE] = state
    add_control_routes(app)
    add_graph_routes(app)

    async def start_webhooks(_app: web.Application) -> None:
        await state.webhooks.start()

    async def stop_webhooks(_app: web.Application) -> None:
        await state.webhooks.close()

    app.on_startup.append(start_webhooks)
    app.on_cleanup.append(stop_webhooks)
    return app


async def serve(config: SandboxConfig) -> None:
    app = create_sandbox_app(config)
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access") if config.access_log else None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=BACKLOG)
    await site.start()
    host, port = runner.addresses[0][:2]
    webhooks = config.webhook_url or "off (no --webhook-url)"
    # SandboxChild reads the address from this first line (it matters with --port 0).
    print(f"{BANNER}http://{host}:{port}", flush=True)
    print(f"  phone number id {config.phone_number_id} (+{config.display_number}), WABA {config.waba_id}, "
          f"profile {config.profile}, {config.rate} msg/s; webhooks to {webhooks}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        log.info("sandbox stopping")
        await runner.cleanup()
