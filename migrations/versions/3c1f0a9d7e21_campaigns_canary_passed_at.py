"""campaigns: canary_passed_at, when a first message was accepted since the campaign (re)started sending

Until then the dispatcher sends one request at a time, so a dead token or a broken template costs one
request, not a burst. Empty for every existing campaign: a campaign still sending is canaried once more.

Revision ID: 3c1f0a9d7e21
Revises: 3f7a9c2d5b14
Create Date: 2026-12-01 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0a9d7e21'
down_revision = '3f7a9c2d5b14'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('canary_passed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('canary_passed_at')
