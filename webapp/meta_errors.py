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


# code: what we do. Read top to bottom like Meta's table; what each means to a shop owner is in EXPLANATIONS.
POLICY: dict[int, Rule] = {
    0: Rule(Action.STOP),                    # authentication failed
    190: Rule(Action.STOP),                  # access token expired
    1: Rule(Action.RETRY),                   # Graph API: unknown error
    2: Rule(Action.RETRY),                   # Graph API: service temporarily unavailable
    4: Rule(Action.RETRY),                   # app call limit
    80007: Rule(Action.RETRY),               # WhatsApp Business Account rate limit
    130429: Rule(Action.THROTTLE),           # the number's throughput exceeded
    131056: Rule(Action.PAIR_LIMIT),         # same recipient messaged too fast
    131057: Rule(Action.MAINTENANCE),        # the number is in maintenance (about a minute)
    131000: Rule(Action.RETRY),              # something went wrong
    131016: Rule(Action.RETRY),              # service unavailable
    131005: Rule(Action.STOP),               # access denied
    368: Rule(Action.STOP),                  # temporarily blocked for policy violations
    131031: Rule(Action.STOP),               # business account locked
    131045: Rule(Action.STOP),               # number not registered (certificate)
    133010: Rule(Action.STOP),               # number not registered with the Cloud API
    131042: Rule(Action.STOP),               # payment method
    131048: Rule(Action.STOP),               # spam rate limit (quality)
    131064: Rule(Action.STOP),               # messaging limited for a mis-categorised template
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
    132000: Rule(Action.STOP),               # number of parameters does not match the template
    132001: Rule(Action.STOP),               # template does not exist in that language
    132005: Rule(Action.ROW_FAIL),           # translated text too long
    132007: Rule(Action.STOP),               # template format character policy violated
    132012: Rule(Action.ROW_FAIL),           # parameter format does not match the template
    132015: Rule(Action.STOP),               # template paused for low quality
    132016: Rule(Action.STOP),               # template disabled
    135000: Rule(Action.ROW_FAIL),           # generic user error
}


@dataclass(frozen=True)
class Explanation:
    """What an error means to a shop owner, in one line, and what they do about it (Meta's own code, title and
    details stay a click away: they are for whoever asks Meta's support)."""

    summary: str
    action: str

    def __str__(self) -> str:
        return f"{self.summary} {self.action}"


_RETRIED = "Nothing to do; Broadcaster retries it a few times before giving up on this recipient."
_SLOWED = "Nothing to do; Broadcaster slows down and tries again."
_TOKEN = "Update it in Settings → Sender numbers, then resume the campaign."
_ACCOUNT = "Check the number's status in WhatsApp Manager, then resume the campaign."
_TEMPLATE = "Sync templates in Settings and check its status; resume once it is approved again."
_VALUES = "Check the campaign's variables and this contact's values, then send again to the failed recipients."

