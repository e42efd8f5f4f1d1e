"""publication: release time, edition note, inputs (vintages) used (issue 7, publications)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('inputs', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('inputs_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_column('inputs_sha256')
        batch_op.drop_column('inputs')
        batch_op.drop_column('note')
        batch_op.drop_column('release_at')
