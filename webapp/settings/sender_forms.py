"""The form of a sender number: Meta's ids, the write-only access token, its rate and messaging tier."""
from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from webapp.extensions import db
from webapp.senders.models import MESSAGING_TIERS, Sender

UNLIMITED = "unlimited"
DIGITS = Regexp(r"^\d+$", message="Digits only, as Meta shows it.")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def tier_choices() -> list[SelectChoice]:
    return [SelectChoice(str(tier) if tier else UNLIMITED,
                         f"{tier:,} unique customers per 24 hours" if tier else "Unlimited") for tier in MESSAGING_TIERS]


def tier_value(value) -> int | None:
    """The form's tier as the model keeps it: a number of customers, or None for unlimited."""
    if value in (None, "", UNLIMITED):
        return None
    return int(value)


class SenderForm(FlaskForm):
    label = StringField("Label", filters=[strip],
                        validators=[DataRequired("Give the number a label."), Length(max=120)])
    phone_number_id = StringField("Phone number ID", filters=[strip],
                                  validators=[DataRequired("Enter the phone number ID."), Length(max=64), DIGITS])
    waba_id = StringField("WhatsApp Business Account ID", filters=[strip],
                          validators=[DataRequired("Enter the account ID."), Length(max=64), DIGITS])
    display_phone_number = StringField("Display number", filters=[strip], validators=[Optional(), Length(max=32)])
    access_token = PasswordField("Access token", filters=[strip], validators=[Length(max=2000)])
    throughput = IntegerField("Throughput (messages per second)", default=80,
                              validators=[InputRequired("Enter the messages per second."),
                                          NumberRange(1, 1000, "Between 1 and 1,000 messages per second.")])
    messaging_limit = SelectField("Messaging limit", default=UNLIMITED, choices=tier_choices())

    def __init__(self, *args, sender: Sender | None = None, **kwargs) -> None:
        super().__init__(*args, obj=sender, **kwargs)
        self.sender = sender
        if sender is not None and not self.is_submitted():
            self.messaging_limit.data = str(sender.messaging_limit) if sender.messaging_limit else UNLIMITED
        if not self.is_submitted():
            self.access_token.data = ""  # write-only: the stored token never goes back to a browser

    def validate_phone_number_id(self, field) -> None:
        taken = select(Sender.id).where(Sender.phone_number_id == field.data)
        if self.sender is not None:
            taken = taken.where(Sender.id != self.sender.id)
        if db.session.scalar(taken):
            raise ValidationError("Another sender already has this phone number ID.")

    def validate_access_token(self, field) -> None:
        if self.sender is None and not field.data:
            raise ValidationError("Paste the access token Meta gave you.")

    def apply_to(self, sender: Sender) -> None:
        """Write the form into a sender; a blank token keeps the stored one (it is never shown back)."""
        sender.label = self.label.data
        sender.phone_number_id = self.phone_number_id.data
        sender.waba_id = self.waba_id.data
        sender.display_phone_number = self.display_phone_number.data or ""
        sender.throughput = self.throughput.data
        sender.messaging_limit = tier_value(self.messaging_limit.data)
        if self.access_token.data:
            sender.access_token = self.access_token.data
