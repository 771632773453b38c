"""The rate card (rate_cards, rate_prices), the month's spend, each message's cost, a campaign's cost estimate and the
workspace's monthly budget

Revision ID: a3c9e1f7b5d2
Revises: c7d1e5a9f3b2
Create Date: 2026-12-02 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c9e1f7b5d2'
down_revision = 'c7d1e5a9f3b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_cards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('effective_date', sa.Date(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_cards')),
    )
    op.create_table(
        'rate_prices',
        sa.Column('market', sa.String(length=64), nullable=False),
        sa.Column('marketing', sa.BigInteger(), nullable=True),
        sa.Column('utility', sa.BigInteger(), nullable=True),
        sa.Column('authentication', sa.BigInteger(), nullable=True),
        sa.Column('service', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('market', name=op.f('pk_rate_prices')),
    )
    op.create_table(
        'monthly_spend',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('shard', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('micros', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'shard', name=op.f('pk_monthly_spend')),
    )
    with op.batch_alter_table('recipients') as batch:
        batch.add_column(sa.Column('cost', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('cost_estimate', sa.JSON(), nullable=True))
    with op.batch_alter_table('workspace_settings') as batch:
        batch.add_column(sa.Column('monthly_budget', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('workspace_settings') as batch:
        batch.drop_column('monthly_budget')
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('cost_estimate')
    with op.batch_alter_table('recipients') as batch:
        batch.drop_column('cost')
    op.drop_table('monthly_spend')
    op.drop_table('rate_prices')
    op.drop_table('rate_cards')
