"""The sandbox's record of everything: each accepted message (complete and in order, for exactly-once
checks and the Sandbox phone page), what customers wrote, every webhook POST, and the counters."""
from __future__ import annotations

import gc
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from webapp.sandbox.validation import OutgoingMessage, whatsapp_id

FREEZE_EVERY = 500  # accepted messages between two gc.freeze() calls (see add_message)
SERVICE_WINDOW = 24 * 3600  # seconds after a customer's message in which free-form messages may be sent
# How far a message has got, seen from the customer's phone; it never goes back.
_PROGRESS = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class MessageRecord:
    seq: int
    wamid: str
    phone_number_id: str
    message: OutgoingMessage
    accepted_at: float  # epoch seconds
    outcome: str = ""
    status: str = "accepted"
    events: list[dict] = field(default_factory=list)

    def advance(self, status: str) -> None:
        if _PROGRESS.get(status, 0) > _PROGRESS[self.status]:
            self.status = status

    def note(self, kind: str, **details: Any) -> None:
        now = time.time()
        self.events.append({"kind": kind, "at": iso(now), **details})

    def as_json(self) -> dict:
        message = self.message
        template = message.template
        return {
            "seq": self.seq,
            "wamid": self.wamid,
            "phone_number_id": self.phone_number_id,
            "to": message.to,
            "wa_id": message.wa_id,
            "type": message.type,
            "template": None if template is None else {
                "name": template["name"], "language": template["language"], "category": template["category"]},
            "parameters": message.params,
            "media": message.media,
            "text": message.text,
            "quick_replies": [{"text": label, "payload": payload} for label, payload in message.quick_replies],
            "links": [{"text": label, "url": url} for label, url in message.links],
            "biz_opaque_callback_data": message.callback_data,
            "accepted_at": iso(self.accepted_at),
            "accepted_ts": self.accepted_at,
            "outcome": self.outcome,
            "status": self.status,
            "events": self.events,
        }


@dataclass
class WebhookDelivery:
    """One webhook POST body and every attempt to deliver it."""

    id: int
    field: str
    payload: dict
    body: bytes
    created_at: float
    duplicate_of: int | None = None
    attempts: list[dict] = field(default_factory=list)
    delivered: bool = False
    gave_up: bool = False

    def as_json(self) -> dict:
        return {"id": self.id, "field": self.field, "created_at": iso(self.created_at),
                "duplicate_of": self.duplicate_of, "delivered": self.delivered, "gave_up": self.gave_up,
                "attempts": self.attempts, "payload": self.payload}


