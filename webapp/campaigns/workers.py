"""Whether the workers a campaign needs are running: a campaign whose queue no worker serves stands still, so its
page and the dashboard say so (templates/macros/workers.html) instead of showing figures that never move."""
from __future__ import annotations

from collections.abc import Iterable

from webapp.queues import QUEUES, served_queues

# The queues each state waits on: a queued campaign's launch runs on `default` (the tick, on `control`, enqueues
# it again if it was lost), then every campaign sends on `dispatch`; paused, scheduled and finished campaigns
# wait for no worker now.
NEEDED = {"queued": ("control", "default", "dispatch"), "sending": ("dispatch",)}
# What stands still when no worker serves a queue, in the banner's words.
STANDS_STILL = {"control": "campaigns due to start are not started", "default": "campaigns do not launch",
                "dispatch": "sending has stopped"}


def unserved(statuses: Iterable[str]) -> dict[str, str]:
    """The queues that campaigns in `statuses` need and no live worker serves (in QUEUES order), each with what
    stands still for want of it."""
    needed = {name for status in statuses for name in NEEDED.get(status, ())}
    if not needed:
        return {}
    served = served_queues()
    return {name: STANDS_STILL[name] for name in QUEUES if name in needed and name not in served}
