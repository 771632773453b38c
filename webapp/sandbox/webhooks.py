"""Delivers webhooks to the app as Meta does: signed with the app secret, statuses optionally batched,
shuffled or duplicated, and retried with capped exponential backoff until the app answers 200, for up to
seven days (Meta's horizon). Undelivered POSTs wait in one queue ordered by their next attempt, served by one
task with at most `webhook_concurrency` POSTs on the wire: an app that is down for hours costs memory for the
waiting bodies (which the ledger keeps anyway), not a task or a timer per webhook."""
from __future__ import annotations

import asyncio
import hashlib
import heapq
import hmac
import itertools
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
        self._due: list[tuple[float, int, WebhookDelivery]] = []  # (monotonic time of the next attempt, order, …)
        self._order = itertools.count()
        self._wake: asyncio.Event | None = None
        self._runner: asyncio.Task | None = None
        self._attempts: set[asyncio.Task] = set()  # one per POST on the wire, at most webhook_concurrency
        self._batches: dict[str, list[dict]] = {}
        self._batch_timers: dict[str, asyncio.TimerHandle] = {}

    async def start(self) -> None:
        # No connection limit on the connector: webhook_concurrency is the one limit.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._wake = asyncio.Event()
        self._runner = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        await self.reset()
        if self._runner is not None:
            self._runner.cancel()
        if self._session is not None:
            await self._session.close()

    async def reset(self) -> None:
        """Drop every webhook waiting to be sent or retried, and let the POSTs already on the wire end,
        so that none reaches the app after the reset (the ledger is cleared by its owner)."""
        for timer in self._batch_timers.values():
            timer.cancel()
        self._batch_timers.clear()
        self._batches.clear()
        self._due.clear()
        if self._attempts:
            await asyncio.wait(self._attempts, timeout=self.config.webhook_timeout)
        self._due.clear()  # what those attempts put back

    def pending(self) -> list[dict]:
        """Webhooks not delivered yet, the next to be tried first, with when that is (ISO 8601)."""
        now, wall = time.monotonic(), time.time()
        return [{**delivery.as_json(), "next_attempt_at": iso(wall + max(0.0, at - now))}
                for at, _, delivery in sorted(self._due)]

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

    def post_account(self, field: str, value: dict) -> dict:
        """Send an account-level change (quality update, account update) as Meta does: the entry's time, no
        metadata; return the payload."""
        payload = events.envelope(self.config.waba_id, field, value, at=int(time.time()))
        if self.config.webhook_url:
            self._queue(self.ledger.add_webhook(field, payload, encode(payload)), time.monotonic())
        return payload

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
        self._queue(self.ledger.add_webhook(field, payload, encode(payload)), time.monotonic())

    def _queue(self, delivery: WebhookDelivery, at: float) -> None:
        heapq.heappush(self._due, (at, next(self._order), delivery))
        self._wake.set()

    # --- how it is sent ---

    async def _run(self) -> None:
        """Start each queued webhook's attempt when it is due and a POST may go on the wire."""
        while True:
            self._wake.clear()
            now = time.monotonic()
            while self._due and self._due[0][0] <= now and len(self._attempts) < self.config.webhook_concurrency:
                _, _, delivery = heapq.heappop(self._due)
                task = asyncio.get_running_loop().create_task(self._attempt(delivery))
                self._attempts.add(task)
                task.add_done_callback(self._attempt_ended)
            busy = len(self._attempts) >= self.config.webhook_concurrency
            timeout = None if busy or not self._due else max(0.0, self._due[0][0] - now)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    def _attempt_ended(self, task: asyncio.Task) -> None:
        self._attempts.discard(task)
        self._wake.set()

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        config = self.config
        outcome = await self._post_once(delivery.body)
        self.ledger.webhook_attempted(delivery, outcome)
        if outcome.get("status") == 200:
            self.ledger.webhook_settled(delivery, delivered=True)
            if delivery.duplicate_of is None and self.rng.random() < config.webhook_duplicates:
                duplicate = self.ledger.add_webhook(delivery.field, delivery.payload, delivery.body, delivery.id)
                self._queue(duplicate, time.monotonic())
            return
        tried = len(delivery.attempts)
        wait = min(config.webhook_retry_base * 2 ** (tried - 1), config.webhook_retry_max)
        out_of_attempts = config.webhook_max_attempts and tried >= config.webhook_max_attempts
        if out_of_attempts or time.time() + wait - delivery.created_at > config.webhook_give_up_after:
            self.ledger.webhook_settled(delivery, delivered=False)
            log.warning("webhook %s dropped after %s attempts: %s", delivery.id, tried, outcome)
        else:
            self._queue(delivery, time.monotonic() + wait)

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
