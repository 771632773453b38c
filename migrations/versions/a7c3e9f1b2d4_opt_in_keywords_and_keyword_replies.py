"""workspace_settings: opt_in_keywords, the words with which a customer who opted out opts back in, and the
replies to an opt-out or opt-in keyword; outbound_messages: automatic, such a reply's mark

Existing workspaces get the default opt-in keywords (START, UNSTOP, SUBSCRIBE, …), as a new one does, and no
replies (they send nothing until an admin writes one).

Revision ID: a7c3e9f1b2d4
Revises: e2a6c8f4b0d1
Create Date: 2026-12-03 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9f1b2d4'
down_revision = 'e2a6c8f4b0d1'
branch_labels = None
depends_on = None

DEFAULTS = "START, UNSTOP, SUBSCRIBE, RESUME, OPT IN, OPTIN, ALTA, SUSCRIBIRME, VOLTAR"


def upgrade():
    with op.batch_alter_table('workspace_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opt_in_keywords', sa.Text(), nullable=False, server_default=DEFAULTS))
        batch_op.add_column(sa.Column('opt_out_reply', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('opt_in_reply', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('automatic', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('automatic')
    with op.batch_alter_table('workspace_settings', schema=None) as batch_op:
        batch_op.drop_column('opt_in_reply')
        batch_op.drop_column('opt_out_reply')
        batch_op.drop_column('opt_in_keywords')
