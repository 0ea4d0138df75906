"""email: outbox, preferences, reminders sent, what a cycle requires

Revision ID: 0011
Revises: 0010

Every email is written to outbox_messages in the transaction of the change that causes it and
delivered after the commit; mail_preferences holds each person's choice per kind;
reminders_sent makes each reminder (and HR's one reminder a day per person) happen once;
cycle_mail_rules names the kinds of email a cycle requires.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('self_assessment_open', 'self_submitted', 'review_returned', 'review_reassigned', 'calibration_open', 'review_shared', 'conversation_requested', 'goal_proposal_waiting', 'goal_returned', 'deadline_reminder', 'digest', name='mail_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('mode', sa.Enum('immediate', 'digest', 'off', name='delivery_mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_mail_preferences'))
    )
    op.create_table('cycle_mail_rules',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('required_kinds', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_cycle_mail_rules_cycle_id_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', name=op.f('pk_cycle_mail_rules'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('self_assessment_open', 'self_submitted', 'review_returned', 'review_reassigned', 'calibration_open', 'review_shared', 'conversation_requested', 'goal_proposal_waiting', 'goal_returned', 'deadline_reminder', 'digest', name='mail_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('unsubscribe_url', sa.String(length=500), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('held', 'pending', 'sending', 'sent', 'logged', 'failed', 'digested', name='outbox_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status != 'digested' OR digest_id IS NOT NULL", name=op.f('ck_outbox_messages_digested_has_digest')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_messages_attempts_not_negative')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_outbox_messages_cycle_id_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['digest_id'], ['outbox_messages.id'], name=op.f('fk_outbox_messages_digest_id_outbox_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_messages_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_user_id'), ['user_id'], unique=False)

    op.create_table('reminders_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("stage IN ('week', 'day', 'overdue', 'hr')", name=op.f('ck_reminders_sent_stage_known')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_reminders_sent_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_reminders_sent_message_id_outbox_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_reminders_sent_sent_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminders_sent_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
    sa.UniqueConstraint('user_id', 'key', 'stage', name='uq_reminders_sent_once')
    )


def downgrade():
    op.drop_table('reminders_sent')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_user_id'))
        batch_op.drop_index('ix_outbox_messages_due')

    op.drop_table('outbox_messages')
    op.drop_table('cycle_mail_rules')
    op.drop_table('mail_preferences')
