"""The sender: claims due rows of a sending campaign and sends them at the number's rate, many in flight.

One dispatcher runs per (campaign, slot) at a time, guarded by a lease in Redis; several slots let
several workers share a fast number. Each loop keeps a small buffer of claimed rows (claimed in a commit
that checks the campaign is still `sending`), asks the global limiter for slots, and hands that many rows
at once to an asyncio loop of sends (cloudapi.Sends: the API answers in hundreds of ms, so tens of requests must
be in flight).
Claiming ahead keeps database waits out of the gap between a slot's admission and its request, which is
what the limiter's margin must cover. Finished sends are recorded in small batched transactions (what each
error does is campaigns/outcomes.py's table); rows still buffered at the end of a slice or on a pause go back
to `pending`. Only the loop's thread touches the database.

Until Meta has accepted one message of the campaign since it (re)started sending (`canary_passed_at`), slot 0
alone sends, one request at a time, each recorded before the next: a dead token or a broken template costs one
request, not a burst. When every row left waits longer than WAIT_OFF_WORKER (a retry, a contact held by Meta's
per-user marketing limit), the campaign waits (`waiting_until`, with a banner) and the worker is free.

A campaign with a sending window (campaigns/windows.py) claims only rows whose recipient's zone is open now; when
the rows left are all in closed zones, it waits the same way until the first of those zones opens.

SIGTERM (Ctrl-C of `make run`, a service manager's stop) ends the loop as a pause does: the requests in flight
finish and are recorded, the rows still buffered go back to `pending`, nothing new starts, and the job asks to go
on (the tick starts it again once a worker serves the dispatch queue).
"""
from __future__ import annotations

import signal
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.costs import budget_for, pause_over_budget
from webapp.campaigns.daily import Tally
from webapp.campaigns.frequency import is_marketing
from webapp.campaigns.guardrail import judge
from webapp.campaigns.lifecycle import FUNNEL, HELD, Claimed, add_counts, claim, counts, release, report
from webapp.campaigns.links import links_of, public_url, signing_key, with_codes
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.orphans import ClaimLedger, lease_key, resolve
from webapp.campaigns.outcomes import Effects, Retries, apply_effects, settle_send_error
from webapp.campaigns.windows import SendingWindow, open_zones
from webapp.cloudapi import CloudAPIError, Sends, SendResult
from webapp.contacts.whatsapp_ids import learn, other_form
from webapp.events.outbox import emit
from webapp.extensions import db
from webapp.meta_errors import Action
from webapp.queues import redis_client, waiting_jobs
from webapp.ratelimit import DailyCap, RateLimiter
from webapp.senders.models import Sender
from webapp.senders.services import client_for
from webapp.timestamps import iso, utcnow
from webapp.transactions import begin_write, is_sqlite, retried
from webapp.workspace.models import WorkspaceSettings
from webapp.workspace.zone import localtime, workspace_zone

RECORD_EVERY = 0.25  # seconds between result commits (and at most RECORD_BATCH results each)
RECORD_BATCH = 200
SLICES_PER_JOB = 10  # a dispatch job alone on its worker goes on for up to this many slices
DISPATCH_JOB = "jobs.campaigns.dispatch"  # the job that runs a Dispatcher (enqueued by campaigns/queueing.py)
UNSERVED_SECONDS = 1.0  # a job waiting this long has no idle worker to take it: a dispatcher gives it a turn
WAIT_OFF_WORKER = 30.0  # when every row left waits longer than this, the campaign waits without a dispatcher
STATUS_EVERY = 0.1  # seconds between reads of a proven campaign's status while it sends


@dataclass(frozen=True)
class Tracking:
    """What the sender asks of webhook tracking, which stands above it (the dispatch job passes it in):
    whether Meta's webhooks reach us lately, and applying statuses that waited for wamids just committed.
    Without it, a send whose answer was lost becomes unknown at once, and only the sweep applies waiting statuses."""

    webhooks_flowing: Callable[[Session, datetime], bool] = lambda session, now: False
    wamids_committed: Callable[[Session, list[str]], object] = lambda session, wamids: 0


