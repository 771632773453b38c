"""secrets encrypted at rest: sender access tokens, the webhook's app secret and verify token

Encrypted with a key derived from the SECRET_KEY of the app that runs the upgrade (webapp/encryption.py),
so run it with the SECRET_KEY the app runs with. The downgrade decrypts them back to plain text.

Revision ID: b9e5f1a98011
Revises: 3f2c9a4e7b1d
Create Date: 2026-12-01 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from webapp.encryption import seal, unseal


# revision identifiers, used by Alembic.
revision = 'b9e5f1a98011'
down_revision = '3f2c9a4e7b1d'
branch_labels = None
depends_on = None

SECRETS = {'senders': ['access_token'], 'workspace_settings': ['meta_app_secret', 'meta_verify_token']}


def _convert(change):
    """Apply seal or unseal to every stored secret, read and written as plain text (an empty one stays empty)."""
    connection = op.get_bind()
    key = current_app.config['SECRET_KEY']
    for name, columns in SECRETS.items():
        raw = sa.table(name, sa.column('id', sa.Integer), *(sa.column(column, sa.Text) for column in columns))
        for row in connection.execute(sa.select(raw)).mappings().all():
            values = {column: change(row[column], key) for column in columns if row[column]}
            if values:
                connection.execute(raw.update().where(raw.c.id == row['id']).values(values))


def upgrade():
    # A Fernet token is about 1.4 times its secret plus 100 characters: more than 256.
    with op.batch_alter_table('workspace_settings', schema=None) as batch_op:
        for column in SECRETS['workspace_settings']:
            batch_op.alter_column(column, existing_type=sa.String(length=256), type_=sa.Text(),
                                  existing_nullable=False)
    _convert(seal)


def downgrade():
    _convert(unseal)
    with op.batch_alter_table('workspace_settings', schema=None) as batch_op:
        for column in SECRETS['workspace_settings']:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=256),
                                  existing_nullable=False)
