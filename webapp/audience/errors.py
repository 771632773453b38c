"""The domain error of filters and segments: the builder shows it on its condition, the API as a JSON error."""


class FilterError(ValueError):
    def __init__(self, message: str, condition: int | None = None, code: str = "invalid",
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.condition = condition  # the index of the condition it belongs to, if any
        self.code = code  # a stable word for the API: invalid, conflict, not_found
        self.field = field  # the form field it belongs to when not a condition ("name")
