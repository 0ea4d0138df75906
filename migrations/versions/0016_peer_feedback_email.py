"""peer feedback email: a colleague asked for feedback gets an email, a kind of its own

Revision ID: 0016
Revises: 0015

Peers were told in the app only; their first email was the digest a week before the
deadline. The new kind is one more value of mail_kind, whose CHECK constraint lives on the
outbox and on the preferences.

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BEFORE = ['self_assessment_open', 'self_submitted', 'review_returned', 'review_reassigned',
          'calibration_open', 'review_shared', 'conversation_requested',
          'goal_proposal_waiting', 'goal_returned', 'deadline_reminder', 'digest']
AFTER = BEFORE[:9] + ['peer_feedback_requested'] + BEFORE[9:]
TABLES = ('outbox_messages', 'mail_preferences')


def _kinds(values):
    for table in TABLES:
        name = f'ck_{table}_mail_kind'
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(name), type_='check')
            batch_op.create_check_constraint(
                op.f(name), "kind IN (" + ", ".join(f"'{v}'" for v in values) + ")")


def upgrade():
    _kinds(AFTER)


def downgrade():
    op.execute("DELETE FROM outbox_messages WHERE kind = 'peer_feedback_requested'")
    op.execute("DELETE FROM mail_preferences WHERE kind = 'peer_feedback_requested'")
    _kinds(BEFORE)
