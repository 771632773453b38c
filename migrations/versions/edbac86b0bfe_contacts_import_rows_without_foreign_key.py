"""contacts: staged import rows without a foreign key

PostgreSQL checks a foreign key row by row: a third of a million-row import's time went there.
The import run deletes its own staged rows, however it ends.

Revision ID: edbac86b0bfe
Revises: 5ac9c16d2a0e
Create Date: 2026-11-23 20:03:18.144903

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'edbac86b0bfe'
down_revision = '5ac9c16d2a0e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_import_rows_import_id_imports'), type_='foreignkey')



def downgrade():
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_import_rows_import_id_imports'), 'imports', ['import_id'], ['id'], ondelete='CASCADE')

