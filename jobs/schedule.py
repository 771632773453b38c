"""The periodic jobs RQ's cron scheduler (`flask cron`) enqueues; each is quick and safe to repeat."""
from rq import cron

from jobs.campaigns import sweep, tick
from jobs.imports import remove_unneeded_uploads

cron.register(tick, "control", interval=2, job_timeout=60, result_ttl=60, ttl=30)
cron.register(sweep, "control", interval=15, job_timeout=120, result_ttl=60, ttl=60)
cron.register(remove_unneeded_uploads, "control", interval=3600, job_timeout=300, result_ttl=3600, ttl=600)
