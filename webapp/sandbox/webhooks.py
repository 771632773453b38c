"""Delivers webhooks to the app as Meta does: signed with the app secret, statuses optionally batched,
shuffled or duplicated, and retried with bounded exponential backoff until the app answers 200."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import secrets
import time

import aiohttp

from webapp.sandbox import events
from webapp.sandbox.config import SandboxConfig
from webapp.sandbox.ledger import Ledger, WebhookDelivery, iso

log = logging.getLogger(__name__)


def encode(payload: dict) -> bytes:
    """Compact JSON with non-ASCII and `/` escaped, as Meta sends it.

    An app that checks the signature over re-serialised JSON instead of the raw body fails on these
    bytes, as it would against Meta.
    """
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def signature(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 header value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, config: SandboxConfig, ledger: Ledger, rng: random.Random) -> None:
        self.config = config
        self.ledger = ledger
        self.rng = rng
        self._session: aiohttp.ClientSession | None = None
        self._semaphore = asyncio.Semaphore(config.webhook_concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._posts: set[asyncio.Future] = set()  # POSTs on the wire
        self._batches: dict[str, list[dict]] = {}
        self._batch_timers: dict[str, asyncio.TimerHandle] = {}

    async def start(self) -> None:
        # No connection limit on the connector: the semaphore (webhook_concurrency) is the one limit.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def close(self) -> None:
        await self.reset()
        if self._session is not None:
            await self._session.close()

    async def reset(self) -> None:
        """Drop every webhook waiting to be sent or retried, and let the POSTs already on the wire end,
        so that none reaches the app after the reset (the ledger is cleared by its owner)."""
        for timer in self._batch_timers.values():
            timer.cancel()
        self._batch_timers.clear()
        self._batches.clear()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self._posts:
            await asyncio.wait(self._posts, timeout=self.config.webhook_timeout)
        self._semaphore = asyncio.Semaphore(self.config.webhook_concurrency)

    # --- what to send ---

    def post_status(self, phone_number_id: str, status: dict) -> None:
        """Send one status, alone or in a batch with others of the same number."""
        if not self.config.webhook_url:
            return
        if self.config.webhook_batch <= 1:
            self._deliver_value(phone_number_id, "messages", {"statuses": [status]})
            return
        batch = self._batches.setdefault(phone_number_id, [])
        batch.append(status)
        if len(batch) >= self.config.webhook_batch:
            self._flush(phone_number_id)
        elif phone_number_id not in self._batch_timers:
            loop = asyncio.get_running_loop()
            self._batch_timers[phone_number_id] = loop.call_later(
                self.config.webhook_batch_wait, self._flush, phone_number_id)

    def post(self, phone_number_id: str, field: str, parts: dict) -> None:
        """Send one change (inbound messages, user preferences) at once."""
        if self.config.webhook_url:
            self._deliver_value(phone_number_id, field, parts)

    def _flush(self, phone_number_id: str) -> None:
        timer = self._batch_timers.pop(phone_number_id, None)
        if timer is not None:
            timer.cancel()
        statuses = self._batches.pop(phone_number_id, [])
        if statuses:
            if self.rng.random() < self.config.webhook_shuffle:
                self.rng.shuffle(statuses)
            self._deliver_value(phone_number_id, "messages", {"statuses": statuses})

    def _deliver_value(self, phone_number_id: str, field: str, parts: dict) -> None:
        display = self.config.numbers().get(phone_number_id, self.config.display_number)
        payload = events.envelope(self.config.waba_id, field, events.value(phone_number_id, display, **parts))
        delivery = self.ledger.add_webhook(field, payload, encode(payload))
        self._spawn(self._deliver(delivery))

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- how it is sent ---

    async def _deliver(self, delivery: WebhookDelivery) -> None:
        config = self.config
        for attempt in range(1, config.webhook_max_attempts + 1):
            async with self._semaphore:
                post = asyncio.ensure_future(self._post_once(delivery.body))
                self._posts.add(post)
                post.add_done_callback(self._posts.discard)
                # Shielded: a reset cancels this delivery, but a POST already sent runs to its answer.
                outcome = await asyncio.shield(post)
            self.ledger.webhook_attempted(delivery, outcome)
            if outcome.get("status") == 200:
                self.ledger.webhook_settled(delivery, delivered=True)
                break
            if attempt < config.webhook_max_attempts:
                await asyncio.sleep(min(config.webhook_retry_base * 2 ** (attempt - 1), config.webhook_retry_max))
        else:
            self.ledger.webhook_settled(delivery, delivered=False)
            log.warning("webhook %s dropped after %s attempts: %s", delivery.id, len(delivery.attempts),
                        delivery.attempts[-1])
        if delivery.delivered and delivery.duplicate_of is None and self.rng.random() < config.webhook_duplicates:
            duplicate = self.ledger.add_webhook(delivery.field, delivery.payload, delivery.body, delivery.id)
            await self._deliver(duplicate)

    async def _post_once(self, body: bytes) -> dict:
        secret = self.config.app_secret
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature-256": signature(body, secret),
            # Meta still sends the older SHA-1 signature beside the SHA-256 one.
            "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        }
        outcome: dict = {"at": iso(time.time())}
        try:
            timeout = aiohttp.ClientTimeout(total=self.config.webhook_timeout)
            async with self._session.post(self.config.webhook_url, data=body, headers=headers,
                                          timeout=timeout) as response:
                await response.read()
                outcome["status"] = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}".rstrip(": ")
        return outcome

    async def verify_subscription(self) -> dict:
        """Meta's subscription handshake: GET the webhook with a challenge the app must echo."""
        challenge = secrets.token_hex(8)
        query = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": self.config.verify_token}
        try:
            async with self._session.get(self.config.webhook_url, params=query,
                                         timeout=aiohttp.ClientTimeout(total=self.config.webhook_timeout)) as response:
                text = await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return {"verified": False, "error": f"{type(exc).__name__}: {exc}"}
        return {"verified": response.status == 200 and text == challenge, "status": response.status,
                "challenge": challenge, "answer": text[:200]}
