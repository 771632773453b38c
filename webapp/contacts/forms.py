"""The forms of the contacts pages: lists, members, opt-outs, and an import's upload and column steps."""
from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, TelField
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.contacts.columns import Columns, Preview
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import ContactList
from webapp.contacts.services import MAX_LIST_NAME
from webapp.contacts.tabular import ACCEPTED_EXTENSIONS, FileRejected, check_extension
from webapp.extensions import db
from webapp.form_parts import country_choices, optional_int, strip
from webapp.workspace.models import WorkspaceSettings


class ShowsErrors:
    """Puts a ContactsError on the field it names, or on `fallback`."""

    fallback = "name"

    def show(self, error: ContactsError) -> None:
        field = getattr(self, error.field or "", None) or getattr(self, self.fallback)
        field.errors = [*field.errors, error.message]


class ListNameForm(ShowsErrors, FlaskForm):
    name = StringField("List name", filters=[strip],
                       validators=[InputRequired("Give the list a name."), Length(max=MAX_LIST_NAME)])


class MemberForm(ShowsErrors, FlaskForm):
    fallback = "phone"
    phone = TelField("Phone number", filters=[strip], validators=[InputRequired("Enter the phone number.")])
    name = StringField("Name (optional)", filters=[strip], validators=[Length(max=200)])


class OptOutForm(FlaskForm):
    reason = StringField("Why (optional)", filters=[strip], validators=[Length(max=500)])


def _upload_size(form, field) -> None:
    """The request limit refuses bigger bodies first; this names the limit for a file that is just over."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    stream = getattr(field.data, "stream", None)
    if limit and stream is not None and stream.seek(0, 2) > limit:
        raise ValidationError(f"The file is larger than the {limit // (1024 * 1024)} MB upload limit.")
    if stream is not None:
        stream.seek(0)


def _upload_extension(form, field) -> None:
    try:
        check_extension(field.data.filename or "")
    except FileRejected as rejected:
        raise ValidationError(str(rejected)) from None


class UploadForm(ShowsErrors, FlaskForm):
    fallback = "file"
    file = FileField("Customer file", validators=[FileRequired("Choose the file to import."),
                                                  _upload_extension, _upload_size],
                     render_kw={"accept": ",".join(ACCEPTED_EXTENSIONS)})
    list_id = SelectField("Import into", coerce=optional_int)
    new_list = StringField("Name of the new list", filters=[strip], validators=[Length(max=MAX_LIST_NAME)])
    country = SelectField("Country of numbers written without a country code")
    existing = RadioField("Contacts that already exist", default="update", choices=[
        SelectChoice("update", "Update their name and attributes from the file"),
        SelectChoice("keep", "Keep them as they are (only add them to the list)")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lists = db.session.execute(select(ContactList.id, ContactList.name)
                                   .order_by(func.lower(ContactList.name))).all()
        self.list_id.choices = [SelectChoice("", "A new list…"),
                                *(SelectChoice(str(list_id), name) for list_id, name in lists)]
        self.country.choices = country_choices()
        if self.country.data is None:
            self.country.data = WorkspaceSettings.get().default_country

    def validate_new_list(self, field) -> None:
        if self.list_id.data is None and not field.data:
            raise ValidationError("Name the new list, or choose an existing one.")


def _header_choices(headers: list[str]) -> list[SelectChoice]:
    return [SelectChoice(index, header) for index, header in enumerate(headers)]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ColumnsForm(ShowsErrors, FlaskForm):
    fallback = "phone"
    phone = SelectField("Phone number", coerce=optional_int)
    name = SelectField("Name", coerce=optional_int)
    last_name = SelectField("Last name (when the file splits first and last names)", coerce=optional_int)
    attributes = MultiCheckboxField("Keep as attributes", coerce=int,
                                    description="Kept on each contact under the column's name, "
                                                "for the variables of your message templates.")
    tags = SelectField("Tags", coerce=optional_int,
                       description="A column of tags, several separated by commas or semicolons (vip, lyon).")
    file_tags = StringField("Tag every contact of this file", filters=[strip], validators=[Length(max=1000)],
                            description="Optional, several separated by commas: for example spring-fair-2026.")

    def __init__(self, preview: Preview, *args, **kwargs):
        columns = preview.default_columns()
        if columns is not None and "formdata" not in kwargs:
            kwargs.setdefault("data", {"phone": columns.phone, "name": columns.name, "last_name": columns.last_name,
                                       "attributes": list(columns.attributes), "tags": columns.tags})
        super().__init__(*args, **kwargs)
        headers = _header_choices(preview.headers)
        self.phone.choices = [SelectChoice("", "Choose the phone column…"), *headers]
        self.name.choices = [SelectChoice("", "No name column"), *headers]
        self.last_name.choices = [SelectChoice("", "No last name column"), *headers]
        self.tags.choices = [SelectChoice("", "No tags column"), *headers]
        self.attributes.choices = headers

    def validate_phone(self, field) -> None:
        if field.data is None:
            raise ValidationError("Choose the column that holds the phone numbers.")

    def columns(self) -> Columns:
        return Columns(self.phone.data, self.name.data, self.last_name.data, tuple(self.attributes.data or ()),
                       self.tags.data, tuple((self.file_tags.data or "").replace(";", ",").split(",")))
