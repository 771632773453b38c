"""Workspace-wide settings kept in the database (one row), editable by admins."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.encryption import EncryptedText
from webapp.extensions import db
from webapp.money import Money
from webapp.transactions import upsert

DEFAULT_OPT_OUT_KEYWORDS = (
    "STOP, STOP ALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPT OUT, OPTOUT, "
    "PARAR, BAJA, DARME DE BAJA, CANCELAR, "  # Spanish
    "SAIR, PARE, DESCADASTRAR, "  # Portuguese
    "बंद, रोकें, BAND, "  # Hindi
    "إيقاف, الغاء, توقف, "  # Arabic
    "BERHENTI, STOP LANGGANAN"  # Indonesian
)
# A customer who opted out by a keyword opts back in by writing one of these (never a word of the opt-out list).
DEFAULT_OPT_IN_KEYWORDS = "START, UNSTOP, SUBSCRIBE, RESUME, OPT IN, OPTIN, ALTA, SUSCRIBIRME, VOLTAR"


# The broadcast APIs of other products this server also speaks (webapp/compat/), each under /compat/<name>/ and
# enabled per workspace in Settings → API keys; their names and how the page describes them.
COMPAT_APIS = {
    "wask": "wask — session broadcast lists (/compat/wask)",
    "crm": "CRM v1 broadcasts (/compat/crm)",
    "wacrm": "Wacrm broadcasts (/compat/wacrm)",
    "django": "Django multi-platform broadcasts (/compat/django)",
    "kapso": "Kapso WhatsApp broadcasts (/compat/kapso)",
}


class WorkspaceSettings(db.Model):
    __tablename__ = "workspace_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_name: Mapped[str] = mapped_column(String(120), default="My business")
    default_country: Mapped[str] = mapped_column(String(2), default="US")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Webhook credentials, encrypted at rest; META_APP_SECRET / META_VERIFY_TOKEN in the environment win when set.
    meta_app_secret: Mapped[str] = mapped_column(EncryptedText, default="")
    meta_verify_token: Mapped[str] = mapped_column(EncryptedText, default="")
    attribution_hours: Mapped[int] = mapped_column(default=72)
    opt_out_keywords: Mapped[str] = mapped_column(Text, default=DEFAULT_OPT_OUT_KEYWORDS)
    opt_in_keywords: Mapped[str] = mapped_column(Text, default=DEFAULT_OPT_IN_KEYWORDS)
    # What the customer is told, at once, when a keyword opts them out or back in ("": nothing).
    opt_out_reply: Mapped[str] = mapped_column(Text, default="")
    opt_in_reply: Mapped[str] = mapped_column(Text, default="")
    send_attempts: Mapped[int] = mapped_column(default=5)
    # The frequency cap: at most `cap_messages` marketing messages per contact per `cap_days` days (None: off).
    cap_messages: Mapped[int | None] = mapped_column()
    cap_days: Mapped[int | None] = mapped_column()
    # At most this much billed by Meta per calendar month (UTC), in the rate card's currency (None: no budget).
    monthly_budget: Mapped[Decimal | None] = mapped_column(Money)
    # The first-slice guardrail (campaigns/guardrail.py): a campaign first sends the smaller of guard_slice_percent %
    # of its recipients and guard_slice_max (at least one), and pauses itself if, in that slice, opt-outs exceed
    # guard_opt_out_percent % or failures with one of guard_failure_codes exceed guard_failure_percent %.
    guard_first_slice: Mapped[bool] = mapped_column(default=False)
    guard_slice_percent: Mapped[int] = mapped_column(default=5)
    guard_slice_max: Mapped[int] = mapped_column(default=200)
    guard_opt_out_percent: Mapped[float] = mapped_column(Float, default=2.0)
    guard_failure_percent: Mapped[float] = mapped_column(Float, default=5.0)
    guard_failure_codes: Mapped[str] = mapped_column(String(200), default="131048, 131049")
    # The compatible APIs (webapp/compat/) this workspace answers, by name; none until an admin enables one.
    compat_apis: Mapped[list] = mapped_column(JSON, default=list)

    @classmethod
    def get(cls) -> "WorkspaceSettings":
        """The one settings row, created with defaults on first use."""
        row = db.session.get(cls, 1)
        if row is None:
            # Processes starting on an empty database meet here at once (a web and a worker): an insert that does
            # nothing if another got there first, then the one row.
            db.session.execute(upsert(db.session, cls.__table__).values(id=1).on_conflict_do_nothing(
                index_elements=["id"]))
            row = db.session.get(cls, 1)
        return row
