"""KPI validation: runs, per-candidate evidence, behaviour notes, org settings

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('org_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_org_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_org_settings'))
    )

    op.create_table('validation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.Enum('organisation', 'team', 'manager', name='run_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('scope_manager_id', sa.Integer(), nullable=True),
    sa.Column('scope_label', sa.String(length=200), nullable=False),
    sa.Column('counts_for_status', sa.Boolean(), nullable=False),
    sa.Column('outcome_metric_id', sa.Integer(), nullable=False),
    sa.Column('outcome_key', sa.String(length=64), nullable=False),
    sa.Column('primary_outcome_key', sa.String(length=64), nullable=False),
    sa.Column('candidate_keys', sa.JSON(), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('lag', sa.SmallInteger(), nullable=False),
    sa.Column('window_periods', sa.SmallInteger(), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=True),
    sa.Column('window_end', sa.Date(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('n_reps', sa.Integer(), nullable=False),
    sa.Column('n_obs', sa.Integer(), nullable=False),
    sa.Column('n_periods', sa.Integer(), nullable=False),
    sa.Column('df_resid', sa.Integer(), nullable=True),
    sa.Column('oos_r2_full', sa.Float(), nullable=True),
    sa.Column('oos_n_obs', sa.Integer(), nullable=False),
    sa.Column('holdout_periods', sa.JSON(), nullable=False),
    sa.Column('insufficient_reason', sa.Text(), nullable=True),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('status_changes', sa.JSON(), nullable=False),
    sa.Column('teachable_moments', sa.JSON(), nullable=False),
    sa.Column('coaching', sa.JSON(), nullable=False),
    sa.Column('deviance_predictors', sa.JSON(), nullable=False),
    sa.Column('deviance_note', sa.Text(), nullable=False),
    sa.CheckConstraint("NOT counts_for_status OR scope = 'organisation'", name=op.f('ck_validation_runs_only_org_runs_count')),
    sa.CheckConstraint("grain IN ('month', 'quarter')", name=op.f('ck_validation_runs_grain')),
    sa.CheckConstraint('lag IN (0, 1)', name=op.f('ck_validation_runs_lag')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_validation_runs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outcome_metric_id'], ['metrics.id'], name=op.f('fk_validation_runs_outcome_metric_id_metrics')),
    sa.ForeignKeyConstraint(['scope_manager_id'], ['users.id'], name=op.f('fk_validation_runs_scope_manager_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_validation_runs_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_runs'))
    )

    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_validation_runs_counts_for_status'), ['counts_for_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_validation_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_validation_runs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_validation_runs_outcome_metric_id'), ['outcome_metric_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_validation_runs_scope_manager_id'), ['scope_manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_validation_runs_team_id'), ['team_id'], unique=False)

    op.create_table('kpi_behaviour_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('proposed_key', sa.String(length=64), nullable=True),
    sa.Column('proposed_name', sa.String(length=120), nullable=True),
    sa.Column('proposed_description', sa.Text(), nullable=True),
    sa.Column('proposal_status', sa.Enum('pending', 'accepted', 'declined', name='proposal_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_metric_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(proposed_key IS NULL AND proposal_status IS NULL) OR (proposed_key IS NOT NULL AND proposal_status IS NOT NULL)', name=op.f('ck_kpi_behaviour_notes_proposal_complete')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_kpi_behaviour_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_metric_id'], ['metrics.id'], name=op.f('fk_kpi_behaviour_notes_created_metric_id_metrics'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_kpi_behaviour_notes_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_kpi_behaviour_notes_rep_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['validation_runs.id'], name=op.f('fk_kpi_behaviour_notes_run_id_validation_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_behaviour_notes'))
    )

    with op.batch_alter_table('kpi_behaviour_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_behaviour_notes_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_behaviour_notes_rep_id'), ['rep_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_behaviour_notes_run_id'), ['run_id'], unique=False)

    op.create_table('validation_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('metric_key', sa.String(length=64), nullable=False),
    sa.Column('metric_name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('n_reps', sa.Integer(), nullable=False),
    sa.Column('n_obs', sa.Integer(), nullable=False),
    sa.Column('coef', sa.Float(), nullable=True),
    sa.Column('se_classical', sa.Float(), nullable=True),
    sa.Column('se_cluster', sa.Float(), nullable=True),
    sa.Column('t', sa.Float(), nullable=True),
    sa.Column('p', sa.Float(), nullable=True),
    sa.Column('q', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('std_effect', sa.Float(), nullable=True),
    sa.Column('partial_r2', sa.Float(), nullable=True),
    sa.Column('pooled_corr', sa.Float(), nullable=True),
    sa.Column('within_corr', sa.Float(), nullable=True),
    sa.Column('within_sd', sa.Float(), nullable=True),
    sa.Column('oos_gain', sa.Float(), nullable=True),
    sa.Column('trap', sa.Boolean(), nullable=False),
    sa.Column('trap_note', sa.Text(), nullable=True),
    sa.Column('status_before', sa.String(length=32), nullable=True),
    sa.Column('status_after', sa.String(length=32), nullable=True),
    sa.Column('chart', sa.JSON(), nullable=True),
    sa.CheckConstraint("decision IN ('kpi', 'not_predictive', 'insufficient_data')", name=op.f('ck_validation_candidates_decision')),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_validation_candidates_metric_id_metrics')),
    sa.ForeignKeyConstraint(['run_id'], ['validation_runs.id'], name=op.f('fk_validation_candidates_run_id_validation_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_candidates')),
    sa.UniqueConstraint('run_id', 'metric_id', name='uq_validation_candidates_run_metric')
    )

    with op.batch_alter_table('validation_candidates', schema=None) as batch_op:
        batch_op.create_index('ix_validation_candidates_metric_run', ['metric_id', 'run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('validation_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_validation_candidates_metric_run')

    op.drop_table('validation_candidates')

    with op.batch_alter_table('kpi_behaviour_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_behaviour_notes_run_id'))
        batch_op.drop_index(batch_op.f('ix_kpi_behaviour_notes_rep_id'))
        batch_op.drop_index(batch_op.f('ix_kpi_behaviour_notes_author_id'))

    op.drop_table('kpi_behaviour_notes')

    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_validation_runs_team_id'))
        batch_op.drop_index(batch_op.f('ix_validation_runs_scope_manager_id'))
        batch_op.drop_index(batch_op.f('ix_validation_runs_outcome_metric_id'))
        batch_op.drop_index(batch_op.f('ix_validation_runs_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_validation_runs_created_at'))
        batch_op.drop_index(batch_op.f('ix_validation_runs_counts_for_status'))

    op.drop_table('validation_runs')

    op.drop_table('org_settings')
