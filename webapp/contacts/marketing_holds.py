"""Meta's per-user marketing limit (error 131049): a contact Meta refused a marketing message for is sent no
other marketing template, by any campaign, for 24 hours (reference §4: retries inside 24 h are blocked too)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from webapp.contacts.models import Contact

HOLD = timedelta(hours=24)


def hold(session: Session, phone: str, until: datetime) -> None:
    """Hold the contact of `phone` until `until` (a later hold already set is kept); a number that is no
    contact of ours has nothing to hold."""
    session.execute(update(Contact).where(Contact.phone == phone, or_(Contact.marketing_hold_until.is_(None),
                                                                      Contact.marketing_hold_until < until))
                    .values(marketing_hold_until=until).execution_options(synchronize_session=False))
