"""sending windows and the frequency cap: campaigns.window_opens/window_closes, recipients.zone,
workspace_settings.cap_messages/cap_days (the cap's count reads recipients by contact and time, indexed in f2c9a4e7b1d3)

Every existing campaign has no window and every workspace no cap: nothing changes for them.

Revision ID: f4b2d8a6c1e9
Revises: f2c9a4e7b1d3
Create Date: 2026-12-02 00:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4b2d8a6c1e9'
down_revision = 'f2c9a4e7b1d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_opens', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('window_closes', sa.SmallInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_campaigns_sending_window'), "(window_opens IS NULL AND window_closes IS NULL) OR (window_opens BETWEEN 0 AND 1439 "
                              "AND window_closes BETWEEN 0 AND 1439 AND window_opens <> window_closes)")
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('workspace_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cap_messages', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cap_days', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('workspace_settings', schema=None) as batch_op:
        batch_op.drop_column('cap_days')
        batch_op.drop_column('cap_messages')
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_column('zone')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_campaigns_sending_window'), type_='check')
        batch_op.drop_column('window_closes')
        batch_op.drop_column('window_opens')
