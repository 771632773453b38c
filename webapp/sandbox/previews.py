"""Link previews, fetched as WhatsApp fetches them: when a message whose text holds a web address is delivered,
the customer's phone asks that address for a title and an image, as "WhatsApp/2.23.20.0 A", without following its
redirect. The sandbox does so only for addresses on this machine (the app's tracked links), never the Internet."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp

from webapp.sandbox.ledger import MessageRecord

USER_AGENT = "WhatsApp/2.23.20.0 A"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT = 5.0
_running: set[asyncio.Task] = set()  # kept until done: the loop holds tasks only weakly


def fetch_preview(record: MessageRecord) -> None:
    """Start fetching the preview of the message's first web address, if it has one on this machine."""
    url = record.message.preview_url
    if url and urlsplit(url).hostname in LOOPBACK:
        task = asyncio.get_running_loop().create_task(_fetch(record, url))
        _running.add(task)
        task.add_done_callback(_running.discard)


async def _fetch(record: MessageRecord, url: str) -> None:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
            async with session.get(url, headers={"User-Agent": USER_AGENT}, allow_redirects=False) as response:
                record.note("link_preview", url=url, status=response.status)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        record.note("link_preview", url=url, error=str(exc) or type(exc).__name__)
