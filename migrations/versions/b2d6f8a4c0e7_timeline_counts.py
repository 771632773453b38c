"""The campaign page's timeline figures: timeline_counts (campaigns/timeline_counts.py), filled from the rows

Revision ID: b2d6f8a4c0e7
Revises: d4a8e2c6b1f9
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2d6f8a4c0e7'
down_revision = 'd4a8e2c6b1f9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'timeline_counts',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('width', sa.SmallInteger(), nullable=False),
        sa.Column('stage', sa.String(length=12), nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.Column('shard', sa.SmallInteger(), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_timeline_counts_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'width', 'stage', 'at', 'shard', name=op.f('pk_timeline_counts')),
    )
    # An upgrade's existing campaigns keep their charts: the same set-based rebuild a repair uses. It reads the rows
    # through today's models, so it runs last in the chain of its release, and only when there are rows.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM recipients LIMIT 1")).first() is None:
        return
    from sqlalchemy.orm import Session
    from webapp.campaigns.timeline_counts import rebuild
    with Session(bind=bind) as session:
        rebuild(session)
        session.flush()


def downgrade():
    op.drop_table('timeline_counts')
