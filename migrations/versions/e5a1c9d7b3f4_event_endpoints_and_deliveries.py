"""event_endpoints (where admins want signed events POSTed) and event_deliveries (the outbox: one event to one
endpoint, retried until delivered or failed for a day)

Revision ID: e5a1c9d7b3f4
Revises: a8c3f1d7e2b4
Create Date: 2026-12-02 02:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a1c9d7b3f4'
down_revision = 'a8c3f1d7e2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'event_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('event_types', sa.JSON(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.Text(), nullable=False),
        sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_event_endpoints_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_endpoints')),
    )
    op.create_table(
        'event_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('response_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('replay_of_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f('ck_event_deliveries_status')),
        sa.ForeignKeyConstraint(['endpoint_id'], ['event_endpoints.id'],
                                name=op.f('fk_event_deliveries_endpoint_id_event_endpoints'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_deliveries')),
    )
    op.create_index('ix_event_deliveries_endpoint_id_id', 'event_deliveries', ['endpoint_id', 'id'])
    op.create_index('ix_event_deliveries_status_next_attempt_at', 'event_deliveries', ['status', 'next_attempt_at'])


def downgrade():
    op.drop_index('ix_event_deliveries_status_next_attempt_at', table_name='event_deliveries')
    op.drop_index('ix_event_deliveries_endpoint_id_id', table_name='event_deliveries')
    op.drop_table('event_deliveries')
    op.drop_table('event_endpoints')
