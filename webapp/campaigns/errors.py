"""The domain error of campaigns: views show it on a field or as a flash, the API as a JSON error."""


class CampaignError(ValueError):
    def __init__(self, message: str, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code  # the API's stable error code: invalid, conflict, not_found…
