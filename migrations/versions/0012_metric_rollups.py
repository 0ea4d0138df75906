"""metric roll-ups: each metric per rep per month and quarter, computed once

Revision ID: 0012
Revises: 0011

Pages read months and quarters from this table instead of rolling observations up on every
request. Each row keeps the sum, the mean and the latest value, so a metric's roll-up rule
(or a cycle's frozen one) picks a column. The upgrade fills it from the stored observations.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('metric_rollups',
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('sum_value', sa.Float(), nullable=False),
    sa.Column('mean_value', sa.Float(), nullable=False),
    sa.Column('last_value', sa.Float(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.CheckConstraint("grain IN ('month', 'quarter')", name=op.f('ck_metric_rollups_grain')),
    sa.CheckConstraint('n > 0', name=op.f('ck_metric_rollups_n_positive')),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_metric_rollups_metric_id_metrics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_metric_rollups_rep_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rep_id', 'metric_id', 'grain', 'period_start', name=op.f('pk_metric_rollups'))
    )
    with op.batch_alter_table('metric_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_metric_rollups_grain_period', ['grain', 'period_start'], unique=False)

    from reviewapp.metrics import rollups

    rollups.refresh(None, op.get_bind())


def downgrade():
    with op.batch_alter_table('metric_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_rollups_grain_period')

    op.drop_table('metric_rollups')
