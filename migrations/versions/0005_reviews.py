"""review cycles: competencies, cycles with frozen KPIs and competencies, reviews

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('competencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('anchors', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competencies')),
    sa.UniqueConstraint('name', name=op.f('uq_competencies_name'))
    )

    op.create_table('cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('period_label', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('self_due', sa.Date(), nullable=False),
    sa.Column('manager_due', sa.Date(), nullable=False),
    sa.Column('calibration_due', sa.Date(), nullable=False),
    sa.Column('acknowledgement_due', sa.Date(), nullable=False),
    sa.Column('quant_weight', sa.Float(), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'launched', 'closed', name='cycle_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('launched_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_cycles_period_order')),
    sa.CheckConstraint('quant_weight >= 0 AND quant_weight <= 1', name=op.f('ck_cycles_weight_range')),
    sa.ForeignKeyConstraint(['launched_by_id'], ['users.id'], name=op.f('fk_cycles_launched_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycles')),
    sa.UniqueConstraint('name', name=op.f('uq_cycles_name'))
    )

    op.create_table('cycle_competencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('frozen_name', sa.String(length=80), nullable=True),
    sa.Column('frozen_description', sa.Text(), nullable=True),
    sa.Column('frozen_anchors', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_cycle_competencies_competency_id_competencies')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_cycle_competencies_cycle_id_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_competencies')),
    sa.UniqueConstraint('cycle_id', 'competency_id', name='uq_cycle_competencies_pair')
    )

    op.create_table('cycle_people',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_cycle_people_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cycle_people_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', 'user_id', name=op.f('pk_cycle_people'))
    )

    op.create_table('cycle_teams',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_cycle_teams_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_cycle_teams_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', 'team_id', name=op.f('pk_cycle_teams'))
    )

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('not_started', 'self_review', 'manager_review', 'calibration', 'shared', 'acknowledged', 'finalized', name='review_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('achievements', sa.Text(), nullable=False),
    sa.Column('goals_reflection', sa.Text(), nullable=False),
    sa.Column('development_wishes', sa.Text(), nullable=False),
    sa.Column('self_submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('self_skipped', sa.Boolean(), nullable=False),
    sa.Column('strengths', sa.Text(), nullable=False),
    sa.Column('development_areas', sa.Text(), nullable=False),
    sa.Column('overall_comment', sa.Text(), nullable=False),
    sa.Column('reconciliation_note', sa.Text(), nullable=False),
    sa.Column('manager_submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('quant_score', sa.Float(), nullable=True),
    sa.Column('qual_score', sa.Float(), nullable=True),
    sa.Column('overall_score', sa.Float(), nullable=True),
    sa.Column('effective_quant_weight', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state NOT IN ('calibration', 'shared', 'acknowledged', 'finalized') OR manager_submitted_at IS NOT NULL", name=op.f('ck_reviews_manager_done_before_calibration')),
    sa.CheckConstraint("state NOT IN ('manager_review', 'calibration', 'shared', 'acknowledged', 'finalized') OR self_submitted_at IS NOT NULL OR self_skipped", name=op.f('ck_reviews_self_done_before_manager')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_reviews_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_reviews_manager_id_users')),
    sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_reviews_rep_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_reviews_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('cycle_id', 'rep_id', name='uq_reviews_cycle_rep')
    )

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_manager_id'), ['manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_rep_id'), ['rep_id'], unique=False)

    op.create_table('competency_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('cycle_competency_id', sa.Integer(), nullable=False),
    sa.Column('self_rating', sa.Integer(), nullable=True),
    sa.Column('self_note', sa.Text(), nullable=False),
    sa.Column('manager_rating', sa.Integer(), nullable=True),
    sa.Column('manager_note', sa.Text(), nullable=False),
    sa.CheckConstraint('manager_rating IS NULL OR manager_rating BETWEEN 1 AND 5', name=op.f('ck_competency_ratings_manager_range')),
    sa.CheckConstraint('self_rating IS NULL OR self_rating BETWEEN 1 AND 5', name=op.f('ck_competency_ratings_self_range')),
    sa.ForeignKeyConstraint(['cycle_competency_id'], ['cycle_competencies.id'], name=op.f('fk_competency_ratings_cycle_competency_id_cycle_competencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_competency_ratings_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competency_ratings')),
    sa.UniqueConstraint('review_id', 'cycle_competency_id', name='uq_competency_ratings_pair')
    )

    op.create_table('cycle_kpis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('frozen_name', sa.String(length=120), nullable=True),
    sa.Column('frozen_unit', sa.String(length=32), nullable=True),
    sa.Column('frozen_direction', sa.String(length=8), nullable=True),
    sa.Column('frozen_rollup', sa.String(length=8), nullable=True),
    sa.Column('evidence_run_id', sa.Integer(), nullable=True),
    sa.Column('evidence_candidate_id', sa.Integer(), nullable=True),
    sa.Column('evidence_sentence', sa.Text(), nullable=True),
    sa.Column('evidence_q', sa.Float(), nullable=True),
    sa.CheckConstraint('target > 0', name=op.f('ck_cycle_kpis_target_positive')),
    sa.CheckConstraint('weight > 0', name=op.f('ck_cycle_kpis_weight_positive')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_cycle_kpis_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_candidate_id'], ['validation_candidates.id'], name=op.f('fk_cycle_kpis_evidence_candidate_id_validation_candidates')),
    sa.ForeignKeyConstraint(['evidence_run_id'], ['validation_runs.id'], name=op.f('fk_cycle_kpis_evidence_run_id_validation_runs')),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_cycle_kpis_metric_id_metrics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_kpis')),
    sa.UniqueConstraint('cycle_id', 'metric_id', name='uq_cycle_kpis_cycle_metric')
    )

    op.create_table('cycle_kpi_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_kpi_id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.CheckConstraint('target > 0', name=op.f('ck_cycle_kpi_targets_target_positive')),
    sa.ForeignKeyConstraint(['cycle_kpi_id'], ['cycle_kpis.id'], name=op.f('fk_cycle_kpi_targets_cycle_kpi_id_cycle_kpis'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_cycle_kpi_targets_rep_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_kpi_targets')),
    sa.UniqueConstraint('cycle_kpi_id', 'rep_id', name='uq_cycle_kpi_targets_kpi_rep')
    )

    op.create_table('kpi_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('cycle_kpi_id', sa.Integer(), nullable=False),
    sa.Column('actual', sa.Float(), nullable=True),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('attainment', sa.Float(), nullable=True),
    sa.Column('computed_score', sa.Integer(), nullable=True),
    sa.Column('override_score', sa.Integer(), nullable=True),
    sa.Column('override_justification', sa.Text(), nullable=False),
    sa.Column('overridden_by_id', sa.Integer(), nullable=True),
    sa.Column('overridden_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('override_score IS NULL OR length(override_justification) > 0', name=op.f('ck_kpi_scores_override_needs_justification')),
    sa.CheckConstraint('override_score IS NULL OR override_score BETWEEN 1 AND 5', name=op.f('ck_kpi_scores_override_range')),
    sa.ForeignKeyConstraint(['cycle_kpi_id'], ['cycle_kpis.id'], name=op.f('fk_kpi_scores_cycle_kpi_id_cycle_kpis'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['overridden_by_id'], ['users.id'], name=op.f('fk_kpi_scores_overridden_by_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_kpi_scores_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_scores')),
    sa.UniqueConstraint('review_id', 'cycle_kpi_id', name='uq_kpi_scores_pair')
    )


def downgrade():
    op.drop_table('kpi_scores')

    op.drop_table('cycle_kpi_targets')

    op.drop_table('cycle_kpis')

    op.drop_table('competency_ratings')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_rep_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_manager_id'))

    op.drop_table('reviews')

    op.drop_table('cycle_teams')

    op.drop_table('cycle_people')

    op.drop_table('cycle_competencies')

    op.drop_table('cycles')

    op.drop_table('competencies')
