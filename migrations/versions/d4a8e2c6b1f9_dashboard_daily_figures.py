"""The dashboard's daily figures: campaign_days, send_hours, failure_days (campaigns/daily.py), filled from the rows

Revision ID: d4a8e2c6b1f9
Revises: e5a1c9d7b3f4
Create Date: 2026-12-02 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a8e2c6b1f9'
down_revision = 'e5a1c9d7b3f4'
branch_labels = None
depends_on = None


def _figure(name):
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default='0')


def upgrade():
    op.create_table(
        'campaign_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('shard', sa.SmallInteger(), nullable=False),
        *(_figure(name) for name in ('sent', 'delivered', 'read', 'replied', 'clicked', 'failed', 'opted_out')),
        sa.Column('cost', sa.Numeric(14, 4), nullable=False, server_default='0'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_days_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('day', 'campaign_id', 'shard', name=op.f('pk_campaign_days')),
    )
    op.create_index('ix_campaign_days_campaign_id', 'campaign_days', ['campaign_id'])
    op.create_table(
        'send_hours',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('hour', sa.SmallInteger(), nullable=False),
        sa.Column('shard', sa.SmallInteger(), nullable=False),
        *(_figure(name) for name in ('sent', 'read', 'replied')),
        sa.PrimaryKeyConstraint('day', 'hour', 'shard', name=op.f('pk_send_hours')),
    )
    op.create_table(
        'failure_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('error_code', sa.Integer(), nullable=False),
        sa.Column('shard', sa.SmallInteger(), nullable=False),
        _figure('failed'),
        sa.Column('title', sa.Text(), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('day', 'error_code', 'shard', name=op.f('pk_failure_days')),
    )
    # An upgrade's existing campaigns appear at once: the same set-based rebuild as `flask dashboard rebuild`. It
    # reads the rows through today's models, so it runs last in the chain of its release, and only when there are
    # rows (a new installation has none).
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM recipients LIMIT 1")).first() is None:
        return
    from zoneinfo import ZoneInfo
    from sqlalchemy.orm import Session
    from webapp.campaigns.daily import rebuild
    from webapp.webhooks.inbound import opt_out_answers
    name = bind.execute(sa.text("SELECT timezone FROM workspace_settings WHERE id = 1")).scalar() or "UTC"
    try:
        zone = ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        zone = ZoneInfo("UTC")
    with Session(bind=bind) as session:
        rebuild(session, opt_out_answers(), zone)
        session.flush()


def downgrade():
    op.drop_table('failure_days')
    op.drop_table('send_hours')
    op.drop_index('ix_campaign_days_campaign_id', table_name='campaign_days')
    op.drop_table('campaign_days')
