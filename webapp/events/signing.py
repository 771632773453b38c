"""The signature of an event delivery, Stripe-style: `X-Broadcaster-Signature: t=<unix time>,v1=<hex>`, where hex is
HMAC-SHA256 of "<t>.<body>" with the endpoint's secret. The timestamp inside the signed text lets a receiver refuse
an old delivery replayed by someone who recorded it (README: "Outbound events")."""
from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Broadcaster-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"

