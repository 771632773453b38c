"""tracked_links (a campaign's links whose clicks are counted), link_clicks (who clicked which, how often) and
recipients.clicked_at/clicks (nullable: nothing to write for existing rows)

Revision ID: a8c3f1d7e2b4
Revises: d3a8f1c6b2e4
Create Date: 2026-12-02 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8c3f1d7e2b4'
down_revision = 'd3a8f1c6b2e4'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'tracked_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('slot', sa.String(length=80), nullable=False),
        sa.Column('path', sa.JSON(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_tracked_links_campaign_id_campaigns'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_links')),
        sa.UniqueConstraint('campaign_id', 'slot', name='campaign_slot'),
    )
    op.create_table(
        'link_clicks',
        sa.Column('recipient_id', BigId, nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('first_clicked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_clicked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('clicks', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['link_id'], ['tracked_links.id'], name=op.f('fk_link_clicks_link_id_tracked_links'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_link_clicks_recipient_id_recipients'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('recipient_id', 'link_id', name=op.f('pk_link_clicks')),
    )
    op.create_index('ix_link_clicks_link_id', 'link_clicks', ['link_id'])
    op.add_column('recipients', sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('recipients', sa.Column('clicks', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('recipients') as batch:
        batch.drop_column('clicks')
        batch.drop_column('clicked_at')
    op.drop_table('link_clicks')
    op.drop_table('tracked_links')
