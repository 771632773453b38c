"""The inbox's forms: the composer, assigning a conversation, a quick answer."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField, URLField

from webapp.form_parts import optional_int


class AnswerForm(FlaskForm):
    # No length validator here: the service's rule (answers.py) words the refusal, and keeps the text.
    text = TextAreaField("Message", render_kw={"rows": 4, "maxlength": 4096})
    file = FileField("Attach a file")


class TemplateAnswerForm(FlaskForm):
    """Outside the window: an approved template for this one contact; its variables' inputs (var:…, payload:…)
    are compose's, read by webapp.campaigns.forms."""

    template = SelectField("Template and language", coerce=optional_int, validate_choice=False)
    header_media_url = URLField("Header media URL")
    chosen_template = None  # the chosen approved template of the conversation's number, set by the view


class AssignForm(FlaskForm):
    assigned_to = SelectField("Assigned to", coerce=optional_int, validate_choice=False)


class QuickAnswerForm(FlaskForm):
    title = StringField("Title", render_kw={"maxlength": 80})
    text = TextAreaField("Text", render_kw={"rows": 3, "maxlength": 4096})
