"""contact_events (a contact's opt-out history), import_rows.tags (the tags of a staged row, applied at merge),
and the indexes of the Contacts page's sorts

Revision ID: c7d1e5a9f3b2
Revises: f4b2d8a6c1e9
Create Date: 2026-12-02 00:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d1e5a9f3b2'
down_revision = 'f4b2d8a6c1e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_contacts_lower_name_id', 'contacts', [sa.text('lower(name)'), 'id'])
    op.create_index('ix_contacts_created_at_id', 'contacts', ['created_at', 'id'])
    op.create_index('ix_contacts_updated_at_id', 'contacts', ['updated_at', 'id'])
    op.create_table(
        'contact_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('opted_out', 'opted_in')", name=op.f('ck_contact_events_kind')),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_events_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_events')),
    )
    op.create_index('ix_contact_events_contact_id_at', 'contact_events', ['contact_id', 'at'])
    with op.batch_alter_table('import_rows') as batch:
        batch.add_column(sa.Column('tags', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.drop_index('ix_contacts_updated_at_id', table_name='contacts')
    op.drop_index('ix_contacts_created_at_id', table_name='contacts')
    op.drop_index('ix_contacts_lower_name_id', table_name='contacts')
    with op.batch_alter_table('import_rows') as batch:
        batch.drop_column('tags')
    op.drop_index('ix_contact_events_contact_id_at', table_name='contact_events')
    op.drop_table('contact_events')
