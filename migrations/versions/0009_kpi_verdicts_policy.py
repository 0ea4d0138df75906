"""KPI verdicts: inconclusive status, validation policy, placebo and confirmation evidence

Revision ID: 0009
Revises: 0008

A new KPI status `inconclusive` ("not shown with this much data"). Under the old two-verdict
rule every metric that was not shown to predict was called `not_predictive`; a metric stays
`not_predictive` only if its latest counted evidence rules out the smallest effect worth scoring
(the interval's useful end below 0.1 standardised, the default margin); the others move to
`inconclusive`, each move audited. HR's validation policy gets its own table (one row per
version); runs record the policy, period effects, inference, reps seen once, dry runs and the
confirmation window; candidates their standardised interval, minimum detectable effect,
placebo and verdict at both period ends. Stored runs are not re-judged: existing candidate rows
get verdict = their decision.

"""
import json
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD = ('candidate', 'kpi', 'not_predictive', 'insufficient_data', 'under_review', 'retired')
NEW = ('candidate', 'kpi', 'not_predictive', 'inconclusive', 'insufficient_data',
       'under_review', 'retired')
MARGIN = 0.1
REASON = ("Migration 0009: 'not predictive' now needs the evidence to rule out the smallest "
          "effect worth scoring (0.1 standardised); the latest run did not, so the metric "
          "was not shown either way.")


def _status_type(values):
    return sa.Enum(*values, name='kpi_status', native_enum=False, create_constraint=True,
                   length=32)


def _set_status_check(values, previous):
    with op.batch_alter_table('metrics', schema=None) as batch_op:
        batch_op.alter_column('kpi_status', existing_type=_status_type(previous),
                              type_=_status_type(values), existing_nullable=True)


def _useful_end(row) -> float | None:
    """The most favourable standardised effect the stored interval still allowed."""
    coef, low, high, std = row.coef, row.ci_low, row.ci_high, row.std_effect
    if None in (coef, low, high, std) or coef == 0:
        return None
    scale = std / coef
    sign = 1.0 if row.direction == 'higher' else -1.0
    return max(sign * low * scale, sign * high * scale)


def _move_statuses(bind) -> None:
    rows = bind.execute(sa.text(
        "SELECT m.id AS metric_id, c.coef, c.ci_low, c.ci_high, c.std_effect, c.direction, "
        "c.run_id FROM metrics m LEFT JOIN validation_candidates c ON c.metric_id = m.id AND "
        "c.run_id = (SELECT MAX(c2.run_id) FROM validation_candidates c2 WHERE "
        "c2.metric_id = m.id AND c2.status_after IS NOT NULL) "
        "WHERE m.kpi_status = 'not_predictive'")).all()
    now = datetime.now(UTC)
    for row in rows:
        end = _useful_end(row)
        if end is not None and end < MARGIN:
            continue  # the evidence did rule out an effect worth scoring
        bind.execute(sa.text("UPDATE metrics SET kpi_status = 'inconclusive' WHERE id = :id"),
                     {"id": row.metric_id})
        bind.execute(sa.text(
            "INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, "
            "after, reason) VALUES (:at, NULL, 'kpi.status', 'metric', :id, :before, :after, "
            ":reason)"), {
                "at": now, "id": row.metric_id,
                "before": json.dumps({"kpi_status": "not_predictive"}),
                "after": json.dumps({"kpi_status": "inconclusive", "run_id": None}),
                "reason": REASON})


def upgrade():
    op.create_table('validation_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('lag', sa.SmallInteger(), nullable=False),
    sa.Column('window_periods', sa.SmallInteger(), nullable=False),
    sa.Column('period_effects', sa.Boolean(), nullable=False),
    sa.Column('alpha', sa.Float(), nullable=False),
    sa.Column('margin', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint("grain IN ('month', 'quarter')", name=op.f('ck_validation_policies_grain')),
    sa.CheckConstraint('alpha > 0 AND alpha < 0.5', name=op.f('ck_validation_policies_alpha')),
    sa.CheckConstraint('lag IN (0, 1)', name=op.f('ck_validation_policies_lag')),
    sa.CheckConstraint('margin > 0', name=op.f('ck_validation_policies_margin')),
    sa.CheckConstraint('window_periods >= 4', name=op.f('ck_validation_policies_window')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_validation_policies_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_policies'))
    )

    with op.batch_alter_table('validation_candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('std_ci_low', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('std_ci_high', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('mde', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lead_coef', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lead_q', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('placebo_flag', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('previous_decision', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('verdict', sa.String(length=32), nullable=False, server_default='insufficient_data'))
        batch_op.add_column(sa.Column('plain', sa.Text(), nullable=False, server_default=''))
        batch_op.drop_constraint(op.f('ck_validation_candidates_decision'), type_='check')
        batch_op.create_check_constraint(
            'decision', "decision IN ('kpi', 'not_predictive', 'inconclusive', 'insufficient_data')")
        batch_op.create_check_constraint(
            'verdict', "verdict IN ('kpi', 'provisional', 'not_predictive', 'inconclusive', "
            "'insufficient_data')")
    # Stored runs keep their verdicts as they were decided.
    op.execute("UPDATE validation_candidates SET verdict = decision")

    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('exploratory_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('dry_run', sa.Boolean(), nullable=False, server_default=sa.false()))
        # Runs before this revision had no period effects.
        batch_op.add_column(sa.Column('period_effects', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('inference', sa.String(length=16), nullable=False, server_default='cluster_t'))
        batch_op.add_column(sa.Column('n_reps_once', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('previous_end', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_validation_runs_policy_id'), ['policy_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_validation_runs_policy_id_validation_policies'), 'validation_policies', ['policy_id'], ['id'])
        batch_op.create_check_constraint('dry_runs_never_count', 'NOT (counts_for_status AND dry_run)')

    _set_status_check(NEW, OLD)
    _move_statuses(op.get_bind())


def downgrade():
    op.execute("UPDATE metrics SET kpi_status = 'not_predictive' "
               "WHERE kpi_status = 'inconclusive'")
    _set_status_check(OLD, NEW)
    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_validation_runs_dry_runs_never_count'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_validation_runs_policy_id_validation_policies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_validation_runs_policy_id'))
        for column in ('previous_end', 'n_reps_once', 'inference', 'period_effects', 'dry_run',
                       'exploratory_reason', 'policy_id'):
            batch_op.drop_column(column)
    op.execute("UPDATE validation_candidates SET decision = 'not_predictive' "
               "WHERE decision = 'inconclusive'")
    with op.batch_alter_table('validation_candidates', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_validation_candidates_verdict'), type_='check')
        batch_op.drop_constraint(op.f('ck_validation_candidates_decision'), type_='check')
        batch_op.create_check_constraint(
            'decision', "decision IN ('kpi', 'not_predictive', 'insufficient_data')")
        for column in ('plain', 'verdict', 'previous_decision', 'placebo_flag', 'lead_q',
                       'lead_coef', 'mde', 'std_ci_high', 'std_ci_low'):
            batch_op.drop_column(column)
    op.drop_table('validation_policies')
