"""contacts: staged import rows, rows_read_at

Revision ID: 5ac9c16d2a0e
Revises: 312873bcaee6
Create Date: 2026-11-23 18:44:42.972019

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5ac9c16d2a0e'
down_revision = '312873bcaee6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_rows',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_rows_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'phone', name=op.f('pk_import_rows'))
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_read_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('rows_read_at')

    op.drop_table('import_rows')
