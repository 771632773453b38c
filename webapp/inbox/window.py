"""WhatsApp's customer-service window: free-form messages may go only within 24 hours of the customer's last
message; outside it, only an approved template (Meta answers anything else with error 131047)."""
from __future__ import annotations

from datetime import datetime, timedelta

from webapp.meta_errors import MetaError

WINDOW = timedelta(hours=24)
CLOSED = MetaError(131047, "Outside the 24-hour window — needs a template",
                   "The customer's last message is more than 24 hours old: only an approved template can reach them.")


def closes_at(last_customer_message_at: datetime | None) -> datetime | None:
    """When the window closes (None: the customer never wrote, so it never opened)."""
    return last_customer_message_at + WINDOW if last_customer_message_at else None


def is_open(last_customer_message_at: datetime | None, now: datetime) -> bool:
    closing = closes_at(last_customer_message_at)
    return closing is not None and now < closing


def remaining(last_customer_message_at: datetime | None, now: datetime) -> timedelta:
    """Time left to answer freely; zero once closed."""
    closing = closes_at(last_customer_message_at)
    return max(closing - now, timedelta(0)) if closing else timedelta(0)


def describe_remaining(left: timedelta) -> str:
    """"23 h 59 min left", "12 min left" — what the composer shows."""
    minutes = int(left.total_seconds() // 60)
    if minutes <= 0:
        return "closed"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min left" if hours else f"{minutes} min left"
