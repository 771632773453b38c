"""Message ids shaped like Meta's: `wamid.` + base64 of a small record holding the customer's number."""
from __future__ import annotations

import base64
import itertools
import secrets

_counter = itertools.count(1)


def wamid(wa_id: str, *, inbound: bool = False) -> str:
    """A new, unique wamid for a message to (or, inbound, from) `wa_id`.

    Real wamids are base64 of a protobuf-like record: the number, a direction byte and a random id;
    apps must treat them as opaque strings, and these are as long and as varied as Meta's.
    """
    number = wa_id.encode()
    unique = f"{next(_counter):06X}{secrets.token_hex(6).upper()}".encode()
    direction = b"\x12" if inbound else b"\x11"
    record = b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00" + direction + b"\x18"
    record += bytes([len(unique)]) + unique + b"\x00"
    return "wamid." + base64.b64encode(record).decode()
