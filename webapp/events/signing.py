"""The signature of an event delivery, Stripe-style: `X-Broadcaster-Signature: t=<unix time>,v1=<hex>`, where hex is
HMAC-SHA256 of "<t>.<body>" with the endpoint's secret. The timestamp inside the signed text lets a receiver refuse
an old delivery replayed by someone who recorded it (README: "Verifying an event's signature")."""
from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Broadcaster-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches (compared in constant time) and its time is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    expected = sign(secret, body, timestamp).rsplit("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, fields.get("v1", ""))
