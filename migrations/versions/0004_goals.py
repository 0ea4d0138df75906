"""goals: team and individual goals, milestones, check-ins, adjustments, templates

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('goal_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('metric', 'percent', 'checklist', name='goal_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=True),
    sa.Column('start_value', sa.Float(), nullable=True),
    sa.Column('target_value', sa.Float(), nullable=True),
    sa.Column('milestones', sa.JSON(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'metric' OR (metric_id IS NOT NULL AND start_value IS NOT NULL AND target_value IS NOT NULL AND target_value <> start_value)", name=op.f('ck_goal_templates_metric_target')),
    sa.CheckConstraint('weight > 0', name=op.f('ck_goal_templates_weight_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_goal_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_goal_templates_metric_id_metrics'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_templates'))
    )

    with op.batch_alter_table('goal_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_templates_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('team', 'individual', name='goal_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('kind', sa.Enum('metric', 'percent', 'checklist', name='goal_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=True),
    sa.Column('start_value', sa.Float(), nullable=True),
    sa.Column('target_value', sa.Float(), nullable=True),
    sa.Column('manual_percent', sa.Float(), nullable=True),
    sa.Column('state', sa.Enum('proposed', 'returned', 'active', name='goal_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_override', sa.Enum('on_track', 'at_risk', 'off_track', 'done', name='goal_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('status_note', sa.Text(), nullable=True),
    sa.Column('status_set_by_id', sa.Integer(), nullable=True),
    sa.Column('status_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(scope = 'team' AND team_id IS NOT NULL AND owner_id IS NULL) OR (scope = 'individual' AND owner_id IS NOT NULL)", name=op.f('ck_goals_owner_matches_scope')),
    sa.CheckConstraint("kind <> 'metric' OR (metric_id IS NOT NULL AND start_value IS NOT NULL AND target_value IS NOT NULL AND target_value <> start_value)", name=op.f('ck_goals_metric_target')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_goals_dates_ordered')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_goals_not_own_parent')),
    sa.CheckConstraint('status_override IS NULL OR status_note IS NOT NULL', name=op.f('ck_goals_override_has_note')),
    sa.CheckConstraint('weight > 0', name=op.f('ck_goals_weight_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_goals_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_goals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_goals_metric_id_metrics'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_goals_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['goals.id'], name=op.f('fk_goals_parent_id_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['status_set_by_id'], ['users.id'], name=op.f('fk_goals_status_set_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_goals_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['goal_templates.id'], name=op.f('fk_goals_template_id_goal_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goals'))
    )

    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goals_metric_id'), ['metric_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goals_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goals_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goals_team_id'), ['team_id'], unique=False)

    op.create_table('goal_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_goal_adjustments_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_goal_adjustments_goal_id_goals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_adjustments'))
    )

    with op.batch_alter_table('goal_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_adjustments_goal_id'), ['goal_id'], unique=False)

    op.create_table('goal_check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=True),
    sa.Column('metric_id', sa.Integer(), nullable=True),
    sa.Column('metric_value', sa.Float(), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('confidence BETWEEN 1 AND 5', name=op.f('ck_goal_check_ins_confidence')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_goal_check_ins_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_goal_check_ins_goal_id_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_goal_check_ins_metric_id_metrics'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_check_ins'))
    )

    with op.batch_alter_table('goal_check_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_check_ins_goal_id'), ['goal_id'], unique=False)

    op.create_table('goal_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_goal_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_goal_comments_goal_id_goals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_comments'))
    )

    with op.batch_alter_table('goal_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_comments_goal_id'), ['goal_id'], unique=False)

    op.create_table('goal_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_goal_milestones_goal_id_goals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_milestones'))
    )

    with op.batch_alter_table('goal_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_milestones_goal_id'), ['goal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('goal_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_milestones_goal_id'))

    op.drop_table('goal_milestones')

    with op.batch_alter_table('goal_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_comments_goal_id'))

    op.drop_table('goal_comments')

    with op.batch_alter_table('goal_check_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_check_ins_goal_id'))

    op.drop_table('goal_check_ins')

    with op.batch_alter_table('goal_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_adjustments_goal_id'))

    op.drop_table('goal_adjustments')

    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goals_team_id'))
        batch_op.drop_index(batch_op.f('ix_goals_parent_id'))
        batch_op.drop_index(batch_op.f('ix_goals_owner_id'))
        batch_op.drop_index(batch_op.f('ix_goals_metric_id'))

    op.drop_table('goals')

    with op.batch_alter_table('goal_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_templates_created_by_id'))

    op.drop_table('goal_templates')
