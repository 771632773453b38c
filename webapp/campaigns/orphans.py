"""Rows left `sending` by a dispatcher that is gone (its work-horse killed, its lease lapsed or taken over):
resolved without an operator, and never sent twice.

A dispatcher claims rows under its lease's token, so a `sending` row names its owner; the owner is alive while
one of the campaign's lease keys holds that token. Before each batch of requests leaves, the dispatcher writes
the rows' ids into its claim's *ledger* in Redis (`left`), in one script that also checks that its lease is
still its own and that nobody has closed the claim. Resolving an orphaned claim first closes it (so its owner,
should it come back, sends nothing more of it) and reads its ledger:

- a row not in an intact ledger never left: it goes back to `pending`, its attempt not counted;
- a row in the ledger, or any row of a claim whose ledger Redis lost (flushed, expired), may have reached
  Meta: it follows the rules of a request whose answer was lost (campaigns/outcomes.py): while webhooks
  reach us it waits the grace period for its status before it is tried again, else it becomes `unknown`.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.campaigns.daily import Tally
from webapp.campaigns.lifecycle import add_counts, move
from webapp.campaigns.models import Recipient
from webapp.campaigns.outcomes import Effects, Retries, apply_effects, settle_send_error
from webapp.meta_errors import Action, MetaError
from webapp.transactions import begin_write, is_sqlite

LEDGER_SECONDS = 24 * 3600  # a claim's ledger outlives any dispatcher run; an older one counts as lost
INTACT = "-"  # the member every ledger is born with: a ledger without it was rebuilt after Redis lost it
LOST = MetaError(None, "The process sending this message stopped while its request may have been on its way",
                 "Broadcaster waits for Meta's status before it tries again.")

OPEN = "redis.call('DEL', KEYS[1]) redis.call('SADD', KEYS[1], ARGV[1]) redis.call('EXPIRE', KEYS[1], ARGV[2])"
# KEYS: lease, ledger, closed mark; ARGV: token, ids… — the ids may leave only while the lease is ours and open.
MARK_LEFT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if #ARGV > 1 then redis.call('SADD', KEYS[2], unpack(ARGV, 2)) end
return 1
"""
# KEYS: ledger, closed mark; ARGV: seconds. Closes the claim and answers its ledger.
CLOSE = "redis.call('SET', KEYS[2], '1', 'EX', ARGV[1]) return redis.call('SMEMBERS', KEYS[1])"


def lease_key(campaign_id: int, slot: int) -> str:
    return f"dispatch:{campaign_id}:{slot}:lease"


def _ledger_key(token: str) -> str:
    return f"claim:{token}:left"


def _closed_key(token: str) -> str:
    return f"claim:{token}:closed"


class ClaimLedger:
    """The dispatcher's side: which of its claimed rows' requests may have left."""

    def __init__(self, redis: Redis, lease: str, token: str) -> None:
        self.redis, self.lease, self.token = redis, lease, token
        self._mark = redis.register_script(MARK_LEFT)

    def open(self) -> None:
        self.redis.eval(OPEN, 1, _ledger_key(self.token), INTACT, LEDGER_SECONDS)

    def leaving(self, ids: list[int]) -> bool:
        """Note that these rows' requests leave now; False if they must not (the claim is no longer ours)."""
        return bool(self._mark(keys=[self.lease, _ledger_key(self.token), _closed_key(self.token)],
                               args=[self.token, *ids]))

    def forget(self) -> None:
        """The run ended with every row it claimed recorded or released: the ledger has nothing more to say."""
        self.redis.delete(_ledger_key(self.token))


def live_owners(redis: Redis, campaign_id: int, slots: int) -> set[str]:
    """The tokens of the campaign's dispatchers alive now."""
    found = redis.mget([lease_key(campaign_id, slot) for slot in range(slots)])
    return {token.decode() for token in found if token}


def resolve(session: Session, redis: Redis, campaign_id: int, slots: int, now: datetime, retries: Retries) -> int:
    """Resolve the campaign's `sending` rows whose owner is gone, in the caller's transaction; return how many."""
    sending = (Recipient.campaign_id == campaign_id, Recipient.status == "sending")
    owners = set(session.scalars(select(Recipient.claim_token).where(*sending).distinct()))
    gone = owners - live_owners(redis, campaign_id, slots)  # read after the rows: a newer claim is not among them
    if not gone:
        return 0
    begin_write(session)
    query = select(Recipient).where(*sending, Recipient.claim_token.in_(gone))  # a claim always names its owner
    rows = list(session.scalars(query if is_sqlite(session) else query.with_for_update()))
    deltas: Counter = Counter()
    effects, tally = Effects(), Tally()
    for token in {row.claim_token for row in rows}:
        ledger = set(redis.eval(CLOSE, 2, _ledger_key(token), _closed_key(token), LEDGER_SECONDS))
        intact = INTACT.encode() in ledger
        for row in (row for row in rows if row.claim_token == token):
            if intact and str(row.id).encode() not in ledger:
                deltas.update(move(row, "pending", attempts=row.attempts - 1))
            else:
                changes = settle_send_error(row, LOST, Action.RETRY, True, now, retries, effects)
                deltas.update(changes)
                tally.add(row, changes, now)
    add_counts(session, campaign_id, deltas)
    tally.write(session)
    apply_effects(session, effects)
    return len(rows)
