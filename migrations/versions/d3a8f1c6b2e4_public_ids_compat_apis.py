"""public_id (a stable UUID) on campaigns, contacts, contact lists, senders, templates and segments, for the
compat APIs and our own API's `uuid`; workspace_settings.compat_apis (which compat APIs answer)

Revision ID: d3a8f1c6b2e4
Revises: a9e4c2f7d318
Create Date: 2026-12-02 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from webapp.public_ids import SQLITE_RANDOM_UUID


# revision identifiers, used by Alembic.
revision = 'd3a8f1c6b2e4'
down_revision = 'a9e4c2f7d318'
branch_labels = None
depends_on = None

TABLES = ('campaigns', 'contacts', 'contact_lists', 'senders', 'templates', 'segments')


def _random_uuid():
    """Each existing row gets its own UUID (webapp/public_ids.py gives new rows theirs)."""
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text('gen_random_uuid()')
    return sa.text(f'({SQLITE_RANDOM_UUID})')


def upgrade():
    for table in TABLES:
        # recreate on SQLite, whose ALTER TABLE cannot add a column with a per-row default
        with op.batch_alter_table(table, recreate='auto' if op.get_bind().dialect.name == 'postgresql'
                                  else 'always') as batch:
            batch.add_column(sa.Column('public_id', sa.Uuid(), nullable=False, server_default=_random_uuid()))
            batch.create_unique_constraint(op.f(f'uq_{table}_public_id'), ['public_id'])
    _expression_index_again()
    with op.batch_alter_table('workspace_settings') as batch:
        batch.add_column(sa.Column('compat_apis', sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('workspace_settings') as batch:
        batch.drop_column('compat_apis')
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f'uq_{table}_public_id'), type_='unique')
            batch.drop_column('public_id')
    _expression_index_again()


def _expression_index_again():
    """SQLite's table copy cannot reflect an index on an expression, so the Contacts page's sort by name is made
    again."""
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_contacts_lower_name_id', 'contacts', [sa.text('lower(name)'), 'id'])
