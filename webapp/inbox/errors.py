"""The domain error of the inbox: views show it on the composer or as a flash, the API (later) as a JSON error."""


class InboxError(ValueError):
    def __init__(self, message: str, field: str | None = None, code: str = "invalid",
                 problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code  # a stable code for the API: invalid, window_closed, opted_out, conflict, not_found
        self.problems = problems or {}  # a template answer's, by variable slot key (campaigns/variables.py)
