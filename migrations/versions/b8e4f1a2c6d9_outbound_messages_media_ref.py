"""outbound_messages.media_ref and attempts: an answer's media given by a Meta media id or an https link (the API's)
instead of a file stored here; how many times its send was tried (a retryable Meta error retries it, bounded)

Revision ID: b8e4f1a2c6d9
Revises: e5a1c7d3b9f2
Create Date: 2026-12-01 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8e4f1a2c6d9'
down_revision = 'e5a1c7d3b9f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_ref', sa.String(length=1024), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('attempts', sa.SmallInteger(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('media_ref')
