"""The campaign page at a million rows: timeline_counts (campaigns/timeline_counts.py), filled from the rows; the log's
filters' indexes (error code, replied, clicked)

Revision ID: b2d6f8a4c0e7
Revises: b7e3d1a9c5f2
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2d6f8a4c0e7'
down_revision = 'b7e3d1a9c5f2'
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
    op.create_index('ix_recipients_campaign_error_code_id', 'recipients', ['campaign_id', 'error_code', 'id'],
                    postgresql_include=['status'], postgresql_where=sa.text('error_code IS NOT NULL'),
                    sqlite_where=sa.text('error_code IS NOT NULL'))
    for name, column in (('replied', 'replied_at'), ('clicked', 'clicked_at')):
        op.create_index(f'ix_recipients_campaign_{name}_id', 'recipients', ['campaign_id', 'id'],
                        postgresql_where=sa.text(f'{column} IS NOT NULL'), sqlite_where=sa.text(f'{column} IS NOT NULL'))
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
    for name in ('clicked', 'replied', 'error_code'):
        op.drop_index(f'ix_recipients_campaign_{name}_id', table_name='recipients')
