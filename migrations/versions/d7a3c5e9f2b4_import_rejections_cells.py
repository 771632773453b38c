"""import_rejections: cells, the rejected row as the file had it

So that the rejected-rows file carries every column of the uploaded file (same headers, same order) with line and
reason, to be fixed and imported again. At most the import's column cap (500) of cells; rows rejected before
this revision have none, and their file shows the rejected value in the phone column.

Revision ID: d7a3c5e9f2b4
Revises: c4d8e2f6a1b3
Create Date: 2026-12-01 20:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a3c5e9f2b4'
down_revision = 'c4d8e2f6a1b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_rejections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cells', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_rejections', schema=None) as batch_op:
        batch_op.drop_column('cells')
