"""Launch: freeze the template (and a segment's conditions), snapshot the audience into recipient rows in bulk, then
start sending.

The snapshot commits in chunks and records how far it got (Campaign.snapshot_cursor), so a launch job that dies
half-way resumes where it stopped and never writes a row twice: the unique (campaign, phone) constraint backs that
up. When the database makes the rows on PostgreSQL, WRITERS chunks are written at once, each by its own
connection in its own transaction, and the cursor moves past them once all are committed: a job that dies between
writes them again, and the rows already there conflict, are not written twice and count nothing. A marketing
campaign skips the contacts over the workspace's frequency cap (campaigns/frequency.py), found with one query per
chunk.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app
from sqlalchemy import select

from webapp.campaigns.audience import people, refreshed, segment_condition
from webapp.campaigns.costs import estimate_rows
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.frequency import Cap, is_marketing
from webapp.campaigns.guardrail import plan_slice
from webapp.campaigns.links import create_links
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.recipients import capped, place, write
from webapp.campaigns.rows_in_sql import Plan
from webapp.campaigns.windows import SendingWindow
from webapp.extensions import db
from webapp.senders.models import Template
from webapp.timestamps import utcnow
from webapp.transactions import begin_write, is_sqlite, retried
from webapp.workspace.models import WorkspaceSettings

CHUNK = 2000  # people read, written and committed per step
SQL_CHUNK = 20000  # the same when the database makes the rows (campaigns/rows_in_sql.py)
# Chunks the database makes at once on PostgreSQL: one backend's CPU bounds a chunk, so two use a second core.
# (SQLite has one writer: one at a time.)
WRITERS = 2


def freeze_template(campaign: Campaign) -> None:
    """Copy the template as it is now; refuse one that vanished or lost its approval since compose."""
    template = db.session.get(Template, campaign.template_id) if campaign.template_id else None
    if template is None:
        raise CampaignError(f"The template {campaign.template_name or ''} no longer exists. Sync templates and "
                            "choose another.", field="template")
    if not template.approved:
        raise CampaignError(f"The template {template.name} ({template.language}) is {template.status.lower()}, "
                            "not approved, so Meta would refuse it. Choose an approved template.", field="template")
    campaign.template_name, campaign.template_language = template.name, template.language
    campaign.template_components = template.components
    campaign.parameter_format = template.parameter_format


def freeze_segment(campaign: Campaign) -> None:
    """A segment audience takes its segment's conditions as they are now (a deleted segment's copy stays), and
    the snapshot reads those, as it reads a list's members as they are now."""
    campaign.audience = refreshed(db.session, campaign.audience or {})
    if "segment" in campaign.audience:
        segment_condition(db.session, campaign.audience["segment"])


def snapshot(campaign_id: int, by_database: bool = True) -> str:
    """Write the recipient rows of a `queued` campaign; return what happened ("sending", "draft", "skipped").
    `by_database`: let the database make the rows it can (campaigns/rows_in_sql.py; False: Python makes them all,
    for the test that both ways agree)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "queued":
        return "skipped"
    if campaign.snapshot_cursor == 0:
        try:
            freeze_template(campaign)
            freeze_segment(campaign)
        except CampaignError as exc:
            return _back_to_draft(campaign, exc.message)
        db.session.commit()
    cap = Cap.of(WorkspaceSettings.get()) if is_marketing(campaign.template) else None
    plan = Plan.of(db.session, campaign) if by_database else None
    while True:
        begin_write(db.session)
        # FOR SHARE until the round commits: a cancel waits for the chunks being written, then cancels them too
        campaign = db.session.get(Campaign, campaign_id, populate_existing=True, with_for_update={"read": True, "of": Campaign})
        if campaign.status != "queued":  # cancelled while the snapshot ran
            db.session.commit()
            return "skipped"
        cursor = _step(campaign, cap, plan)
        if cursor is None:
            break
        campaign.snapshot_cursor = cursor
        db.session.commit()
    if SendingWindow.of(campaign):  # rows the API added before the window was set have no zone yet
        place(db.session, campaign)
        db.session.commit()
    total = db.session.scalar(select(db.func.count()).where(Recipient.campaign_id == campaign_id))
    if not total:
        segment = (campaign.audience or {}).get("segment")
        why = (f"No contact matches the segment “{segment['name']}” now: change its conditions or add contacts"
               if segment else "The audience has no one to send to: its lists are empty and no recipient was "
                               "added. Add contacts")
        return _back_to_draft(campaign, f"{why}, then send again.")
    estimate_rows(db.session, campaign)  # what the rows will cost, fixed now (the card may change later)
    plan_slice(db.session, campaign)
    create_links(db.session, campaign)
    campaign.status = "sending"
    campaign.started_at = utcnow()
    campaign.notice, campaign.notice_code = "", None
    db.session.commit()
    return "sending"


def _step(campaign: Campaign, cap: Cap | None, plan: Plan | None) -> int | None:
    """Write the next chunk's rows (chunks, when the database makes them); the cursor past them, or None when the
    audience is done."""
    if plan is not None:
        return _by_database(campaign, cap, plan)
    batch = people(db.session, campaign.audience, campaign.snapshot_cursor, CHUNK)
    if not batch:
        return None
    write(db.session, campaign, batch, capped(db.session, cap, batch))
    return batch[-1].key


def _by_database(campaign: Campaign, cap: Cap | None, plan: Plan) -> int | None:
    """The next chunks of rows made by the database: one in this transaction on SQLite, WRITERS at once on
    PostgreSQL, each in a thread with its own session, committed when written."""
    after = campaign.snapshot_cursor
    ends = plan.ends(db.session, campaign, after, SQL_CHUNK, 1 if is_sqlite(db.session) else WRITERS)
    if not ends:
        return None
    if len(ends) == 1:
        plan.write(db.session, campaign, after, ends[0], cap)
        return ends[0]
    app = current_app._get_current_object()
    with ThreadPoolExecutor(len(ends)) as pool:
        chunks = [pool.submit(_write_chunk, app, plan, campaign.id, start, end, cap)
                  for start, end in zip([after, *ends], ends)]
    for chunk in chunks:
        chunk.result()  # the first error, once every chunk has ended
    return ends[-1]


def _write_chunk(app: Flask, plan: Plan, campaign_id: int, after: int, upto: int, cap: Cap | None) -> None:
    """One chunk's rows, in a transaction of its own (a thread's session: the app context's), written again should
    PostgreSQL end it as a deadlock's victim (the chunk writes nothing twice)."""
    def work() -> None:
        plan.write(db.session, db.session.get(Campaign, campaign_id), after, upto, cap)
        db.session.commit()
    with app.app_context():
        retried(db.session, work)


def _back_to_draft(campaign: Campaign, message: str) -> str:
    """Nothing half-launched: no rows were sent, the campaign returns to draft with the reason shown (and logged:
    the notice is set first, campaigns/state_log.py reads it)."""
    campaign.notice, campaign.notice_code = message, None
    campaign.status = "draft"
    campaign.launched_at = None
    db.session.commit()
    return "draft"
