"""The periodic jobs RQ's cron scheduler (`flask cron`) enqueues; each is quick and safe to repeat."""
from rq import cron  # noqa: F401 - jobs register here as the areas add them
