"""The domain errors of contacts and lists: views show them on a field or as a flash, the CLI as a message."""


class ContactsError(ValueError):
    def __init__(self, message: str, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the form field it belongs to, if any
        self.code = code  # a stable word for the API: invalid, conflict, not_found…


class FileRejected(Exception):
    """The whole file can't be imported; the message says why, for the person who uploaded it."""
