"""The time-zone field of the setup and settings forms: typed or picked from the IANA list, checked by
workspace/zone.py, stored as its IANA name."""
from __future__ import annotations

from functools import cache

from markupsafe import Markup, escape
from wtforms import StringField
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from webapp.workspace.zone import UnknownZone, resolve_zone, zone_names


@cache
def _options() -> Markup:
    return Markup("").join(Markup('<option value="{}">').format(name) for name in zone_names())


class ZoneInput(TextInput):
    """A text input searchable through its <datalist> of every zone: the browser suggests as one types, and a
    city typed in full is understood too."""

    def __call__(self, field, **kwargs):
        listed = f"{field.id}-zones"
        kwargs.setdefault("list", listed)
        kwargs.setdefault("autocomplete", "off")
        return super().__call__(field, **kwargs) + Markup('<datalist id="{}">').format(escape(listed)) + \
            _options() + Markup("</datalist>")


class TimeZoneField(StringField):
    """A time zone in any case, or a city that names one ("New York" → America/New_York); blank is left to the
    form's validators (the setup form takes UTC)."""

    widget = ZoneInput()

    def pre_validate(self, form) -> None:
        if self.data and self.data.strip():
            try:
                self.data = resolve_zone(self.data)
            except UnknownZone as problem:
                raise ValidationError(str(problem)) from None
