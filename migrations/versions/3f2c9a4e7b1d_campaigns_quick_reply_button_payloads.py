"""campaigns: the payload of each quick-reply button

What a tap on a template's quick-reply button sends back, chosen in compose (a button without one is
sent with its text). Campaigns from before have none, so their buttons carry their text.

Revision ID: 3f2c9a4e7b1d
Revises: edbac86b0bfe
Create Date: 2026-12-01 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f2c9a4e7b1d'
down_revision = 'edbac86b0bfe'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('button_payloads', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('button_payloads')
