"""RQ entry points for the inbox: send one staff answer, download one customer's file, settle lost claims.
Each loads by id, calls the inbox's services, commits; each is safe to run twice (a claim or a status guards it)."""
from __future__ import annotations

from webapp.extensions import db
from webapp.inbox import answers, media
from webapp.timestamps import utcnow
from webapp.webhooks.parked import apply_parked_statuses


def send_answer(answer_id: int) -> str:
    """Claim (commit), send through the number's limiter (no transaction open), record (commit)."""
    claimed = answers.claim(db.session, answer_id, utcnow())
    db.session.commit()
    if claimed is None:
        return "not pending"
    delivery = answers.deliver(claimed)
    status = answers.record(db.session, claimed, delivery, utcnow())
    db.session.commit()
    if delivery.result is not None:  # statuses that raced our commit of the wamid waited for it
        apply_parked_statuses(db.session, [delivery.result.wamid])
    return status


def send_answers(answer_ids: list[int]) -> dict[str, int]:
    """A batch of a list's answers (webapp/inbox/list_messages.py), each sent as send_answer sends one: its own
    claim, the number's limiter, at most once; a second run finds them claimed and sends none again."""
    sent: dict[str, int] = {}
    for answer_id in answer_ids:
        status = send_answer(answer_id)
        sent[status] = sent.get(status, 0) + 1
    return sent


def download_media(inbound_message_id: int) -> str:
    job = media.to_fetch(db.session, inbound_message_id)
    db.session.commit()
    if job is None:
        return "nothing to fetch"
    fetched = media.fetch(job)
    status = media.record_fetch(db.session, inbound_message_id, fetched)
    db.session.commit()
    return status


def sweep() -> int:
    """Answers whose worker died mid-request become unknown (never re-sent blindly)."""
    moved = answers.resolve_stale_claims(db.session, utcnow())
    db.session.commit()
    return moved
