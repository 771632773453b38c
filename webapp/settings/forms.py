from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, EmailField, FloatField, IntegerField, PasswordField, SelectChoice, SelectField, StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from webapp.campaigns.guardrail import parse_codes
from webapp.contacts.optouts import keyword_set
from webapp.form_parts import country_choices
from webapp.workspace.forms import TimeZoneField


class WorkspaceForm(FlaskForm):
    business_name = StringField("Business name", validators=[DataRequired(), Length(max=120)])
    default_country = SelectField("Default country for numbers without a prefix")
    timezone = TimeZoneField("Time zone", validators=[DataRequired()],
                             description="Type a city or pick from the list, e.g. New York or Europe/Madrid. "
                                         "Times are shown, scheduled and exported in this zone.")
    attribution_hours = IntegerField("Reply attribution window (hours)", validators=[NumberRange(1, 720)])
    send_attempts = IntegerField("Attempts for a message that meets a temporary error", validators=[NumberRange(1, 20)])
    cap_messages = IntegerField("Frequency cap: at most this many marketing messages per contact",
                                validators=[Optional(), NumberRange(1, 1000, "At least 1 message (leave both "
                                                                             "blank to turn the cap off).")])
    cap_days = IntegerField("… per this many days",
                            validators=[Optional(), NumberRange(1, 90, "Between 1 and 90 days.")])
    guard_first_slice = BooleanField("Send a first slice and pause the campaign if it harms the number's quality")
    guard_slice_percent = IntegerField("First slice: this share of the recipients (%)",
                                       validators=[NumberRange(1, 100, "Between 1 and 100 %.")])
    guard_slice_max = IntegerField("… but at most this many recipients",
                                   validators=[NumberRange(1, 100_000, "Between 1 and 100,000 recipients.")])
    guard_opt_out_percent = FloatField("Pause when opt-outs in the slice exceed (%)",
                                         validators=[NumberRange(0, 100, "Between 0 and 100 %.")])
    guard_failure_percent = FloatField("Pause when failures with the codes below exceed (%)",
                                         validators=[NumberRange(0, 100, "Between 0 and 100 %.")])
    guard_failure_codes = StringField("Failure codes that count (Meta's, comma-separated)",
                                      validators=[Length(max=200)])
    opt_out_keywords = TextAreaField("Opt-out keywords (comma-separated, any case)", validators=[DataRequired()])
    opt_in_keywords = TextAreaField("Opt-in keywords (comma-separated, any case)", validators=[Optional()])
    opt_out_reply = TextAreaField("Reply to an opt-out", validators=[Length(max=1024)],
                                  render_kw={"placeholder": "You won't get our offers any more. Write START to get "
                                                            "them again."})
    opt_in_reply = TextAreaField("Reply to an opt-in", validators=[Length(max=1024)],
                                 render_kw={"placeholder": "Welcome back! You'll get our offers again."})
    meta_app_secret = PasswordField("Meta app secret (leave blank to keep)")
    meta_verify_token = StringField("Webhook verify token", validators=[Length(max=256)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_country.choices = country_choices()

    def validate_guard_failure_codes(self, field) -> None:
        try:
            parse_codes(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_opt_in_keywords(self, field) -> None:
        """A word can't both stop and resume: the customer's meaning would depend on which list we read first."""
        both = keyword_set(field.data or "") & keyword_set(self.opt_out_keywords.data or "")
        if both:
            raise ValidationError(f"“{sorted(both)[0].upper()}” is an opt-out keyword too: keep it in one list.")

    def validate(self, extra_validators=None) -> bool:
        """The frequency cap has both parts or neither (off)."""
        valid = super().validate(extra_validators)
        halves = (self.cap_messages, self.cap_days)
        if valid and (halves[0].data is None) != (halves[1].data is None):
            blank = halves[0] if halves[0].data is None else halves[1]
            blank.errors = [*blank.errors, "Give both the number of messages and the days, or leave both blank to "
                                           "turn the cap off."]
            return False
        return valid


class NewUserForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice("staff", "Staff — lists and campaigns"),
                                        SelectChoice("admin", "Admin — also users and settings")])
    password = PasswordField("Initial password", validators=[DataRequired()])  # how strong: auth/passwords.py


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired()])