@dataclass
class Outcome:
    claimed: Claimed
    result: SendResult | None = None
    error: CloudAPIError | None = None

    @property
    def meta_answered(self) -> bool | None:
        """Whether Meta answered the request (a wamid, or an error of the message's own), or was failing (a 5xx, a
        timeout); None when the request never reached it (parameters that could make no message)."""
        if self.result is not None:
            return True
        if self.error.meta_failing:
            return False
        return True if self.error.http_status else None


@dataclass(frozen=True)
class Written:
    """What a committed batch of outcomes tells the dispatcher beyond the database."""
    wamids: list[str]
    sent_phones: list[str]
    effects: Effects


class Lease:
    """A Redis key that says a dispatcher slot is taken; it lapses if the dispatcher dies."""

    REFRESH = """
    local v = redis.call('GET', KEYS[1])
    if v == ARGV[1] or v == false then
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1
    end
    return 0
    """

    def __init__(self, key: str, ttl: float = 10.0) -> None:
        self.redis = redis_client()
        self.key, self.ttl_ms, self.token = key, int(ttl * 1000), uuid.uuid4().hex
        self._refresh = self.redis.register_script(self.REFRESH)
        self.refreshed = 0.0

    def acquire(self) -> bool:
        self.refreshed = time.monotonic()
        return bool(self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def refresh(self) -> bool:
        """Keep the lease (re-taking it if Redis lost it); False if another dispatcher holds it now."""
        if time.monotonic() - self.refreshed < 1.0:
            return True
        self.refreshed = time.monotonic()
        return bool(self._refresh(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> None:
        if self.redis.get(self.key) == self.token.encode():
            self.redis.delete(self.key)

    @staticmethod
    def alive(key: str) -> bool:
        return bool(redis_client().exists(key))


@contextmanager
def _asked_to_stop():
    """An event set by SIGTERM while the block runs (in the main thread: a work-horse's), the former handler after."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: asked.set())
    try:
        yield asked
    finally:
        signal.signal(signal.SIGTERM, previous)


class Dispatcher:
    def __init__(self, campaign_id: int, slot: int = 0, tracking: Tracking = Tracking()) -> None:
        config = current_app.config
        self.campaign_id = campaign_id
        self.slot = slot
        self.proven = False  # whether the campaign's canary passed: concurrency is open
        self.tracking = tracking
        self.logger = current_app.logger  # for the sends' loop, which runs outside the app context
        self.lease = Lease(lease_key(campaign_id, slot))
        self.ledger = ClaimLedger(redis_client(), self.lease.key, self.lease.token)
        self.slots = config["DISPATCHERS_PER_CAMPAIGN"]
        self.orphans_checked = 0.0
        self.concurrency = config["SEND_CONCURRENCY"]
        self.slice_seconds = config["DISPATCH_SLICE_SECONDS"]
        self.grace = config["UNKNOWN_DELIVERY_GRACE_SECONDS"]
        self.retry_base = config["RETRY_BASE_SECONDS"]
        self.margin_ms = config["RATE_MARGIN_MS"]
        self.breaker_quiet = config["BREAKER_QUIET_SECONDS"]
        self.guard_settle, self.guard_wait = config["GUARD_SETTLE_SECONDS"], config["GUARD_WAIT_SECONDS"]
        self.slice_last_id: int | None = None  # while the first slice is judged, no row beyond it is claimed
        self.window_closed_until: datetime | None = None  # set when only closed zones have rows left
        self.status, self.status_read = None, float("-inf")  # the campaign's status as last read (_status), when
        self._load_settings()

    def _load_settings(self) -> None:
        """The sender's rate, limit and token and the attempts setting, as they are now (staff may change them)."""
        campaign = db.session.get(Campaign, self.campaign_id, populate_existing=True)
        sender = db.session.get(Sender, campaign.sender_id, populate_existing=True)
        self.phone_number_id = sender.phone_number_id
        self.template = (campaign.template_name, campaign.template_language)
        # Tracked links: each message carries its recipient's codes (campaigns/links.py), made on the sends' loop.
        self.links = links_of(db.session, self.campaign_id)
        self.link_base, self.link_key = public_url(), signing_key()
        # Meta's per-user marketing limit holds contacts from marketing templates only (a deleted template: assume so).
        self.marketing = is_marketing(campaign.template)
        self.client = client_for(sender)
        self.limiter = RateLimiter(redis_client(), sender.phone_number_id, sender.throughput, self.margin_ms,
                                   breaker_quiet_seconds=self.breaker_quiet)
        self.cap = DailyCap(redis_client(), sender.phone_number_id, sender.messaging_limit)
        self.claim_ahead = max(self.limiter.burst, -(-sender.throughput // 10))  # 100 ms of sending, or more
        self.max_attempts = WorkspaceSettings.get().send_attempts
        self.window = SendingWindow.of(campaign)
        self.budget = budget_for(db.session, campaign)  # read again each slice, with what was billed since
        self.slice_last_id = campaign.slice_last_id if campaign.guard_state == "slice" else None
        self.zones = self._pending_zones() if self.window else []  # read again each slice: they only ever shrink
        db.session.commit()

    def _pending_zones(self) -> list[str]:
        """The zones of the campaign's rows still to send (few: one query)."""
        return list(db.session.scalars(select(Recipient.zone).where(
            Recipient.campaign_id == self.campaign_id, Recipient.status == "pending").distinct()))

    def _open_zones(self) -> list[str] | None:
        """The zones where the window is open now (None: the campaign has no window, every row may go)."""
        return open_zones(self.window, self.zones, utcnow()) if self.window else None

    # --- the loop ---

    def run(self) -> str:
        """Send until the campaign is done, paused or waiting, or this slice of time is used up while another job
        waits for this worker (alone, the job goes on for up to SLICES_PER_JOB slices: handing over to a new job
        leaves the number idle for about a second).

        Returns "done", "stopped" (not sending any more, or the lease is someone else's), "waiting"
        (daily limit) or "continue" (more to do: the job enqueues itself again).
        """
        if self.slot and self._others_waiting(first_slots_only=True):
            return "continue"  # this campaign's slot 0 had a turn: the other campaign's goes first (to the back)
        if not self.lease.acquire():
            return "stopped"
        self.ledger.open()
        self.cap.ensure_built(self._recent_customers)
        finished: list[Outcome] = []
        in_flight: set[Future] = set()
        deadline = time.monotonic() + self.slice_seconds
        slices = 1
        last_record = time.monotonic()
        verdict = "continue"
        buffer: deque[Claimed] = deque()  # claimed ahead, so only memory work lies between admission and send
        with self.client.sends(self.concurrency) as sends, _asked_to_stop() as stop:
            try:
                while True:
                    done = {f for f in in_flight if f.done()}
                    in_flight -= done
                    finished += [f.result() for f in done]
                    if finished and (len(finished) >= RECORD_BATCH or time.monotonic() - last_record > RECORD_EVERY
                                     or not self.proven):  # a canary's fate decides what goes next
                        self.record(finished)
                        finished, last_record = [], time.monotonic()
                    if stop.is_set():
                        break  # verdict "continue": the tick starts the job again once a worker runs
                    if not self.lease.refresh() or self._status() != "sending":
                        verdict = "stopped"
                        break
                    if time.monotonic() > deadline:
                        if slices >= SLICES_PER_JOB or self._others_waiting():
                            break
                        slices, deadline = slices + 1, deadline + self.slice_seconds
                        self._load_settings()
                    if not self.proven and self.slot:  # slot 0 sends the canary
                        if not Lease.alive(lease_key(self.campaign_id, 0)):
                            # Slot 0 waits for a worker, perhaps for this one: give it back and queue up behind
                            # it, rather than hold the worker for a whole job waiting on a canary nobody sends.
                            self._pause(in_flight, 0.2)
                            break
                        self._pause(in_flight, 0.1)
                        continue
                    free = (self.concurrency if self.proven else 1) - len(in_flight)
                    if free <= 0:
                        wait(in_flight, timeout=0.05, return_when=FIRST_COMPLETED)
                        continue
                    room = self.cap.room(time.time())
                    if room == 0:
                        self._wait_for_daily_limit()
                        verdict = "waiting"
                        break
                    if len(buffer) < self.claim_ahead:
                        buffer.extend(claim(db.session, self.campaign_id, 2 * self.claim_ahead - len(buffer),
                                            utcnow(), marketing=self.marketing, token=self.lease.token,
                                            zones=self._open_zones(), up_to=self.slice_last_id))
                        db.session.commit()
                    if not buffer and self.slice_last_id is not None and not in_flight and not finished:
                        judged = judge(db.session, self.campaign_id, utcnow(), self.guard_settle, self.guard_wait)
                        db.session.commit()
                        if judged.paused:
                            verdict = "stopped"
                            break
                        if judged.go_on:
                            self.slice_last_id = None
                        elif judged.wait_seconds > WAIT_OFF_WORKER:
                            self._wait_for_slice(judged.wait_seconds)
                            verdict = "waiting"
                            break
                        else:
                            self._pause(in_flight, min(judged.wait_seconds, 0.25))  # a webhook may pause it
                        continue
                    if not buffer:
                        if not in_flight and not finished:
                            next_due = self._next_due()
                            if next_due is None:
                                verdict = "done"
                                break
                            if next_due == 0 and self._resolve_orphans():
                                continue
                            if next_due > WAIT_OFF_WORKER:
                                self._wait_for_due_rows(next_due)
                                verdict = "waiting"
                                break
                            self._pause(in_flight, min(max(next_due, 0.05), 1.0, max(deadline - time.monotonic(), 0)))
                        else:
                            self._pause(in_flight, 0.05)
                        continue
                    wanted = min(free, len(buffer), room if room is not None else len(buffer))
                    grant = self.limiter.acquire(wanted)
                    if grant.granted == 0:
                        self._pause(in_flight, min(grant.wait_seconds, 0.25))
                        continue
                    leaving = [buffer.popleft() for _ in range(grant.granted)]
                    if self.budget is not None and self._over_budget(leaving, buffer):
                        verdict = "stopped"
                        break
                    if not self.ledger.leaving([c.id for c in leaving]):  # our claim was resolved as orphaned
                        buffer.extendleft(reversed(leaving))
                        verdict = "stopped"
                        break
                    admitted = time.monotonic()
                    in_flight.update(sends.submit([self._send(sends, claimed, admitted) for claimed in leaving]))
            finally:
                for future in in_flight:  # a pause or the end of the slice: let what started finish
                    finished.append(future.result())
                if finished:
                    self.record(finished)
                if buffer:
                    release(db.session, self.campaign_id, list(buffer))
                    db.session.commit()
                self.ledger.forget()
                self.lease.release()
        if verdict in ("done", "stopped"):
            finish_if_done(self.campaign_id)
        return verdict

    def _over_budget(self, leaving: list[Claimed], buffer: deque[Claimed]) -> bool:
        """Keep in `leaving` the messages that fit in what is left of the monthly budget; when one does not, put
        it and the rest back and pause the campaign with a banner (the caller stops once these are sent)."""
        fits = self.budget.admit([claimed.country for claimed in leaving])
        if fits == len(leaving):
            return False
        buffer.extendleft(reversed(leaving[fits:]))
        del leaving[fits:]
        pause_over_budget(db.session, self.campaign_id, self.budget)
        db.session.commit()
        return not leaving

    @staticmethod
    def _pause(in_flight: set[Future], seconds: float) -> None:
        """Wait for the limiter or for due rows, collecting finished sends meanwhile."""
        if in_flight:
            wait(in_flight, timeout=seconds, return_when=FIRST_COMPLETED)
        else:
            time.sleep(seconds)

    def _others_waiting(self, first_slots_only: bool = False) -> bool:
        """Whether another job this worker could run has waited a while, so that no other worker takes it: a
        dispatcher of another campaign, a launch, a tick. (This campaign's other slots do the same work as
        this one: they need no turn.) With `first_slots_only`, another campaign's extra slots do not count:
        a campaign's turn is its slot 0's, and two extra slots never hand the worker to each other."""
        since = utcnow() - timedelta(seconds=UNSERVED_SECONDS)
        return any(job.enqueued_at and job.enqueued_at < since and self._takes_a_turn(job, first_slots_only)
                   for job in waiting_jobs())

    def _takes_a_turn(self, job, first_slots_only: bool) -> bool:
        if job.func_name != DISPATCH_JOB or not job.args:
            return True
        slot = job.args[1] if len(job.args) > 1 else 0
        return job.args[0] != self.campaign_id and not (first_slots_only and slot)

    def _status(self) -> str | None:
        """The campaign's status, read at most every STATUS_EVERY once it is proven (each read is a query and a
        commit, and the loop turns ~50 times a second: reading each turn cost ~0.1 ms a message at 500/s). Rows
        buffered meanwhile were claimed before a pause's commit, so a pause still starts no unclaimed row."""
        if self.proven and time.monotonic() - self.status_read < STATUS_EVERY:
            return self.status
        self.status_read = time.monotonic()
        self.status = self._read_status()
        return self.status

    def _read_status(self) -> str | None:
        found = db.session.execute(select(Campaign.status, Campaign.canary_passed_at, Campaign.guard_state)
                                   .where(Campaign.id == self.campaign_id)).first()
        db.session.commit()  # end the read transaction: SQLite would otherwise keep showing this snapshot
        self.proven = bool(found and found.canary_passed_at)
        if found and found.guard_state != "slice":
            self.slice_last_id = None  # judged (by another slot), or cleared by staff
        return found.status if found else None

    def _next_due(self) -> float | None:
        """Seconds until the next pending row is due (0 if one is due now), or None when none is pending. With a
        window, a row in a closed zone is due when its zone opens (and `window_closed_until` says so)."""
        self.window_closed_until = None
        zones = self._open_zones()
        left = Recipient.status.in_(("pending", "sending")) if zones is None else \
            or_(Recipient.status == "sending", and_(Recipient.status == "pending", Recipient.zone.in_(zones)))
        row = db.session.execute(select(func.count(), func.min(Recipient.next_attempt_at))
                                 .where(Recipient.campaign_id == self.campaign_id, left)).one()
        if not row[0] and zones is not None:
            now = utcnow()
            self.zones = self._pending_zones()
            openings = [self.window.next_opening(now, ZoneInfo(zone)) for zone in self.zones]
            db.session.commit()
            if openings:
                self.window_closed_until = min(openings)
                return max(0.0, (self.window_closed_until - now).total_seconds())
        db.session.commit()
        if not row[0]:
            return None
        return max(0.0, (row[1] - utcnow()).total_seconds()) if row[1] else 0.0

    def _resolve_orphans(self) -> int:
        """Resolve rows left `sending` by a dispatcher that is gone (at most once a second); return how many."""
        if time.monotonic() - self.orphans_checked < 1.0:
            return 0
        self.orphans_checked = time.monotonic()
        now = utcnow()
        retries = Retries(self.max_attempts, self.retry_base, self.grace,
                          webhooks_flowing=self.tracking.webhooks_flowing(db.session, now))
        resolved = resolve(db.session, redis_client(), self.campaign_id, self.slots, now, retries)
        db.session.commit()
        return resolved

    def _recent_customers(self):
        since = utcnow() - timedelta(days=1)
        rows = db.session.execute(
            select(Recipient.phone, func.max(Recipient.accepted_at))
            .join(Campaign, Campaign.id == Recipient.campaign_id).join(Sender, Sender.id == Campaign.sender_id)
            .where(Sender.phone_number_id == self.phone_number_id, Recipient.accepted_at > since)
            .group_by(Recipient.phone)
        ).all()
        db.session.commit()
        return [(phone, at.timestamp()) for phone, at in rows]

    def _wait_for_daily_limit(self) -> None:
        frees_at = self.cap.frees_at(time.time())
        until = utcnow() + timedelta(seconds=max(60, (frees_at or time.time() + 3600) - time.time()))
        db.session.execute(update(Campaign).where(Campaign.id == self.campaign_id).values(
            waiting_until=until,
            notice="Today's messaging limit for this number is reached (unique customers in 24 hours). "
                   "Sending goes on by itself when the limit leaves room."))
        db.session.commit()

    def _wait_for_slice(self, seconds: float) -> None:
        """Leave the worker while the first slice's outcomes come in (the tick enqueues the dispatchers again)."""
        db.session.execute(update(Campaign).where(Campaign.id == self.campaign_id).values(
            waiting_until=utcnow() + timedelta(seconds=seconds),
            notice="The first slice is sent: the rest waits for its outcomes (opt-outs, failures) before it goes, "
                   "so that a message that upsets customers stops early. Sending goes on by itself."))
        db.session.commit()

    def _wait_for_due_rows(self, seconds: float) -> None:
        """Leave the worker until the first waiting row is due (the tick enqueues the dispatchers again then),
        with a banner saying why the rows wait."""
        if self.window_closed_until is not None:
            db.session.execute(update(Campaign).where(Campaign.id == self.campaign_id).values(
                waiting_until=self.window_closed_until,
                notice=f"Outside the sending window ({self.window}, recipients' time): sending resumes by itself "
                       f"at {localtime(self.window_closed_until)} ({workspace_zone().key}), when it opens for the "
                       "next recipients."))
            db.session.commit()
            return
        held = db.session.scalar(select(func.count()).where(
            Recipient.campaign_id == self.campaign_id, Recipient.status == "pending",
            Recipient.error_code == HELD.code)) or 0
        why = (f"Meta's per-user marketing limit (error 131049) holds {held:,} of the recipients left: no marketing "
               "message reaches them for 24 hours." if held else "The recipients left wait for their next attempt.")
        db.session.execute(update(Campaign).where(Campaign.id == self.campaign_id).values(
            waiting_until=utcnow() + timedelta(seconds=seconds),
            notice=f"{why} Sending goes on by itself when they are due."))
        db.session.commit()

    # --- one request, on the sends' loop (its own thread): no database here ---

    async def _send(self, sends: Sends, claimed: Claimed, admitted: float) -> Outcome:
        name, language = self.template
        self.limiter.leaving(time.monotonic() - admitted)
        try:
            params = with_codes(claimed.params, self.links, claimed.id, self.link_base, self.link_key)
            result = await sends.send_template(self.phone_number_id, claimed.phone, name, language, params,
                                               callback_data=f"r:{claimed.id}", api=self.client)  # token as it is now
            return Outcome(claimed, result=result)
        except CloudAPIError as exc:
            return Outcome(claimed, error=exc)
        except (ValueError, KeyError, TypeError) as exc:  # the stored parameters cannot make a message
            return Outcome(claimed, error=CloudAPIError(f"Invalid parameters: {exc}", action=Action.ROW_FAIL))
        except Exception as exc:  # noqa: BLE001 - whatever broke, the request may have left: never re-send blindly
            self.logger.exception("Send of recipient %s failed unexpectedly", claimed.id)
            return Outcome(claimed, error=CloudAPIError(f"Unexpected error while sending: {exc}",
                                                        action=Action.RETRY, delivery_unknown=True))

    # --- results, in batched transactions ---

    def record(self, outcomes: list[Outcome]) -> None:
        written = retried(db.session, lambda: self._write(outcomes, utcnow()))
        self.proven = self.proven or bool(written.wamids)
        if written.effects.hold_seconds:
            self.limiter.hold(written.effects.hold_seconds)
            self.limiter.widen()
        health = [o.meta_answered for o in outcomes if o.meta_answered is not None]  # in the order they came
        if health:  # what Meta's health does to the number's rate (ratelimit.Breaker)
            answered = health.count(True)
            failing_last = health[::-1].index(True) if answered else 0  # the failures after the last answer
            self.limiter.breaker.record(len(health) - answered, answered, failing_last)
        self.cap.record(written.sent_phones, time.time())
        if written.wamids:
            self.tracking.wamids_committed(db.session, written.wamids)
            db.session.commit()

    def _write(self, outcomes: list[Outcome], now: datetime) -> Written:
        """The outcomes' rows, counters and effects, in one transaction that ends committed (run again whole
        should PostgreSQL end it as a deadlock's victim: nothing outside the database changes before its commit)."""
        begin_write(db.session)
        if not is_sqlite(db.session):
            # Locked in id order, as the status webhooks lock theirs (campaigns/statuses.py): in any other order the
            # two deadlock on rows whose statuses arrive while their send answers are recorded.
            table = Recipient.__table__
            db.session.execute(select(table.c.id).where(table.c.id.in_([o.claimed.id for o in outcomes]))
                               .order_by(table.c.id).with_for_update())
        deltas: Counter = Counter()
        tally = Tally()
        accepted = self._record_accepted(outcomes, now, deltas, tally)
        wamids = [o.result.wamid for o in outcomes if o.claimed.id in accepted]
        sent_phones = [o.claimed.phone for o in outcomes if o.claimed.id in accepted]
        rest = [o for o in outcomes if o.claimed.id not in accepted]  # row by row
        query = select(Recipient).where(Recipient.id.in_([o.claimed.id for o in rest])).order_by(Recipient.id)
        rows = {row.id: row for row in db.session.scalars(query)} if rest else {}
        effects = Effects()
        reported: dict[str, str] = {}  # phone -> the other wa_id Meta answered with
        lost = any(o.error and o.error.delivery_unknown for o in rest)
        retries = Retries(self.max_attempts, self.retry_base, self.grace,
                          webhooks_flowing=lost and self.tracking.webhooks_flowing(db.session, now))
        for outcome in rest:
            row = rows.get(outcome.claimed.id)
            if row is None:
                continue
            if outcome.result is not None:
                changes = report(row, "accepted", now, wamid=outcome.result.wamid)
                if wa_id := other_form(row.phone, outcome.result.wa_id):
                    row.wa_id = reported[row.phone] = wa_id
                wamids.append(outcome.result.wamid)
                sent_phones.append(row.phone)
            elif row.status in ("sending", "unknown"):  # else a webhook already told us what happened to it
                error = outcome.error
                changes = settle_send_error(row, error.meta_error, error.action, error.delivery_unknown, now,
                                            retries, effects)
            else:
                continue
            deltas.update(changes)
            tally.add(row, changes, now)
        add_counts(db.session, self.campaign_id, deltas)
        tally.write(db.session)
        learn(db.session, reported)
        apply_effects(db.session, effects)
        if wamids and not self.proven:
            db.session.execute(update(Campaign).where(Campaign.id == self.campaign_id,
                                                      Campaign.canary_passed_at.is_(None)).values(canary_passed_at=now))
        db.session.commit()
        return Written(wamids, sent_phones, effects)

    def _record_accepted(self, outcomes: list[Outcome], now: datetime, deltas: Counter, tally: Tally) -> set[int]:
        """The common case, two statements for the batch: rows still `sending` whose request Meta accepted (no webhook
        came first, the number as sent) become `accepted` with their wamid, as `lifecycle.report` moves them; returns
        their ids. No ORM object per row: at 1,000 messages a second they cost more than the request (issue #20)."""
        answers = {o.claimed.id: o.result.wamid for o in outcomes
                   if o.result is not None and not other_form(o.claimed.phone, o.result.wa_id)}
        if not answers:
            return set()
        table = Recipient.__table__
        moved = db.session.execute(
            select(table.c.id, table.c.campaign_id, table.c.sending_at, table.c.zone)
            .where(table.c.id.in_(sorted(answers)), table.c.status == "sending", table.c.reached == 0,
                   table.c.wamid.is_(None))).all()  # in this write transaction: locked (PostgreSQL) or alone (SQLite)
        if moved:  # one statement, compiled once, run for the batch (executemany)
            db.session.execute(
                update(table).where(table.c.id == bindparam("row_id"))
                .values(status="accepted", reached=FUNNEL["accepted"], accepted_at=now, claim_token=None,
                        wamid=bindparam("row_wamid"), error_code=None, error_title="", error_detail=""),
                [{"row_id": row.id, "row_wamid": answers[row.id]} for row in moved])
        # What lifecycle.report counts for such a row (sending -> accepted), asked of it once.
        changes = report(Recipient(status="sending", reached=0), "accepted", now, wamid="-")
        for row in moved:
            deltas.update(changes)
            tally.add(row, changes, now)
        return {row.id for row in moved}


def finish_if_done(campaign_id: int) -> str | None:
    """Mark a sending campaign completed once no row is pending or being sent; return its final status."""
    begin_write(db.session)
    campaign = db.session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None or campaign.status != "sending":
        db.session.commit()
        return None
    figures = counts(db.session, campaign_id)
    if figures["queued"]:
        db.session.commit()
        return None
    sendable = figures["total"] - figures["skipped"] - figures["cancelled"]
    if sendable and not figures["accepted"]:
        campaign.status = "failed"
    elif figures["failed"] or figures["unknown"]:
        campaign.status = "partially_sent"
    else:
        campaign.status = "sent"
    campaign.completed_at = utcnow()
    campaign.notice = campaign.notice if campaign.notice_code else ""
    emit(db.session, "broadcast.completed", {"broadcast_id": campaign.id, "name": campaign.name,
                                             "status": campaign.status, "completed_at": iso(campaign.completed_at),
                                             "counts": figures})
    db.session.commit()
    return campaign.status
