"""senders: quality rating, messaging limit tier and when they changed; campaigns: the first slice of the
guardrail; workspace settings: the guardrail's slice and thresholds

Revision ID: a9e4c2f7d318
Revises: a3c9e1f7b5d2
Create Date: 2026-12-02 03:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9e4c2f7d318'
down_revision = 'a3c9e1f7b5d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('senders') as batch:
        batch.add_column(sa.Column('quality_rating', sa.String(length=8), nullable=False, server_default='UNKNOWN'))
        batch.add_column(sa.Column('messaging_limit_tier', sa.String(length=16), nullable=False, server_default=''))
        batch.add_column(sa.Column('quality_event', sa.String(length=32), nullable=False, server_default=''))
        batch.add_column(sa.Column('quality_changed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('slice_last_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('slice_size', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('guard_state', sa.String(length=8), nullable=False, server_default=''))
    with op.batch_alter_table('workspace_settings') as batch:
        batch.add_column(sa.Column('guard_first_slice', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('guard_slice_percent', sa.Integer(), nullable=False, server_default='5'))
        batch.add_column(sa.Column('guard_slice_max', sa.Integer(), nullable=False, server_default='200'))
        batch.add_column(sa.Column('guard_opt_out_percent', sa.Float(), nullable=False, server_default='2'))
        batch.add_column(sa.Column('guard_failure_percent', sa.Float(), nullable=False, server_default='5'))
        batch.add_column(sa.Column('guard_failure_codes', sa.String(length=200), nullable=False,
                                   server_default='131048, 131049'))


def downgrade():
    with op.batch_alter_table('workspace_settings') as batch:
        for name in ('guard_failure_codes', 'guard_failure_percent', 'guard_opt_out_percent', 'guard_slice_max',
                     'guard_slice_percent', 'guard_first_slice'):
            batch.drop_column(name)
    with op.batch_alter_table('campaigns') as batch:
        for name in ('guard_state', 'slice_size', 'slice_last_id'):
            batch.drop_column(name)
    with op.batch_alter_table('senders') as batch:
        for name in ('quality_changed_at', 'quality_event', 'messaging_limit_tier', 'quality_rating'):
            batch.drop_column(name)
