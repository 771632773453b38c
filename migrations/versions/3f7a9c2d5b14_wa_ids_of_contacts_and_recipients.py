"""contacts and recipients: the WhatsApp id Meta reports, when it is not the number's digits

Meta answers a send with the recipient's wa_id, which can differ from the number sent to (a Brazilian
mobile's ninth digit); customers' messages and stops come from it. Partial indexes: the column is empty
for nearly every row.

Revision ID: 3f7a9c2d5b14
Revises: b9e5f1a98011
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7a9c2d5b14'
down_revision = 'b9e5f1a98011'
branch_labels = None
depends_on = None

REPORTED = sa.text("wa_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wa_id', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_contacts_wa_id', ['wa_id'], unique=False, postgresql_where=REPORTED,
                              sqlite_where=REPORTED)

    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wa_id', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_recipients_wa_id_id', ['wa_id', 'id'], unique=False, postgresql_where=REPORTED,
                              sqlite_where=REPORTED)


def downgrade():
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_wa_id_id')
        batch_op.drop_column('wa_id')

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_wa_id')
        batch_op.drop_column('wa_id')
