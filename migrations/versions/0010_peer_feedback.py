"""peer feedback

Revision ID: 0010
Revises: 0009

Peer feedback on reviews: the colleagues nominated and asked (peer_requests) and their answers
per competency (peer_answers), both frozen with a finalised review by the lock's triggers; and
each cycle's peer settings (on/off, peers per review, answers needed before any is shown, the
last day to answer).

"""
from alembic import op
import sqlalchemy as sa

from reviewapp.reviews import lock


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('peer_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('proposed', 'requested', 'answered', 'declined', 'removed', name='peer_request_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('nominated_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state != 'declined' OR length(decline_reason) > 0", name=op.f('ck_peer_requests_decline_has_reason')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_peer_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['nominated_by_id'], ['users.id'], name=op.f('fk_peer_requests_nominated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['peer_id'], ['users.id'], name=op.f('fk_peer_requests_peer_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_peer_requests_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_requests')),
    sa.UniqueConstraint('review_id', 'peer_id', name='uq_peer_requests_review_peer')
    )
    with op.batch_alter_table('peer_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_requests_peer_id'), ['peer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peer_requests_review_id'), ['review_id'], unique=False)

    op.create_table('peer_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('cycle_competency_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('example', sa.Text(), nullable=False),
    sa.CheckConstraint('rating IS NULL OR length(example) > 0', name=op.f('ck_peer_answers_rating_has_example')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_peer_answers_rating_range')),
    sa.ForeignKeyConstraint(['cycle_competency_id'], ['cycle_competencies.id'], name=op.f('fk_peer_answers_cycle_competency_id_cycle_competencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['peer_requests.id'], name=op.f('fk_peer_answers_request_id_peer_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_peer_answers_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_answers')),
    sa.UniqueConstraint('request_id', 'cycle_competency_id', name='uq_peer_answers_pair')
    )
    with op.batch_alter_table('peer_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_answers_review_id'), ['review_id'], unique=False)

    # Plain ADD COLUMNs, each with its CHECK, not a batch: on SQLite a batch rebuilds `cycles`,
    # and dropping the old table would cascade to every review, rating and KPI score.
    op.add_column('cycles', sa.Column('peer_feedback', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('cycles', sa.Column('peer_min_responses', sa.Integer(), sa.CheckConstraint('peer_min_responses >= 3', name=op.f('ck_cycles_peer_min_range')), nullable=False, server_default='3'))
    op.add_column('cycles', sa.Column('peer_reviewers', sa.Integer(), sa.CheckConstraint('peer_reviewers >= peer_min_responses AND peer_reviewers <= 12', name=op.f('ck_cycles_peer_reviewers_range')), nullable=False, server_default='5'))
    op.add_column('cycles', sa.Column('peer_due', sa.Date(), sa.CheckConstraint('NOT peer_feedback OR peer_due IS NOT NULL', name=op.f('ck_cycles_peer_due_when_on')), nullable=True))

    # The new tables join the lock on finalised reviews (and a batch on SQLite drops triggers).
    lock.install(op.get_bind())


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the batch below rebuilds `cycles`: dropping the old one must not cascade
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cycles_peer_due_when_on'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_cycles_peer_reviewers_range'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_cycles_peer_min_range'), type_='check')
        batch_op.drop_column('peer_due')
        batch_op.drop_column('peer_min_responses')
        batch_op.drop_column('peer_reviewers')
        batch_op.drop_column('peer_feedback')

    with op.batch_alter_table('peer_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_answers_review_id'))

    op.drop_table('peer_answers')
    with op.batch_alter_table('peer_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_requests_review_id'))
        batch_op.drop_index(batch_op.f('ix_peer_requests_peer_id'))

    op.drop_table('peer_requests')
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    lock.install(op.get_bind())
