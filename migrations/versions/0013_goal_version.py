"""goal version: an edit or adjustment made from a stale form loses instead of overwriting

Revision ID: 0013
Revises: 0012

Two managers who opened the same goal's edit form both saved, and the second silently
overwrote the first. The goal's version moves on with every edit and adjustment; the forms
carry the version they were opened at.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('goals') as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('goals') as batch_op:
        batch_op.drop_column('version')
