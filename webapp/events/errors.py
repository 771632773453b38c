"""The one error the events services raise: a message for people, and the form field it is about."""
from __future__ import annotations


class EventsError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field
