"""Everything one running sandbox holds (settings, templates, limits, ledger, faults, webhooks), and
the one place a message is accepted."""
from __future__ import annotations

import dataclasses
import random
import time
from typing import Any

from aiohttp import web

from webapp.sandbox import events
from webapp.sandbox.config import SandboxConfig
from webapp.sandbox.errors import GraphError
from webapp.sandbox.faults import FaultInjector
from webapp.sandbox.ids import wamid as new_wamid
from webapp.sandbox.ledger import Ledger, MessageRecord
from webapp.sandbox.lifecycle import Lifecycle
from webapp.sandbox.limits import PairLimiter, ThroughputLimiter
from webapp.sandbox.media import MediaStore
from webapp.sandbox.templates import TemplateStore
from webapp.sandbox.validation import OutgoingMessage, business_country_code
from webapp.sandbox.webhooks import WebhookSender


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        config.validate()
        self.config = config
        self._startup_config = dataclasses.replace(config)
        self.templates = TemplateStore(app_url=lambda: self.config.app_url)
        self.ledger = Ledger()
        self.throughput = ThroughputLimiter()
        self.pairs = PairLimiter()
        self.faults = FaultInjector()
        self.media = MediaStore()
        # Seeded: plans of the random profile, delay jitter, shuffles and duplicates repeat with the seed.
        self.rng = random.Random(config.seed)
        self._latency_rng = random.Random()
        self.webhooks = WebhookSender(config, self.ledger, self.rng)
        self.lifecycle = Lifecycle(config, self.ledger, self.webhooks, self.rng, self.media)
        self.quality: dict[str, tuple[str, str]] = {}  # phone number id -> (quality rating, tier) once changed

    def number_quality(self, phone_number_id: str) -> tuple[str, str]:
        """The number's quality rating and messaging-limit tier, as GET /{phone-number-id} shows them."""
        return self.quality.get(phone_number_id, ("GREEN", "TIER_UNLIMITED"))

    def change_quality(self, phone_number_id: str, event: str, tier: str | None, rating: str | None) -> dict:
        """Meta rates a number again: keep the new rating and tier and send the quality webhook; return it."""
        old_rating, old_tier = self.number_quality(phone_number_id)
        rating = rating or {"FLAGGED": "RED", "UNFLAGGED": "GREEN"}.get(event, old_rating)
        self.quality[phone_number_id] = (rating, tier or old_tier)
        display = self.config.numbers()[phone_number_id]
        return self.webhooks.post_account("phone_number_quality_update",
                                          events.quality_update(display, event, tier or old_tier, old_tier))

    def change_template(self, template: dict, event: str, reason: str) -> dict:
        """Meta reviews a template again: keep its new status (sends of a paused one fail with 132015, of a
        disabled one 132016) and send the message_template_status_update webhook; return it."""
        status = events.TEMPLATE_EVENTS[event]
        if status is not None:
            self.templates.set_status(template, status)
        return self.webhooks.post_account("message_template_status_update",
                                          events.template_status_update(template, event, reason))

    @property
    def country_code(self) -> str:
        return business_country_code(self.config.display_number)

    def latency(self) -> float:
        """Seconds to wait before answering a Graph request."""
        config = self.config
        jitter = self._latency_rng.uniform(-config.jitter_ms, config.jitter_ms)
        return max(config.latency_ms + jitter, 0.0) / 1000

    def accept(self, phone_number_id: str, message: OutgoingMessage, arrival: float) -> MessageRecord:
        """Record a valid message and start its life, unless its recipient was messaged too recently."""
        if not self.pairs.allows(phone_number_id, message.wa_id, self.config.pair_interval, arrival):
            raise GraphError(131056)
        self.pairs.record(phone_number_id, message.wa_id, arrival)
        plan = self.lifecycle.plan(phone_number_id, message)
        arrived_at = time.time() - (time.monotonic() - arrival)
        record = self.ledger.add_message(new_wamid(message.wa_id), phone_number_id, message, plan.outcome.value,
                                         arrived_at)
        self.lifecycle.start(record, plan)
        return record

    def configure(self, changes: dict[str, Any]) -> None:
        self.config.update(changes)
        if "seed" in changes:
            self.rng.seed(self.config.seed)

    async def reset(self) -> None:
        """Back to the state at start-up: settings, ledger, limits, faults; pending events and webhooks
        dropped. When it returns, no webhook of before the reset is on its way to the app."""
        self.lifecycle.reset()
        await self.webhooks.reset()
        for field in dataclasses.fields(self.config):
            setattr(self.config, field.name, getattr(self._startup_config, field.name))
        self.ledger.clear()
        self.throughput = ThroughputLimiter()
        self.pairs = PairLimiter()
        self.faults.clear()
        self.media.clear()
        self.quality.clear()
        self.templates.reset()
        self.rng.seed(self.config.seed)


STATE = web.AppKey("sandbox_state", SandboxState)