class Ledger:
    def __init__(self) -> None:
        self.in_flight = 0
        self.clear()

    def clear(self) -> None:
        gc.unfreeze()  # what the last run froze may be collected again
        self.messages: list[MessageRecord] = []
        self.by_wamid: dict[str, MessageRecord] = {}
        self.inbound: list[dict] = []
        self.last_inbound: dict[tuple[str, str], float] = {}
        self.webhooks: list[WebhookDelivery] = []
        self.webhook_counts: Counter[str] = Counter()  # kept as they happen: stats stay cheap on big runs
        self.errors: Counter[int] = Counter()
        self.accepted_by_number: Counter[str] = Counter()
        self.max_in_flight = self.in_flight  # requests in flight during a reset still finish
        self._seq = itertools.count(1)
        self._webhook_ids = itertools.count(1)

    # --- messages ---

    def add_message(self, wamid: str, phone_number_id: str, message: OutgoingMessage, outcome: str,
                    arrived_at: float) -> MessageRecord:
        """Record an accepted message; `arrived_at` (epoch seconds) is when its request arrived, the time the
        throughput limit counts, so the ledger's busiest window is the one the limit saw."""
        record = MessageRecord(next(self._seq), wamid, phone_number_id, message, arrived_at, outcome)
        self.messages.append(record)
        self.by_wamid[wamid] = record
        self.accepted_by_number[phone_number_id] += 1
        if record.seq % FREEZE_EVERY == 0:
            # Keep the ever-growing ledger out of Python's full garbage collections: at 10,000 messages one
            # pauses the event loop for ~100 ms, and the requests that wait meanwhile are stamped as arriving
            # together, a bunching Meta's edge does not add (it cost senders 130429 answers they never earned).
            gc.freeze()
        return record

    def find_messages(self, *, to: str | None = None, since: float | None = None, limit: int | None = None,
                      phone_number_id: str | None = None) -> list[MessageRecord]:
        """Accepted messages oldest first, filtered (`to` in either of its forms: as sent, or its wa_id);
        `limit` keeps the newest ones."""
        wanted_wa_id = whatsapp_id(to) if to else None
        found = [
            r for r in self.messages
            if (wanted_wa_id is None or r.message.wa_id == wanted_wa_id)
            and (since is None or r.accepted_at >= since)
            and (phone_number_id is None or r.phone_number_id == phone_number_id)
        ]
        return found[-limit:] if limit else found

    # --- what customers wrote ---

    def add_inbound(self, phone_number_id: str, wa_id: str, message: dict, name: str) -> None:
        now = time.time()
        self.inbound.append({"phone_number_id": phone_number_id, "wa_id": wa_id, "name": name,
                             "received_at": iso(now), "message": message})
        self.last_inbound[(phone_number_id, wa_id)] = now

    def customer_wrote(self, phone_number_id: str, wa_id: str, at: float | None) -> None:
        """Move the time the customer last wrote to this number (None: never), so a test can open, age or
        close their service window without waiting a day."""
        if at is None:
            self.last_inbound.pop((phone_number_id, wa_id), None)
        else:
            self.last_inbound[(phone_number_id, wa_id)] = at

    def in_service_window(self, phone_number_id: str, wa_id: str) -> bool:
        """True while free-form messages may go: less than 24 h since the customer last wrote to this number."""
        wrote_at = self.last_inbound.get((phone_number_id, wa_id))
        return wrote_at is not None and time.time() - wrote_at < SERVICE_WINDOW

    def service_window(self, phone_number_id: str, wa_id: str) -> dict:
        """The window as `GET /_sandbox/service-window` shows it."""
        wrote_at = self.last_inbound.get((phone_number_id, wa_id))
        return {"phone_number_id": phone_number_id, "wa_id": wa_id,
                "customer_wrote_at": None if wrote_at is None else iso(wrote_at),
                "closes_at": None if wrote_at is None else iso(wrote_at + SERVICE_WINDOW),
                "open": self.in_service_window(phone_number_id, wa_id)}

    # --- webhooks ---

    def add_webhook(self, field_name: str, payload: dict, body: bytes, duplicate_of: int | None = None
                    ) -> WebhookDelivery:
        delivery = WebhookDelivery(next(self._webhook_ids), field_name, payload, body, time.time(), duplicate_of)
        self.webhooks.append(delivery)
        self.webhook_counts["posts"] += 1
        self.webhook_counts["duplicates"] += duplicate_of is not None
        return delivery

    def webhook_attempted(self, delivery: WebhookDelivery, outcome: dict) -> None:
        delivery.attempts.append(outcome)
        self.webhook_counts["attempts"] += 1
        self.webhook_counts["failed_attempts"] += outcome.get("status") != 200

    def webhook_settled(self, delivery: WebhookDelivery, *, delivered: bool) -> None:
        delivery.delivered, delivery.gave_up = delivered, not delivered
        self.webhook_counts["delivered" if delivered else "gave_up"] += 1

    # --- counters ---

    def count_error(self, code: int) -> None:
        self.errors[code] += 1

    def enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1

    def stats(self, busiest: dict[str, dict]) -> dict:
        webhooks = self.webhook_counts
        return {
            "accepted": len(self.messages),
            "accepted_by_phone_number_id": dict(self.accepted_by_number),
            "rate_limited": self.errors[130429],
            "pair_limited": self.errors[131056],
            "errors": {str(code): n for code, n in sorted(self.errors.items())},
            "busiest_window": busiest,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "inbound": len(self.inbound),
            "webhooks": {
                **{key: webhooks[key] for key in ("posts", "delivered", "gave_up", "duplicates", "attempts",
                                                  "failed_attempts")},
                "pending": webhooks["posts"] - webhooks["delivered"] - webhooks["gave_up"],
            },
        }
