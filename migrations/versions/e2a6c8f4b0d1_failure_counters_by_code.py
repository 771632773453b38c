"""campaign_counters: the failed rows of campaigns sent before this release counted by error code (`code:<n>`,
`code:none`), as rows now move them (campaigns/lifecycle.py), so that their log lists its codes from the counters

Revision ID: e2a6c8f4b0d1
Revises: c5e1a7d3f9b8
Create Date: 2026-12-02 15:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a6c8f4b0d1'
down_revision = 'c5e1a7d3f9b8'
branch_labels = None
depends_on = None

COUNTER = "'code:' || COALESCE(CAST(error_code AS VARCHAR), 'none')"


def upgrade():
    # One statement, whatever the number of rows; shard 0 (a counter's shards are summed). No campaign has such a
    # counter yet: only this release's code writes them.
    op.execute(f"INSERT INTO campaign_counters (campaign_id, name, shard, value) "
               f"SELECT campaign_id, {COUNTER}, 0, count(*) FROM recipients WHERE status = 'failed' "
               f"GROUP BY campaign_id, error_code")


def downgrade():
    op.execute("DELETE FROM campaign_counters WHERE name LIKE 'code:%'")
