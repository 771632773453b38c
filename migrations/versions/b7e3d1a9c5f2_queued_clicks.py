"""queued_clicks: a person's click on a tracked link, written by the redirect before its 302 and counted by a job
in batches (webapp/tracking/clicks.py)

Revision ID: b7e3d1a9c5f2
Revises: d4a8e2c6b1f9
Create Date: 2026-12-02 06:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3d1a9c5f2'
down_revision = 'd4a8e2c6b1f9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'queued_clicks',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.BigInteger(), nullable=False),
        sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_queued_clicks')),
    )


def downgrade():
    op.drop_table('queued_clicks')
