"""contacts: marketing_hold_until, the end of the 24 hours for which Meta's per-user marketing limit (131049)
holds a contact: marketing campaigns defer their row for that contact until then

Revision ID: 8d2e4b6f1a03
Revises: 3c1f0a9d7e21
Create Date: 2026-12-01 17:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d2e4b6f1a03'
down_revision = '3c1f0a9d7e21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marketing_hold_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('marketing_hold_until')
