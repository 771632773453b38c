"""The sandbox's settings: one table that drives the SANDBOX_* environment variables, the `run` flags
and runtime changes through `PATCH /_sandbox/config`."""
from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("deterministic", "random")
# Settings that only take effect when the server starts.
STARTUP_ONLY = frozenset({"host", "port", "access_log", "webhook_concurrency"})
# Settings /_sandbox/config never shows: they are the app's credentials (the launcher hands over the real ones).
SECRETS = frozenset({"access_token", "app_secret", "verify_token"})
REDACTED = "[redacted]"


def setting(default: Any, help: str) -> Any:  # noqa: A002 - `help` is click's word for it
    return field(default=default, metadata={"help": help})


@dataclass
class SandboxConfig:
    # Where it listens
    host: str = setting("127.0.0.1", "Interface to listen on; keep it on loopback.")
    port: int = setting(8001, "Port to listen on (0 picks a free one and prints it).")
    access_log: bool = setting(False, "Log every HTTP request.")
    # Identity: what the app is configured with
    access_token: str = setting("sandbox-token", "Bearer token the Graph endpoints accept.")
    app_secret: str = setting("sandbox-app-secret", "App secret that signs webhooks (X-Hub-Signature-256).")
    verify_token: str = setting("sandbox-verify-token", "Token sent in the webhook verification handshake.")
    phone_number_id: str = setting("100000000000001", "The sender number's phone number id.")
    display_number: str = setting("15550001234", "The sender number as digits, as webhooks show it.")
    verified_name: str = setting("Broadcaster Sandbox", "The business name shown for the sender numbers.")
    waba_id: str = setting("200000000000001", "The WhatsApp Business Account id (templates, webhook entry id).")
    extra_numbers: str = setting("", "More sender numbers, as id:display pairs separated by commas.")
    # Limits
    rate: int = setting(80, "Messages per second per phone number id, in any one-second window; more get 130429.")
    pair_interval: float = setting(6.0, "Seconds before the same recipient may get another message; sooner gets 131056.")
    # Latency of every Graph answer
    latency_ms: float = setting(200.0, "Typical answer time of a Graph request, in milliseconds.")
    jitter_ms: float = setting(50.0, "Answer times vary uniformly by up to this much either way.")
    # What happens to messages
    profile: str = setting("deterministic", "deterministic: the number's last two digits decide; random: probabilities.")
    seed: int = setting(0, "Shifts the deterministic table; seeds the random profile and webhook chaos.")
    sent_delay: float = setting(1.0, "Seconds after acceptance until the `sent` (or `failed`) status.")
    delivered_delay: float = setting(2.0, "Seconds after acceptance until `delivered`.")
    read_delay: float = setting(4.0, "Seconds after acceptance until `read`.")
    reply_delay: float = setting(6.0, "Seconds after acceptance until the customer's reply.")
    delay_jitter: float = setting(0.5, "Each message's events come up to this many seconds later, at random.")
    p_fail: float = setting(0.05, "random profile: chance a message fails (131026, 131049 or 131050).")
    p_delivered: float = setting(0.95, "random profile: chance a sent message is delivered.")
    p_read: float = setting(0.6, "random profile: chance a delivered message is read.")
    p_reply: float = setting(0.15, "random profile: chance a read message gets a reply.")
    p_free: float = setting(0.0, "Share of template messages Meta does not bill (free entry point: `billable` false), "
                                 "chosen by the message id, so its statuses agree.")
    p_opt_out: float = setting(0.0, "Share of recipients who read the message, then reply STOP (any profile): "
                                    "chosen by number, exactly that share of any hundred consecutive numbers.")
    # Links in messages
    app_url: str = setting("http://127.0.0.1:8000", "The app's public address (its PUBLIC_URL): the demo template "
                                                    "new_arrivals has a button that opens <app_url>/r/{{1}}, a "
                                                    "tracked link.")
    link_previews: bool = setting(True, "Fetch a preview of the first web address in a delivered message's text "
                                        "when it is on this machine, as WhatsApp does (User-Agent WhatsApp/…).")
    # Webhooks
    webhook_url: str = setting("", "The app's webhook endpoint; empty sends no webhooks.")
    webhook_batch: int = setting(1, "Up to this many statuses in one POST.")
    webhook_batch_wait: float = setting(0.2, "Seconds a batch waits to fill up before it is sent.")
    webhook_duplicates: float = setting(0.0, "Chance that a delivered POST is sent again (as Meta's retries do).")
    webhook_shuffle: float = setting(0.0, "Chance that a message's statuses arrive in a random order.")
    webhook_timeout: float = setting(10.0, "Seconds to wait for the app to answer a webhook POST.")
    webhook_max_attempts: int = setting(0, "Attempts per webhook POST before it is dropped (0: no limit but time).")
    webhook_retry_base: float = setting(1.0, "Seconds before the first retry; doubled on each further one.")
    webhook_retry_max: float = setting(300.0, "Longest wait between two retries, in seconds.")
    webhook_give_up_after: float = setting(7 * 24 * 3600.0, "Seconds after which an undelivered webhook POST "
                                                            "is dropped (Meta retries for 7 days).")
    webhook_concurrency: int = setting(32, "Webhook POSTs in flight at once.")

    def numbers(self) -> dict[str, str]:
        """Every sender number: phone number id -> display number (digits)."""
        return _numbers(self.phone_number_id, self.display_number, self.extra_numbers)

    def validate(self) -> None:
        """Raise ValueError naming the first setting that makes no sense."""
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
        for name in ("p_fail", "p_delivered", "p_read", "p_reply", "p_free", "p_opt_out", "webhook_duplicates",
                     "webhook_shuffle"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("rate", "webhook_batch", "webhook_concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.webhook_max_attempts < 0:
            raise ValueError("webhook_max_attempts must not be negative (0: no limit)")
        for name, kind in field_types().items():
            if kind is float and getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for pair in filter(None, (p.strip() for p in self.extra_numbers.split(","))):
            number_id, _, display = pair.partition(":")
            if not (number_id.strip().isdigit() and display.strip().isdigit()):
                raise ValueError(f"extra_numbers: {pair!r} is not an id:display pair of digits")

    def update(self, changes: dict[str, Any]) -> None:
        """Apply runtime changes all at once, or none of them if one is unknown or invalid."""
        types = field_types()
        candidate = dataclasses.replace(self)
        for name, value in changes.items():
            if name not in types:
                raise ValueError(f"unknown setting {name!r}")
            if name in STARTUP_ONLY:
                raise ValueError(f"{name} can only be set when the sandbox starts")
            setattr(candidate, name, coerce(types[name], value, name))
        candidate.validate()
        for name in changes:
            setattr(self, name, getattr(candidate, name))

    def shown(self) -> dict[str, Any]:
        """The settings as `GET /_sandbox/config` shows them, secrets redacted."""
        return {name: REDACTED if name in SECRETS else value for name, value in dataclasses.asdict(self).items()}


@functools.lru_cache(maxsize=8)  # asked on every request; settings rarely change
def _numbers(phone_number_id: str, display_number: str, extra_numbers: str) -> dict[str, str]:
    numbers = {phone_number_id: display_number}
    for pair in filter(None, (p.strip() for p in extra_numbers.split(","))):
        number_id, _, display = pair.partition(":")
        numbers[number_id.strip()] = display.strip()
    return numbers


def field_types() -> dict[str, type]:
    hints = typing.get_type_hints(SandboxConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(SandboxConfig)}


def coerce(kind: type, value: Any, name: str) -> Any:
    """A JSON value as the setting's type; bools accept true/false/1/0/yes/no."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if str(value).strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{name} must be true or false")
    if kind in (int, float) and isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be of type {kind.__name__}") from exc
