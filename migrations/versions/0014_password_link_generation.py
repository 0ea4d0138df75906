"""password link generation: a fresh set-password link voids the earlier ones

Revision ID: 0014
Revises: 0013

Every set-password link HR made stayed valid for seven days until one of them was used, so a
link made again because the first was lost or sent to the wrong person still worked. The user
row counts the links made; a link works only while it is the newest.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('password_link_generation', sa.Integer(),
                                      server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('password_link_generation')
