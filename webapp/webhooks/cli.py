"""`flask webhooks …`: replay stored events whose application failed, and sweep parked statuses."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from webapp.extensions import db
from webapp.timestamps import utcnow
from webapp.webhooks.parked import apply_stale_parked
from webapp.webhooks.services import failed_event_ids, replay, unfinished_event_ids


@click.group("webhooks")
def webhooks_cli() -> None:
    """Stored webhook events and parked statuses."""


@webhooks_cli.command("replay")
@click.argument("event_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every event whose application failed.")
@click.option("--unfinished", is_flag=True,
              help="Also events left `received` for over 5 minutes (their process stopped while applying).")
@with_appcontext
def replay_command(event_ids: tuple[int, ...], all_failed: bool, unfinished: bool) -> None:
    """Apply stored events again, through the same code as live ones (duplicates are harmless)."""
    ids = set(event_ids)
    if all_failed:
        ids.update(failed_event_ids(db.session))
    if unfinished:
        ids.update(unfinished_event_ids(db.session, utcnow() - timedelta(minutes=5)))
    if not ids:
        raise click.UsageError("Give event ids, --all-failed or --unfinished.")
    outcomes = replay(db.session, sorted(ids))
    for event_id, outcome in outcomes.items():
        if outcome is None:
            click.echo(f"event {event_id}: not found")
        elif outcome.status == "failed":
            click.echo(f"event {event_id}: failed ({'; '.join(outcome.notes)})")
        else:
            click.echo(f"event {event_id}: {outcome.status} ({outcome.statuses} statuses, {outcome.parked} parked, "
                       f"{outcome.messages} new messages)")
    failed = sum(1 for outcome in outcomes.values() if outcome is None or outcome.status == "failed")
    click.echo(f"{len(outcomes) - failed} of {len(outcomes)} events applied or ignored.")
    if failed:
        raise SystemExit(1)


@webhooks_cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Apply parked statuses whose row now has its wamid; forget week-old ones."""
    click.echo(f"{apply_stale_parked(db.session)} parked statuses applied.")
