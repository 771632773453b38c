"""Plays out each accepted message on the clock: its plan's statuses, failure, opt-out and the
customer's reply, each at its delay, recorded in the ledger and handed to the webhook sender."""
from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Callable

from webapp.sandbox import events
from webapp.sandbox.config import SandboxConfig
from webapp.sandbox.ids import wamid as new_wamid
from webapp.sandbox.ledger import Ledger, MessageRecord
from webapp.sandbox.media import MediaStore
from webapp.sandbox.previews import fetch_preview
from webapp.sandbox.profile import Outcome, Plan, opts_out, plan_for, plan_of, random_plan
from webapp.sandbox.validation import OutgoingMessage
from webapp.sandbox.webhooks import WebhookSender


class Lifecycle:
    def __init__(self, config: SandboxConfig, ledger: Ledger, webhooks: WebhookSender, rng: random.Random,
                 media: MediaStore) -> None:
        self.config = config
        self.ledger = ledger
        self.media = media
        self.webhooks = webhooks
        self.rng = rng
        # Events scheduled before a reset carry an older generation and are dropped when they fire.
        self.generation = 0

    def reset(self) -> None:
        self.generation += 1

    def plan(self, phone_number_id: str, message: OutgoingMessage) -> Plan:
        config = self.config
        if message.template is None and not self.ledger.in_service_window(phone_number_id, message.wa_id):
            return plan_of(Outcome.REENGAGEMENT, message.wa_id, config.seed)
        if message.media_id is not None and self.media.get(message.media_id) is None:
            return plan_of(Outcome.MEDIA_ERROR, message.wa_id, config.seed)
        marketing = message.category == "marketing"
        if message.template is not None and opts_out(message.wa_id, config.p_opt_out):
            return plan_of(Outcome.STOP, message.wa_id, config.seed)
        if config.profile == "random":
            return random_plan(message.wa_id, config.seed, self.rng, p_fail=config.p_fail,
                               p_delivered=config.p_delivered, p_read=config.p_read, p_reply=config.p_reply,
                               marketing=marketing)
        return plan_for(message.wa_id, config.seed, marketing=marketing)

    def start(self, record: MessageRecord, plan: Plan) -> None:
        """Schedule everything that will happen to an accepted message."""
        config = self.config
        offset = self.rng.uniform(0, config.delay_jitter)
        delays = [config.sent_delay, config.delivered_delay, config.read_delay][:len(plan.statuses)]
        if self.rng.random() < config.webhook_shuffle:
            self.rng.shuffle(delays)
        for status_name, delay in zip(plan.statuses, delays):
            self._at(offset + delay, lambda s=status_name: self._status(record, plan, s))
        if plan.opts_out:
            # The customer stopped marketing messages before this one came.
            self._at(offset + config.sent_delay / 2, lambda: self._opt_out(record, plan))
        if plan.replied:
            self._at(offset + config.reply_delay, lambda: self._reply(record, plan))

    def customer_writes(self, phone_number_id: str, wa_id: str, name: str, *, text: str | None = None,
                        button: tuple[str, str] | None = None, media: tuple[str, dict] | None = None,
                        context_id: str | None = None) -> dict:
        """A customer's message to the business: recorded, opens the service window, sent as a webhook."""
        display = self.config.numbers().get(phone_number_id, self.config.display_number)
        context = (display, context_id) if context_id else None
        message = events.inbound_message(new_wamid(wa_id, inbound=True), wa_id, text=text, button=button,
                                         media=media, context=context)
        self.ledger.add_inbound(phone_number_id, wa_id, message, name)
        self.webhooks.post(phone_number_id, "messages",
                           {"contacts": [events.contact(wa_id, name)], "messages": [message]})
        return message

    # --- the events ---

    def _at(self, delay: float, action: Callable[[], None]) -> None:
        generation = self.generation

        def fire() -> None:
            if generation == self.generation:
                action()

        asyncio.get_running_loop().call_later(delay, fire)

    def _status(self, record: MessageRecord, plan: Plan, status_name: str) -> None:
        message = record.message
        record.advance(status_name)
        free = zlib.crc32(record.wamid.encode()) % 1000 < self.config.p_free * 1000  # the same for all its statuses
        record.note("status", status=status_name, **({"error_code": plan.error_code} if plan.error_code else {}),
                    **({"billable": not free} if status_name in ("sent", "delivered") else {}))
        self.webhooks.post_status(record.phone_number_id, events.status(
            record.wamid, status_name, message.wa_id, category=message.category,
            callback_data=message.callback_data, error_code=plan.error_code, free=free))
        if status_name == "delivered" and self.config.link_previews:
            fetch_preview(record)  # the customer's phone shows the link's preview, as WhatsApp does

    def _opt_out(self, record: MessageRecord, plan: Plan) -> None:
        wa_id = record.message.wa_id
        record.note("user_preferences", value="stop")
        self.webhooks.post(record.phone_number_id, "user_preferences", {
            "contacts": [events.contact(wa_id, plan.customer_name)],
            "user_preferences": [events.user_preference(wa_id, "stop")]})

    def _reply(self, record: MessageRecord, plan: Plan) -> None:
        quick_replies = record.message.quick_replies
        context_id = record.wamid if plan.reply_context else None
        if plan.reply == "button" and quick_replies:
            sent = self.customer_writes(record.phone_number_id, record.message.wa_id, plan.customer_name,
                                        button=quick_replies[0], context_id=context_id)
        else:
            sent = self.customer_writes(record.phone_number_id, record.message.wa_id, plan.customer_name,
                                        text=plan.reply_text, context_id=context_id)
        record.note("reply", id=sent["id"], type=sent["type"],
                    text=sent.get("text", {}).get("body") or sent.get("button", {}).get("text"))
