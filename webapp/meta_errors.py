"""Meta's error codes and what Broadcaster does about each: one table, for a send's answer and for a
webhook's `failed` status alike (reference §2), and the one reader of Meta's error items.

Every Meta error reaches the rest of the product as a :class:`MetaError` (code, title, detail) with an
:class:`Action`; campaigns/outcomes.py says what each action does to a recipient row and its campaign.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Action(str, Enum):
    """What a failed message means for its recipient and its campaign."""

    RETRY = "retry"                  # transient: back off, limited retries, then fail the row
    THROTTLE = "throttle"            # the number's throughput was exceeded: slow down, retry
    PAIR_LIMIT = "pair_limit"        # this recipient was messaged too fast: retry them later, go on with others
    MAINTENANCE = "maintenance"      # the number is being migrated: retry after about a minute
    ROW_FAIL = "row_fail"            # final for this recipient
    MARKETING_CAP = "marketing_cap"  # per-user marketing cap: no retry within 24 h
    OPTED_OUT = "opted_out"          # the row fails and the contact is opted out
    STOP = "stop"                    # credentials, account or template trouble: pause the whole campaign

    @property
    def retryable(self) -> bool:
        """True when sending the same message again (later) may succeed."""
        return self in (Action.RETRY, Action.THROTTLE, Action.PAIR_LIMIT, Action.MAINTENANCE)


@dataclass(frozen=True)
class Rule:
    action: Action
    advice: str = ""  # for STOP: what the operator does before resuming ("{template}" names the template)


_TOKEN = "Meta refused the sender's access token{why}. Update it in Settings → Sender numbers, then resume."
_TEMPLATE = ("Meta refused the template {template}: it may be paused, disabled or changed. Sync templates in "
             "Settings and check its status; resume once it is approved again.")
_ACCOUNT = "Meta restricted this number or account. Check its status in WhatsApp Manager, then resume."

# code: (what Meta says it is, what we do). Read top to bottom like Meta's table.
POLICY: dict[int, Rule] = {
    0: Rule(Action.STOP, _TOKEN.format(why="")),
    190: Rule(Action.STOP, _TOKEN.format(why=" (wrong or expired)")),
    1: Rule(Action.RETRY),                   # Graph API: unknown error
    2: Rule(Action.RETRY),                   # Graph API: service temporarily unavailable
    4: Rule(Action.RETRY),                   # app call limit
    80007: Rule(Action.RETRY),               # WhatsApp Business Account rate limit
    130429: Rule(Action.THROTTLE),           # the number's throughput exceeded
    131056: Rule(Action.PAIR_LIMIT),         # same recipient messaged too fast
    131057: Rule(Action.MAINTENANCE),        # the number is in maintenance (about a minute)
    131000: Rule(Action.RETRY),              # something went wrong
    131016: Rule(Action.RETRY),              # service unavailable
    131005: Rule(Action.STOP, _ACCOUNT),     # access denied
    368: Rule(Action.STOP, _ACCOUNT),        # temporarily blocked for policy violations
    131031: Rule(Action.STOP, _ACCOUNT),     # business account locked
    131045: Rule(Action.STOP, _ACCOUNT),     # number not registered (certificate)
    133010: Rule(Action.STOP, _ACCOUNT),     # number not registered with the Cloud API
    131042: Rule(Action.STOP, "Meta reports a problem with the business's payment method. Fix it in WhatsApp "
                              "Manager, then resume."),
    131048: Rule(Action.STOP, "Meta limited this number because of spam reports or low quality. Check the "
                              "number's quality rating in WhatsApp Manager and wait before resuming."),
    131064: Rule(Action.STOP, _ACCOUNT),     # messaging limited for a mis-categorised template
    100: Rule(Action.ROW_FAIL),              # invalid parameter
    131008: Rule(Action.ROW_FAIL),           # required parameter missing
    131009: Rule(Action.ROW_FAIL),           # parameter value not valid
    131021: Rule(Action.ROW_FAIL),           # recipient is the sender
    131026: Rule(Action.ROW_FAIL),           # message undeliverable
    131047: Rule(Action.ROW_FAIL),           # more than 24 hours since the customer wrote
    131049: Rule(Action.MARKETING_CAP),      # per-user marketing limit ("healthy ecosystem engagement")
    131050: Rule(Action.OPTED_OUT),          # the user stopped marketing messages
    131051: Rule(Action.ROW_FAIL),           # unsupported message type
    131053: Rule(Action.ROW_FAIL),           # media upload error
    132000: Rule(Action.STOP, _TEMPLATE),    # number of parameters does not match the template
    132001: Rule(Action.STOP, _TEMPLATE),    # template does not exist in that language
    132005: Rule(Action.ROW_FAIL),           # translated text too long
    132007: Rule(Action.STOP, _TEMPLATE),    # template format character policy violated
    132012: Rule(Action.ROW_FAIL),           # parameter format does not match the template
    132015: Rule(Action.STOP, _TEMPLATE),    # template paused for low quality
    132016: Rule(Action.STOP, _TEMPLATE),    # template disabled
    135000: Rule(Action.ROW_FAIL),           # generic user error
}
UNKNOWN_ANSWER = "The Cloud API's answer was not one we understand. Check the sender's settings, then resume."


def classify(code: int | None, http_status: int | None = None) -> Action:
    """The action for a Meta error code: for a send's error envelope or a webhook's `failed` status.

    A 5xx is transient whatever its body says. A code we do not know fails only its row: it can
    neither loop forever nor halt every campaign. An HTTP error without a Graph envelope (a proxy's
    HTML page, a wrong base URL) would fail every row alike, so it stops the campaign.
    """
    if http_status is not None and http_status >= 500:
        return Action.RETRY
    if code is None:
        if http_status is None:  # no answer at all: timeout or connection error
            return Action.RETRY
        return Action.THROTTLE if http_status == 429 else Action.STOP
    return POLICY[code].action if code in POLICY else Action.ROW_FAIL


def advice(code: int | None, template_name: str) -> str:
    """What the operator does about an error that paused a campaign."""
    rule = POLICY.get(code) if code is not None else None
    if rule is None or not rule.advice:
        return UNKNOWN_ANSWER if code is None else _ACCOUNT
    return rule.advice.format(template=template_name)


@dataclass(frozen=True)
class MetaError:
    """An error as Meta reported it: its code, title and `error_data.details`."""

    code: int | None
    title: str
    detail: str = ""

    @property
    def action(self) -> Action:
        return classify(self.code)


def read_error_item(item: Any) -> MetaError:
    """One error object, from a send's error envelope (`error`) or a webhook's `errors[]`."""
    item = item if isinstance(item, Mapping) else {}
    data = item.get("error_data") if isinstance(item.get("error_data"), Mapping) else {}
    title = item.get("title") or without_code_prefix(str(item.get("message") or "")) or "Unknown error"
    return MetaError(int_or_none(item.get("code")), str(title), str(data.get("details") or ""))


def without_code_prefix(message: str) -> str:
    return re.sub(r"^\(#\d+\)\s*", "", message)


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
