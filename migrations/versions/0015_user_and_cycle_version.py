"""user and cycle version: an edit from a stale form loses instead of putting old values back

Revision ID: 0015
Revises: 0014

HR moved a rep to another team and manager in one tab; a stale tab that only renamed her put
her back, quietly changing who sees whom. A draft cycle's weight went back the same way. The
account's and the cycle's version moves on with every edit; the forms carry the version they
were opened at.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('users', 'cycles'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                          nullable=False))


def downgrade():
    for table in ('cycles', 'users'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('version')
