"""What happens to each accepted message: its statuses, failure, reply or opt-out.

The deterministic profile (the default) decides from the recipient's number and the seed alone, so a
test can predict every counter with `plan_for`; the random profile draws from probabilities with a
seeded generator. docs/sandbox.md has the table.
"""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from enum import Enum


class Outcome(str, Enum):
    UNDELIVERABLE = "failed_131026"
    MARKETING_CAP = "failed_131049"
    OPTED_OUT = "failed_131050"          # also a user_preferences "stop" webhook
    REENGAGEMENT = "failed_131047"       # free-form message outside the 24 h window (not in the table)
    MEDIA_ERROR = "failed_131053"        # media sent by an id the sandbox does not hold (not in the table)
    SENT = "sent"                        # sent, never delivered
    DELIVERED = "delivered"              # delivered, never read
    READ = "read"
    REPLY = "reply"                      # read, then a text reply quoting the message (context.id)
    BUTTON = "button"                    # read, then a quick-reply button press (context.id)
    STOP = "stop"                        # read, then "STOP" typed as a new message
    REPLY_NO_CONTEXT = "reply_no_context"  # read, then a text reply that quotes nothing


# (first, last) of the key range -> outcome; key = (last two digits of the number + seed) mod 100.
DETERMINISTIC_TABLE: tuple[tuple[int, int, Outcome], ...] = (
    (0, 4, Outcome.UNDELIVERABLE),
    (5, 7, Outcome.MARKETING_CAP),
    (8, 9, Outcome.OPTED_OUT),
    (10, 19, Outcome.SENT),
    (20, 39, Outcome.DELIVERED),
    (40, 69, Outcome.READ),
    (70, 79, Outcome.REPLY),
    (80, 89, Outcome.BUTTON),
    (90, 94, Outcome.STOP),
    (95, 99, Outcome.REPLY_NO_CONTEXT),
)
# Only marketing messages meet the per-user marketing cap and the marketing opt-out; other messages
# with those keys are read.
MARKETING_ONLY = frozenset({Outcome.MARKETING_CAP, Outcome.OPTED_OUT})

_FAILURE_CODES = {Outcome.UNDELIVERABLE: 131026, Outcome.MARKETING_CAP: 131049, Outcome.OPTED_OUT: 131050,
                  Outcome.REENGAGEMENT: 131047, Outcome.MEDIA_ERROR: 131053}
_STATUSES = {Outcome.SENT: ("sent",), Outcome.DELIVERED: ("sent", "delivered"),
             Outcome.READ: ("sent", "delivered", "read")}
_REPLY_KIND = {Outcome.REPLY: "text", Outcome.BUTTON: "button", Outcome.STOP: "stop",
               Outcome.REPLY_NO_CONTEXT: "text"}

CUSTOMER_NAMES = ("Camila", "Mateo", "Sofía", "Liam", "Amara", "Noah", "Yuki", "Olivia", "Ravi", "Emma",
                  "Lucas", "Fatima", "Jonas", "Isabella", "Kwame", "Mia")
REPLIES_IN_CONTEXT = ("Is this still available?", "Great, I'll come by on Saturday", "What time do you open?",
                      "Can you deliver to my area?", "Thanks! Does it come in blue?")
REPLIES_OUT_OF_CONTEXT = ("Hi, are you open today?", "Hello! Quick question about my order",
                          "Do you have gift cards?")
STOP_WORD = "STOP"


@dataclass(frozen=True)
class Plan:
    """The fate of one message, decided when it is accepted."""

    outcome: Outcome
    statuses: tuple[str, ...]        # status webhooks in order: ("sent", "delivered", "read") or ("failed",)
    customer_name: str               # the profile name inbound webhooks carry
    error_code: int | None = None    # of the failed status
    reply: str | None = None         # "text", "button" or "stop"
    reply_context: bool = False      # the reply carries context.id = the message's wamid
    reply_text: str | None = None    # what a text or stop reply says; a button press sends this as a text
                                     # reply when the message has no quick-reply button
    opts_out: bool = False           # a user_preferences marketing "stop" webhook comes too

    @property
    def replied(self) -> bool:
        return self.reply is not None


def plan_for(number: str, seed: int = 0, *, marketing: bool = True) -> Plan:
    """The deterministic profile's plan for a message to `number` (any format; its digits count)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    key = (int(digits[-2:] or 0) + seed) % 100
    outcome = next(outcome for first, last, outcome in DETERMINISTIC_TABLE if first <= key <= last)
    if outcome in MARKETING_ONLY and not marketing:
        outcome = Outcome.READ
    return plan_of(outcome, digits, seed)


def random_plan(number: str, seed: int, rng: random.Random, *, p_fail: float, p_delivered: float,
                p_read: float, p_reply: float, marketing: bool = True) -> Plan:
    """The random profile's plan: each step happens with its probability, drawn from `rng`."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if rng.random() < p_fail:
        outcome = rng.choices([Outcome.UNDELIVERABLE, Outcome.MARKETING_CAP, Outcome.OPTED_OUT], [5, 3, 2])[0]
        if outcome in MARKETING_ONLY and not marketing:
            outcome = Outcome.UNDELIVERABLE
    elif rng.random() >= p_delivered:
        outcome = Outcome.SENT
    elif rng.random() >= p_read:
        outcome = Outcome.DELIVERED
    elif rng.random() >= p_reply:
        outcome = Outcome.READ
    else:
        outcome = rng.choices([Outcome.REPLY, Outcome.BUTTON, Outcome.STOP, Outcome.REPLY_NO_CONTEXT],
                              [5, 3, 1, 1])[0]
    return plan_of(outcome, digits, seed)


def plan_of(outcome: Outcome, number: str, seed: int = 0) -> Plan:
    """The plan that plays `outcome` out, with the customer's name and words picked from number and seed."""
    name = customer_name(number, seed)
    if outcome in _FAILURE_CODES:
        return Plan(outcome, ("failed",), name, error_code=_FAILURE_CODES[outcome],
                    opts_out=outcome is Outcome.OPTED_OUT)
    if outcome in _STATUSES:
        return Plan(outcome, _STATUSES[outcome], name)
    if outcome is Outcome.STOP:
        text = STOP_WORD
    elif outcome in (Outcome.REPLY, Outcome.BUTTON):  # a button press on a message without buttons is a text
        text = _pick(REPLIES_IN_CONTEXT, number, seed, "reply")
    else:
        text = _pick(REPLIES_OUT_OF_CONTEXT, number, seed, "reply")
    return Plan(outcome, _STATUSES[Outcome.READ], name, reply=_REPLY_KIND[outcome],
                reply_context=outcome in (Outcome.REPLY, Outcome.BUTTON), reply_text=text)


def opts_out(number: str, share: float) -> bool:
    """Whether the customer at `number` is among the `share` who opt out (the p_opt_out knob): the last two digits
    times 37 (coprime to 100, so consecutive numbers spread over the range) below share × 100. Exactly that share
    of any hundred consecutive numbers, and spread: of 0–9, only 0 opts out at 10 %."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return (int(digits[-2:] or 0) * 37) % 100 < round(share * 100)


def customer_name(number: str, seed: int = 0) -> str:
    """The profile name a customer's webhooks carry."""
    return _pick(CUSTOMER_NAMES, "".join(ch for ch in number if ch.isdigit()), seed, "name")


def _pick(choices: tuple[str, ...], number: str, seed: int, purpose: str) -> str:
    # crc32, not hash(): the same number must pick the same words in every process.
    return choices[zlib.crc32(f"{purpose}:{seed}:{number}".encode()) % len(choices)]
