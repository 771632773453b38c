"""RQ entry points for the inbox: send one staff answer, download one customer's file, settle lost claims.
Each loads by id, calls the inbox's services, commits; each is safe to run twice (a claim or a status guards it)."""
from __future__ import annotations

from rq import get_current_job

from webapp.cloudapi import CloudAPIError
from webapp.extensions import db
from webapp.inbox import answers, list_messages, media
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


def upload_list_media(media_file: str, answer_ids: list[int]) -> dict[int, str]:
    """A list message's file, uploaded to Meta once per sender number, then its answers sent by batches with the
    media id. A refused upload is retried as the enqueue declared (list_messages.UPLOAD_RETRY); once the retries
    are spent, or for a refusal that will not change, the file's answers fail with the reason. Safe to run twice:
    answers that have their media id are not uploaded for again."""
    uploads = list_messages.uploads_needed(db.session, media_file)
    db.session.commit()
    done: dict[int, str] = {}
    for job in uploads:
        try:
            media_id = list_messages.upload(job)
        except (CloudAPIError, OSError) as exc:
            current = get_current_job()
            if isinstance(exc, CloudAPIError) and exc.action.retryable and current and current.retries_left:
                raise  # RQ tries the job again after its declared interval
            list_messages.fail_upload(db.session, job, exc, utcnow())
            done[job.sender_id] = "failed"
        else:
            list_messages.record_upload(db.session, job, media_id)
            done[job.sender_id] = media_id
        db.session.commit()
    list_messages.enqueue_batches(answer_ids)
    return done


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
