"""contact_values: PostgreSQL's extended statistics on (key, as_text), so that the planner knows a text belongs to its
attribute ("lyon" is a city) and sizes a segment's conditions as they are, not a third of it

Revision ID: c5e1a7d3f9b8
Revises: b2d6f8a4c0e7
Create Date: 2026-12-02 14:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5e1a7d3f9b8'
down_revision = 'b2d6f8a4c0e7'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite's planner keeps no such statistics (its counts read the same indexes)
    # Without them, PostgreSQL multiplies P(key = 'city') by P(as_text = 'lyon') over all keys' values: a third of
    # the rows a city matches, so it planned a count's joins for 42,000 rows where there were 125,000
    # (bench/segments.py, docs/benchmarks.md "Segment counts and the planner's statistics").
    op.execute('CREATE STATISTICS st_contact_values_key_text (dependencies, mcv) ON key, as_text FROM contact_values')
    op.execute('ANALYZE contact_values')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP STATISTICS IF EXISTS st_contact_values_key_text')