# code: (what happened, what to do) for a shop owner. "{template}" names the campaign's template.
EXPLANATIONS: dict[int, Explanation] = {
    0: Explanation("Meta refused the sender number's access token.", _TOKEN),
    190: Explanation("The sender number's access token is wrong or has expired.", _TOKEN),
    1: Explanation("Meta had an unexpected problem.", _RETRIED),
    2: Explanation("Meta's service was briefly unavailable.", _RETRIED),
    4: Explanation("Meta's limit on requests from this app was reached.", _SLOWED),
    80007: Explanation("Meta's limit on requests for this WhatsApp Business Account was reached.", _SLOWED),
    130429: Explanation("The number sent faster than Meta allows it.", _SLOWED),
    131056: Explanation("This person was sent several messages in a short time.",
                        "Nothing to do; they are tried again later while the others go on."),
    131057: Explanation("The sender number is in maintenance at Meta (about a minute).",
                        "Nothing to do; sending goes on after the pause."),
    131000: Explanation("Something went wrong at Meta.", _RETRIED),
    131016: Explanation("Meta's service was unavailable.", _RETRIED),
    131005: Explanation("Meta denied this number permission to send.", _ACCOUNT),
    368: Explanation("Meta temporarily blocked the account for breaking its policies.", _ACCOUNT),
    131031: Explanation("Meta locked the business account.", _ACCOUNT),
    131045: Explanation("The sender number is not properly registered with WhatsApp.", _ACCOUNT),
    133010: Explanation("The sender number is not registered with the Cloud API.", _ACCOUNT),
    131042: Explanation("Meta reports a problem with the business's payment method.",
                        "Fix it in WhatsApp Manager, then resume the campaign."),
    131048: Explanation("Meta limited this number because of spam reports or low quality.",
                        "Check the number's quality rating in WhatsApp Manager and wait before resuming."),
    131064: Explanation("Meta limited messaging because a template was in the wrong category.", _ACCOUNT),
    100: Explanation("Meta did not accept a value filled into the message.", _VALUES),
    131008: Explanation("A value the template needs was missing.", _VALUES),
    131009: Explanation("A value filled into the message is not valid for Meta.", _VALUES),
    131021: Explanation("This recipient is the sender number itself.", "Nothing to do; a number can't message itself."),
    131026: Explanation("This number can't receive the message — it may not use WhatsApp or may have an old app.",
                        "Nothing to do; it won't be retried."),
    131047: Explanation("More than 24 hours have passed since this customer last wrote.",
                        "Reach them with an approved template instead."),
    131049: Explanation("Meta limits how many marketing messages one person gets, and this person had reached it.",
                        "Nothing to do; they get no marketing message from Broadcaster for 24 hours."),
    131050: Explanation("This person stopped marketing messages from your business.",
                        "Nothing to do; they are marked opted out and won't be sent marketing again."),
    131051: Explanation("Meta does not support this kind of message.", "Check the template's header and buttons."),
    131052: Explanation("A photo or file a customer sent could not be downloaded.", "Ask them to send it again."),
    131053: Explanation("The header's image, video or document could not be fetched, or its type is not supported.",
                        "Check the campaign's media link: a public address of a supported file."),
    132000: Explanation("The number of values filled in does not match the template {template}.", _TEMPLATE),
    132001: Explanation("The template {template} does not exist in this language, or is not approved yet.",
                        _TEMPLATE),
    132005: Explanation("The message is too long once the values are filled in.",
                        "Use shorter values for this contact, then send again to the failed recipients."),
    132007: Explanation("The template {template} breaks Meta's formatting rules.", _TEMPLATE),
    132012: Explanation("A value does not have the format the template expects (a date, a currency…).", _VALUES),
    132015: Explanation("Meta paused the template {template} for low quality.", _TEMPLATE),
    132016: Explanation("Meta disabled the template {template}.", _TEMPLATE),
    135000: Explanation("Meta refused the message's values.", _VALUES),
}
NO_ANSWER = Explanation("The Cloud API's answer was not one Broadcaster understands.",
                        "Check the sender number's settings, then resume the campaign.")


def explain(code: int | None, template: str = "") -> Explanation:
    """An error in plain words for the log, the banners and the pause notice; `template` names the campaign's
    template where the wording mentions it. A code Meta added since is explained by what we do with it."""
    found = EXPLANATIONS.get(code) if code is not None else NO_ANSWER
    if found is None:
        found = Explanation(f"Meta refused this message (error {code}).",
                            "Meta's details say why; it won't be retried.")
    named = f" {template}" if template else ""
    return Explanation(found.summary.replace(" {template}", named), found.action.replace(" {template}", named))


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


def pause_notice(error: MetaError, template: str, *, reviewed: bool = False) -> str:
    """The banner of a campaign an error paused: what happened and what to do, then Meta's own words (`reviewed`:
    Meta's review of the template said it, before any send failed with the error)."""
    said = (f"the template's review: {error.title}" if reviewed else
            f"error {error.code}: {error.title}" if error.code is not None else error.title)
    details = f" — “{error.detail}”" if error.detail and error.detail != error.title else ""
    return f"Paused: {explain(error.code, template)} (Meta: {said}{details}.)"


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
