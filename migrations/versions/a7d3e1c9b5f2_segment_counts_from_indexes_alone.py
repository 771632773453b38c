"""contact_values and contact_tags: indexes that carry the contact id, so a segment's count reads them alone (index-
only scans, merged by contact id) instead of visiting each matching row

Revision ID: a7d3e1c9b5f2
Revises: f2c9a4e7b1d3
Create Date: 2026-12-02 00:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7d3e1c9b5f2'
down_revision = 'f2c9a4e7b1d3'
branch_labels = None
depends_on = None

VALUES = {'ix_contact_values_text': 'as_text', 'ix_contact_values_number': 'as_number',
          'ix_contact_values_date': 'as_date'}


def upgrade():
    for name, column in VALUES.items():
        op.drop_index(name, table_name='contact_values')
        op.create_index(name, 'contact_values', ['key', column, 'contact_id'])
    op.drop_index('ix_contact_tags_tag_id', table_name='contact_tags')
    op.create_index('ix_contact_tags_tag_id', 'contact_tags', ['tag_id', 'contact_id'])


def downgrade():
    op.drop_index('ix_contact_tags_tag_id', table_name='contact_tags')
    op.create_index('ix_contact_tags_tag_id', 'contact_tags', ['tag_id'])
    for name, column in VALUES.items():
        op.drop_index(name, table_name='contact_values')
        op.create_index(name, 'contact_values', ['key', column])
