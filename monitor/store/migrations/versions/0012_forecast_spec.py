"""forecast_spec: the default forecaster's specification per series, kept between reviews (issue 14)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_spec',
    sa.Column('series_key', sa.String(length=160), nullable=False),
    sa.Column('identified', sa.String(length=7), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('series_key', name=op.f('pk_forecast_spec'))
    )


def downgrade() -> None:
    op.drop_table('forecast_spec')
