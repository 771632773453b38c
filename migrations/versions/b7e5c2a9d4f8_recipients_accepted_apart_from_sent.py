"""recipients: `accepted` (the Cloud API took the message) apart from `sent` (Meta's status), with accepted_at

A row the API accepted is `accepted` until Meta's `sent` status (or a later one) comes; the funnel counts
`accepted` and `sent` apart. Rows written before this revision cannot tell the two apart: they keep `sent`,
their accepted_at is their sent_at, and each campaign's `accepted` counter starts at its `sent` one.

Revision ID: b7e5c2a9d4f8
Revises: 8d2e4b6f1a03
Create Date: 2026-12-01 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e5c2a9d4f8'
down_revision = '8d2e4b6f1a03'
branch_labels = None
depends_on = None

BEFORE = ('pending', 'sending', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped', 'cancelled', 'unknown')
AFTER = ('pending', 'sending', 'accepted', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped', 'cancelled',
         'unknown')


def _status_in(states):
    return "status IN (" + ", ".join(f"'{state}'" for state in states) + ")"


def upgrade():
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_recipients_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_recipients_status'), _status_in(AFTER))
    op.execute("UPDATE recipients SET accepted_at = sent_at WHERE reached >= 2")
    op.execute("INSERT INTO campaign_counters (campaign_id, name, shard, value) "
               "SELECT campaign_id, 'accepted', 0, SUM(value) FROM campaign_counters WHERE name = 'sent' "
               "GROUP BY campaign_id")


def downgrade():
    op.execute("DELETE FROM campaign_counters WHERE name = 'accepted'")
    op.execute("UPDATE recipients SET status = 'sent', sent_at = COALESCE(sent_at, accepted_at), reached = 2 "
               "WHERE status = 'accepted'")
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_recipients_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_recipients_status'), _status_in(BEFORE))
        batch_op.drop_column('accepted_at')
