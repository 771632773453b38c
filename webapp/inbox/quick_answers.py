"""Saved quick answers: admins keep them, staff pick one to fill the composer."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.inbox.answers import MAX_TEXT
from webapp.inbox.errors import InboxError
from webapp.inbox.models import QuickAnswer


def all_quick_answers(session: Session) -> list[QuickAnswer]:
    return list(session.scalars(select(QuickAnswer).order_by(QuickAnswer.title)))


def save(session: Session, title: str, text: str, quick_answer: QuickAnswer | None = None) -> QuickAnswer:
    """Add a quick answer, or change one; titles are unique, texts fit one WhatsApp message."""
    title, text = title.strip(), text.strip()
    if not title:
        raise InboxError("Give the quick answer a title.", field="title")
    if not text:
        raise InboxError("Write the quick answer's text.", field="text")
    if len(text) > MAX_TEXT:
        raise InboxError(f"At most {MAX_TEXT:,} characters: WhatsApp takes no longer message.", field="text")
    same = session.scalar(select(QuickAnswer.id).where(QuickAnswer.title == title))
    if same is not None and (quick_answer is None or same != quick_answer.id):
        raise InboxError("A quick answer with that title exists already.", field="title")
    quick_answer = quick_answer or QuickAnswer()
    quick_answer.title, quick_answer.text = title[:80], text
    session.add(quick_answer)
    return quick_answer


def delete(session: Session, quick_answer: QuickAnswer) -> None:
    session.delete(quick_answer)
