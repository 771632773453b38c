"""imports: merge_started_at, when the first piece of an import's merge into contacts and its list was committed

The merge commits in short pieces (so that no other writer, a campaign's dispatcher included, waits long for
SQLite's lock); from its first piece on, an import is finished, resumed where it stopped if its worker dies,
rather than failed half-way.

Revision ID: c4d8e2f6a1b3
Revises: b7e5c2a9d4f8
Create Date: 2026-12-01 18:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2f6a1b3'
down_revision = 'b7e5c2a9d4f8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merge_started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('merge_started_at')
