"""The sandbox business account's message templates, in the Graph shape of `GET /message_templates`.

A realistic set for demos and tests: named and positional variables, text/image/document headers,
URL buttons (static and with a dynamic suffix, one of them opening the app's tracked-link redirect), quick replies,
a second language, and templates a send must be refused for (PENDING, REJECTED, PAUSED, DISABLED).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from webapp.cloudapi import TemplateVariables, template_variables

FOOTER = "Broadcaster Demo Store"
APP_URL = "{app_url}"  # in a button's URL: the app's public address (the sandbox's app_url setting)


def _named(params: Iterable[tuple[str, str]]) -> list[dict]:
    return [{"param_name": name, "example": example} for name, example in params]


DEMO_TEMPLATES: list[dict] = [
    {
        # Every new business account has Meta's sample template.
        "name": "hello_world", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
        "parameter_format": "POSITIONAL", "id": "1000000000000001",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send "
                                     "a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you "
                                     "for taking the time to test with us."},
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
        ],
    },
    {
        "name": "seasonal_promo", "language": "en", "status": "APPROVED", "category": "MARKETING",
        "parameter_format": "NAMED", "id": "1000000000000002",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Our {{season}} sale starts now",
             "example": {"header_text_named_params": _named([("season", "summer")])}},
            {"type": "BODY", "text": "Hi {{first_name}}, take {{discount}} off everything in store until "
                                     "{{end_date}}. Shall we save you a spot?",
             "example": {"body_text_named_params": _named(
                 [("first_name", "Camila"), ("discount", "20%"), ("end_date", "30 November")])}},
            {"type": "FOOTER", "text": "Not interested? Tap Stop promotions"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes please"},
                                            {"type": "QUICK_REPLY", "text": "Stop promotions"}]},
        ],
    },
    {
        "name": "seasonal_promo", "language": "es", "status": "APPROVED", "category": "MARKETING",
        "parameter_format": "NAMED", "id": "1000000000000003",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Empieza nuestra oferta de {{season}}",
             "example": {"header_text_named_params": _named([("season", "verano")])}},
            {"type": "BODY", "text": "Hola {{first_name}}, llévate {{discount}} de descuento en toda la tienda "
                                     "hasta el {{end_date}}. ¿Te guardamos un lugar?",
             "example": {"body_text_named_params": _named(
                 [("first_name", "Camila"), ("discount", "20%"), ("end_date", "30 de noviembre")])}},
            {"type": "FOOTER", "text": "¿No te interesa? Toca No más promociones"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Sí, por favor"},
                                            {"type": "QUICK_REPLY", "text": "No más promociones"}]},
        ],
    },
    {
        "name": "order_shipped", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
        "parameter_format": "POSITIONAL", "id": "1000000000000004",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Your order is on its way"},
            {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped and should arrive on {{3}}.",
             "example": {"body_text": [["Camila", "#10423", "Friday 28 November"]]}},
            {"type": "FOOTER", "text": FOOTER},
        ],
    },
    {
        "name": "appointment_reminder", "language": "en", "status": "APPROVED", "category": "UTILITY",
        "parameter_format": "NAMED", "id": "1000000000000005",
        "components": [
            {"type": "BODY", "text": "Hi {{first_name}}, this is a reminder of your appointment on {{date}} at "
                                     "{{time}}. Reply to this message if you need to change it.",
             "example": {"body_text_named_params": _named(
                 [("first_name", "Camila"), ("date", "3 December"), ("time", "10:30")])}},
            {"type": "FOOTER", "text": FOOTER},
        ],
    },
    {
        "name": "new_collection", "language": "en", "status": "APPROVED", "category": "MARKETING",
        "parameter_format": "POSITIONAL", "id": "1000000000000006",
        "components": [
            {"type": "HEADER", "format": "IMAGE",
             "example": {"header_handle": ["https://scontent.whatsapp.net/v/t61.29466-34/new-collection.jpg"]}},
            {"type": "BODY", "text": "Hi {{1}}, our new {{2}} collection has just landed. Come and see it before "
                                     "it sells out!",
             "example": {"body_text": [["Camila", "autumn"]]}},
            {"type": "FOOTER", "text": FOOTER},
        ],
    },
    {
        "name": "cart_reminder", "language": "en", "status": "APPROVED", "category": "MARKETING",
        "parameter_format": "POSITIONAL", "id": "1000000000000007",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, you left {{2}} in your cart. Complete your order today and "
                                     "shipping is on us.",
             "example": {"body_text": [["Camila", "the linen shirt"]]}},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Complete my order", "url": "https://shop.example.com/cart/{{1}}",
                 "example": ["https://shop.example.com/cart/8f3a2c"]},
                {"type": "URL", "text": "Visit the shop", "url": "https://shop.example.com/"},
            ]},
        ],
    },
    {
        "name": "new_arrivals", "language": "en", "status": "APPROVED", "category": "MARKETING",
        "parameter_format": "POSITIONAL", "id": "1000000000000013",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, our new arrivals are in: {{2}}",
             "example": {"body_text": [["Camila", "https://shop.example.com/new"]]}},
            {"type": "FOOTER", "text": FOOTER},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "See what's new", "url": APP_URL + "/r/{{1}}",
                 "example": [APP_URL + "/r/1a7Zk3xQ9mB2c"]},
            ]},
        ],
    },
    {
        "name": "invoice_ready", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
        "parameter_format": "POSITIONAL", "id": "1000000000000008",
        "components": [
            {"type": "HEADER", "format": "DOCUMENT",
             "example": {"header_handle": ["https://scontent.whatsapp.net/v/t61.29466-34/invoice.pdf"]}},
            {"type": "BODY", "text": "Hi {{1}}, your invoice {{2}} for {{3}} is attached. Thank you for your "
                                     "purchase!",
             "example": {"body_text": [["Camila", "INV-2041", "$84.00"]]}},
            {"type": "FOOTER", "text": FOOTER},
        ],
    },
    {
        "name": "welcome_offer", "language": "en", "status": "PENDING", "category": "MARKETING",
        "parameter_format": "POSITIONAL", "id": "1000000000000009",
        "components": [
            {"type": "BODY", "text": "Welcome {{1}}! Here is {{2}} off your first order.",
             "example": {"body_text": [["Camila", "15%"]]}},
        ],
    },
    {
        "name": "flash_sale_blast", "language": "en", "status": "REJECTED", "category": "MARKETING",
        "parameter_format": "POSITIONAL", "id": "1000000000000010", "rejected_reason": "PROMOTIONAL",
        "components": [
            {"type": "BODY", "text": "LAST CHANCE {{1}}!!! EVERYTHING MUST GO!!!",
             "example": {"body_text": [["Camila"]]}},
        ],
    },
    {
        "name": "loyalty_points", "language": "en", "status": "PAUSED", "category": "MARKETING",
        "parameter_format": "POSITIONAL", "id": "1000000000000011",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, you have {{2}} loyalty points waiting to be spent.",
             "example": {"body_text": [["Camila", "1,250"]]}},
        ],
    },
    {
        "name": "winter_newsletter", "language": "en", "status": "DISABLED", "category": "MARKETING",
        "parameter_format": "POSITIONAL", "id": "1000000000000012",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, here is what is new this winter.",
             "example": {"body_text": [["Camila"]]}},
        ],
    },
]


class TemplateStore:
    """Looks templates up by name and language, as a send does, and lists them as the Graph API does."""

    def __init__(self, templates: list[dict] | None = None, app_url: Callable[[], str] = lambda: "") -> None:
        self._templates = templates if templates is not None else DEMO_TEMPLATES
        self._variables: dict[str, TemplateVariables] = {}
        self._app_url = app_url
        self._resolved: tuple[str, list[dict]] | None = None  # (for which app_url, the templates)
        self._statuses: dict[str, str] = {}  # template id -> the status Meta moved it to since start-up

    @property
    def templates(self) -> list[dict]:
        """The templates, their buttons opening the app's address where they name it, in their current status."""
        app_url = self._app_url().rstrip("/")
        if self._resolved is None or self._resolved[0] != app_url:
            self._resolved = (app_url, [{**_at(template, app_url), "status": self._statuses.get(template["id"],
                                                                                                 template["status"])}
                                        for template in self._templates])
        return self._resolved[1]

    def set_status(self, template: dict, status: str) -> None:
        """Meta moves a template to another status (paused for low quality, approved again…)."""
        self._statuses[template["id"]] = status
        self._resolved = None

    def reset(self) -> None:
        self._statuses.clear()
        self._resolved = None

    def variables(self, template: dict) -> TemplateVariables:
        """What the template needs filled in, read once per template."""
        if template["id"] not in self._variables:
            self._variables[template["id"]] = template_variables(template["components"],
                                                                 template.get("parameter_format"))
        return self._variables[template["id"]]

    def find(self, name: str, language: str) -> dict | None:
        return next((t for t in self.templates if t["name"] == name and t["language"] == language), None)

    def select(self, *, status: str | None = None, category: str | None = None, language: str | None = None,
               name: str | None = None) -> list[dict]:
        """The templates matching Graph's list filters (name matches as a substring, as Meta's does)."""
        statuses = {s.strip().upper() for s in status.split(",")} if status else None
        return [
            t for t in self.templates
            if (statuses is None or t["status"] in statuses)
            and (category is None or t["category"] == category.upper())
            and (language is None or t["language"] == language)
            and (name is None or name.lower() in t["name"].lower())
        ]


def _at(template: dict, app_url: str) -> dict:
    """The template with APP_URL in its buttons' URLs (and examples) replaced by the app's address."""
    if APP_URL not in repr(template["components"]):
        return template
    return {**template, "components": _with_app_url(template["components"], app_url)}


def _with_app_url(value, app_url: str):
    """`value` (a template's components, or a part of them) with APP_URL replaced in every string."""
    if isinstance(value, str):
        return value.replace(APP_URL, app_url)
    if isinstance(value, list):
        return [_with_app_url(item, app_url) for item in value]
    if isinstance(value, dict):
        return {key: _with_app_url(item, app_url) for key, item in value.items()}
    return value
