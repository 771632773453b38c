"""Meta's errors as the sandbox gives them: the Graph error envelope of a refused request, and the
`errors[]` item of a `failed` status webhook, worded as Meta words them (reference §1–§3)."""
from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the app's pages import this catalog too: aiohttp is only for the sandbox's own server
    from aiohttp import web

ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (title, default details). The envelope's message is "(#code) title".
CATALOG: dict[int, tuple[str, str]] = {
    # Codes the sandbox produces by itself, and those a fault may ask for (reference §2).
    0: ("AuthException", "We were unable to authenticate the app user."),
    4: ("Application request limit reached", "The app has reached its API call rate limit."),
    100: ("Invalid parameter", "Invalid parameter."),
    368: ("Temporarily blocked for policies violations", "The WhatsApp Business Account is restricted."),
    80007: ("Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    131005: ("Access denied", "Permission is either not granted or has been removed."),
    131042: ("Business eligibility payment issue",
             "Message failed to send because there were one or more errors related to your payment method."),
    131045: ("Incorrect certificate", "Message failed to send due to a phone number registration error."),
    131048: ("Spam rate limit hit",
             "Message failed to send because there are restrictions on how many messages can be sent from this "
             "phone number."),
    131053: ("Media upload error", "Unable to upload the media used in the message."),
    131064: ("Messaging limited", "Messaging is limited for this template category."),
    132007: ("Template Format Character Policy Violated", "Template content violates a WhatsApp policy."),
    133010: ("Phone number Not Registered", "The phone number is not registered on the WhatsApp Business Platform."),
    135000: ("Generic user error", "Message failed to send because of an unknown error with your request "
                                   "parameters."),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
    131008: ("Required parameter is missing", "A required parameter is missing."),
    131009: ("Parameter value is not valid", "One or more parameter values are invalid."),
    131016: ("Service unavailable", "A service is temporarily unavailable. Please try again later."),
    131021: ("Recipient cannot be sender", "Sender and recipient phone number is the same."),
    131026: ("Message undeliverable", "Message Undeliverable."),
    131047: ("Re-engagement message",
             "Message failed to send because more than 24 hours have passed since the customer last replied "
             "to this number."),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.",
             "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    131050: ("Unable to deliver the message. This recipient has chosen to stop receiving marketing messages "
             "on WhatsApp from your business",
             "The recipient has stopped marketing messages from this business."),
    131051: ("Unsupported message type", "Message type is not currently supported."),
    131056: ("(Business Account, Consumer Account) pair rate limit hit",
             "Message failed to send because there were too many messages sent from this phone number to the "
             "same phone number in a short period of time."),
    131057: ("Account in maintenance mode", "Business Account is in maintenance mode."),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    132000: ("Number of parameters does not match the expected number of params",
             "The number of parameters does not match the expected number of params."),
    132001: ("Template name does not exist in the translation", "The template does not exist in this language."),
    132005: ("Translated text too long", "Translated text is too long."),
    132012: ("Parameter format does not match format in the created template",
             "Parameter format does not match format in the created template."),
    132015: ("Template is Paused",
             "Template is paused due to low quality so it cannot be sent in a template message."),
    132016: ("Template is disabled",
             "Template has been paused too many times due to low quality and is now permanently disabled."),
}
# Meta still puts this (deprecated) subcode in its throughput error.
SUBCODES = {130429: 2494055}


def fbtrace_id() -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "A" + "".join(secrets.choice(alphabet) for _ in range(22))


class GraphError(Exception):
    """A request the sandbox refuses, answered with Meta's error envelope."""

    def __init__(self, code: int, details: str | None = None, *, http_status: int = 400) -> None:
        title, default_details = CATALOG.get(code, ("Unknown error", "An unknown error occurred."))
        super().__init__(f"(#{code}) {title}")
        self.code = code
        self.title = title
        self.details = details or default_details
        self.http_status = http_status

    def envelope(self) -> dict:
        error = {"message": str(self), "type": "OAuthException", "code": self.code,
                 "error_data": {"messaging_product": "whatsapp", "details": self.details}}
        if self.code in SUBCODES:
            error["error_subcode"] = SUBCODES[self.code]
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def response(self) -> web.Response:
        from aiohttp import web  # only the sandbox's server answers with it (see the import above)

        return web.json_response(self.envelope(), status=self.http_status)


class TokenError(GraphError):
    """A missing or wrong access token: a plain Graph error, without error_data (reference §1)."""

    def __init__(self) -> None:
        super().__init__(190, http_status=401)

    def envelope(self) -> dict:
        return {"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                          "type": "OAuthException", "code": 190, "fbtrace_id": fbtrace_id()}}


class UnknownObjectError(GraphError):
    """A phone number or business account id the sandbox does not have, worded as Graph does."""

    def __init__(self, object_id: str, method: str) -> None:
        super().__init__(100)
        self.object_id, self.method = object_id, method.lower()

    def envelope(self) -> dict:
        return {"error": {
            "message": f"Unsupported {self.method} request. Object with ID '{self.object_id}' does not exist, "
                       "cannot be loaded due to missing permissions, or does not support this operation. "
                       "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            "type": "GraphMethodException", "code": 100, "error_subcode": 33, "fbtrace_id": fbtrace_id()}}


def webhook_error(code: int) -> dict:
    """One item of a failed status's `errors[]`."""
    title, details = CATALOG.get(code, ("Unknown error", "An unknown error occurred."))
    return {"code": code, "title": title, "message": title, "error_data": {"details": details},
            "href": ERROR_CODES_URL}
