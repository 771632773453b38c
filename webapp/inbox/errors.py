"""The domain error of the inbox: views show it on the composer or as a flash, the API as a JSON error
(webapp/api/errors.py names its codes)."""


class InboxError(ValueError):
    def __init__(self, message: str, field: str | None = None, code: str = "invalid",
                 problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code  # a stable code: invalid, window_closed, opted_out, bad_media, conflict, not_found
        self.problems = problems or {}  # a template answer's, by variable slot key (campaigns/variables.py)
