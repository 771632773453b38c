"""attribute_fields, contact_values (and import_values, staged), tags, contact_tags, segments: attributes with types and values filters can
compare with an index, free tags on contacts, saved filters (segments)

Revision ID: f2c9a4e7b1d3
Revises: b8e4f1a2c6d9
Create Date: 2026-12-02 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2c9a4e7b1d3'
down_revision = 'b8e4f1a2c6d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_recipients_contact_id_accepted_at', 'recipients', ['contact_id', 'accepted_at'])
    op.create_table(
        'attribute_fields',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('type', sa.String(length=8), nullable=False),
        sa.Column('type_set_by_hand', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("type IN ('text', 'number', 'date', 'yes_no')", name=op.f('ck_attribute_fields_type')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_attribute_fields')),
    )
    op.create_table(
        'contact_values',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('as_text', sa.String(length=255), nullable=False),
        sa.Column('as_number', sa.Double(), nullable=True),
        sa.Column('as_date', sa.Date(), nullable=True),
        sa.Column('as_flag', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_values_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('contact_id', 'key', name=op.f('pk_contact_values')),
    )
    # Each ends with the contact id, so that a segment's count reads the indexes alone; the number and date ones
    # hold only values that read as a number (a date).
    op.create_index('ix_contact_values_text', 'contact_values', ['key', 'as_text', 'contact_id'])
    op.create_index('ix_contact_values_number', 'contact_values', ['key', 'as_number', 'contact_id'],
                    postgresql_where=sa.text('as_number IS NOT NULL'), sqlite_where=sa.text('as_number IS NOT NULL'))
    op.create_index('ix_contact_values_date', 'contact_values', ['key', 'as_date', 'contact_id'],
                    postgresql_where=sa.text('as_date IS NOT NULL'), sqlite_where=sa.text('as_date IS NOT NULL'))
    op.create_table(
        'import_values',
        sa.Column('import_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('as_text', sa.String(length=255), nullable=False),
        sa.Column('as_number', sa.Double(), nullable=True),
        sa.Column('as_date', sa.Date(), nullable=True),
        sa.Column('as_flag', sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint('import_id', 'phone', 'key', name=op.f('pk_import_values')),
    )
    op.create_table(
        'tags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
        sa.UniqueConstraint('key', name=op.f('uq_tags_key')),
    )
    op.create_table(
        'contact_tags',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('tag_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_tags_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_contact_tags_tag_id_tags'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('contact_id', 'tag_id', name=op.f('pk_contact_tags')),
    )
    op.create_index('ix_contact_tags_tag_id', 'contact_tags', ['tag_id', 'contact_id'])
    op.create_table(
        'segments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_segments_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
        sa.UniqueConstraint('name', name=op.f('uq_segments_name')),
    )


def downgrade():
    op.drop_index('ix_recipients_contact_id_accepted_at', table_name='recipients')
    op.drop_table('segments')
    op.drop_index('ix_contact_tags_tag_id', table_name='contact_tags')
    op.drop_table('contact_tags')
    op.drop_table('tags')
    op.drop_index('ix_contact_values_date', table_name='contact_values')
    op.drop_index('ix_contact_values_number', table_name='contact_values')
    op.drop_index('ix_contact_values_text', table_name='contact_values')
    op.drop_table('import_values')
    op.drop_table('contact_values')
    op.drop_table('attribute_fields')
