"""inbox: conversations, staff answers (outbound_messages), customers' files, quick answers

One conversation per contact, with what the Inbox list needs kept on it (last times, unread count, needs-answer
flag, status, assignee) and an index per filter; answers move like recipient rows (claimed before their request);
inbound_media keeps each customer file's download. Existing inbound messages get their conversations, read.

Revision ID: e5a1c7d3b9f2
Revises: d7a3c5e9f2b4
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'e5a1c7d3b9f2'
down_revision = 'd7a3c5e9f2b4'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        'conversations',
        sa.Column('id', BigId, nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=True),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_customer_message_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_text', sa.String(length=200), nullable=False),
        sa.Column('unread', sa.Integer(), nullable=False),
        sa.Column('needs_answer', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('assigned_to_id', sa.Integer(), nullable=True),
        sa.Column('from_inbox', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f('ck_conversations_status')),
        sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_conversations_assigned_to_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_conversations_campaign_id_campaigns'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_conversations_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sender_id'], ['senders.id'], name=op.f('fk_conversations_sender_id_senders'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
        sa.UniqueConstraint('contact_id', name=op.f('uq_conversations_contact_id')),
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_recent', ['last_message_at', 'id'], unique=False)
        batch_op.create_index('ix_conversations_assigned_recent', ['assigned_to_id', 'last_message_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_conversations_campaign_recent', ['campaign_id', 'last_message_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_conversations_unread_recent', ['last_message_at', 'id'], unique=False,
                              postgresql_where=sa.text('unread > 0'), sqlite_where=sa.text('unread > 0'))
        batch_op.create_index('ix_conversations_needs_answer_recent', ['last_message_at', 'id'], unique=False,
                              postgresql_where=sa.text('needs_answer'), sqlite_where=sa.text('needs_answer'))

    op.create_table(
        'outbound_messages',
        sa.Column('id', BigId, nullable=False),
        sa.Column('conversation_id', BigId, nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('media_file', sa.String(length=64), nullable=False),
        sa.Column('media_name', sa.String(length=255), nullable=False),
        sa.Column('media_mime', sa.String(length=100), nullable=False),
        sa.Column('template_name', sa.String(length=512), nullable=False),
        sa.Column('template_language', sa.String(length=15), nullable=False),
        sa.Column('params', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('reached', sa.SmallInteger(), nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('wamid', sa.String(length=128), nullable=True),
        sa.Column('error_code', sa.Integer(), nullable=True),
        sa.Column('error_title', sa.Text(), nullable=False),
        sa.Column('error_detail', sa.Text(), nullable=False),
        sa.Column('sent_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sending_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sending', 'unknown', 'accepted', 'sent', 'delivered', 'read', "
                           "'failed')", name=op.f('ck_outbound_messages_status')),
        sa.CheckConstraint("kind IN ('text', 'image', 'video', 'audio', 'document', 'template')",
                           name=op.f('ck_outbound_messages_kind')),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_outbound_messages_conversation_id_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sender_id'], ['senders.id'], name=op.f('fk_outbound_messages_sender_id_senders'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_outbound_messages_sent_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages')),
        sa.UniqueConstraint('wamid', name=op.f('uq_outbound_messages_wamid')),
    )
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_messages_conversation_created', ['conversation_id', 'created_at', 'id'],
                              unique=False)

    op.create_table(
        'inbound_media',
        sa.Column('inbound_message_id', BigId, nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=True),
        sa.Column('media_id', sa.String(length=128), nullable=False),
        sa.Column('mime_type', sa.String(length=100), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('stored_file', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'stored', 'failed')", name=op.f('ck_inbound_media_status')),
        sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_messages.id'],
                                name=op.f('fk_inbound_media_inbound_message_id_inbound_messages'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sender_id'], ['senders.id'], name=op.f('fk_inbound_media_sender_id_senders'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('inbound_message_id', name=op.f('pk_inbound_media')),
    )

    op.create_table(
        'quick_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=80), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quick_answers')),
        sa.UniqueConstraint('title', name=op.f('uq_quick_answers_title')),
    )

    # The Replies page's messages become conversations (already read: they were on the Replies page).
    op.execute(
        "INSERT INTO conversations (contact_id, campaign_id, last_message_at, last_customer_message_at, last_text, "
        "unread, needs_answer, status, from_inbox, created_at) "
        "SELECT contact_id, MAX(campaign_id), MAX(sent_at), MAX(sent_at), '', 0, FALSE, 'open', FALSE, MIN(sent_at) "
        "FROM inbound_messages WHERE contact_id IS NOT NULL GROUP BY contact_id")


def downgrade():
    op.drop_table('quick_answers')
    op.drop_table('inbound_media')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_conversation_created')
    op.drop_table('outbound_messages')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_needs_answer_recent', postgresql_where=sa.text('needs_answer'),
                            sqlite_where=sa.text('needs_answer'))
        batch_op.drop_index('ix_conversations_unread_recent', postgresql_where=sa.text('unread > 0'),
                            sqlite_where=sa.text('unread > 0'))
        batch_op.drop_index('ix_conversations_campaign_recent')
        batch_op.drop_index('ix_conversations_assigned_recent')
        batch_op.drop_index('ix_conversations_recent')
    op.drop_table('conversations')
