"""The periodic jobs RQ's cron scheduler (`flask cron`) enqueues; each is quick and safe to repeat.

They say nothing when they find nothing to do: RQ's own lines about them (enqueued, started, done) are left out
of the log (webapp/worker.py), and what they change they log themselves (campaigns/state_log.py).
"""
from rq import cron

from jobs import clicks, events, inbox
from jobs.campaigns import sweep, tick
from jobs.imports import remove_unneeded_uploads

PERIODIC = (tick, sweep, inbox.sweep, remove_unneeded_uploads, events.sweep, clicks.count)

cron.register(tick, "control", interval=2, job_timeout=60, result_ttl=60, ttl=30)
cron.register(sweep, "control", interval=15, job_timeout=120, result_ttl=60, ttl=60)
cron.register(inbox.sweep, "control", interval=60, job_timeout=60, result_ttl=60, ttl=60)  # lost answers: unknown
cron.register(remove_unneeded_uploads, "control", interval=3600, job_timeout=300, result_ttl=3600, ttl=600)
cron.register(events.sweep, "control", interval=60, job_timeout=60, result_ttl=60, ttl=60)  # lost deliveries
cron.register(clicks.count, "control", interval=2, job_timeout=60, result_ttl=60, ttl=30)  # the redirect's clicks
