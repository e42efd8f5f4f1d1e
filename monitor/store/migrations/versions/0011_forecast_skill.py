"""forecast_skill: the track record of the forecasts as of each origin (issue 15)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_skill',
    sa.Column('series_key', sa.String(length=160), nullable=False),
    sa.Column('origin', sa.String(length=7), nullable=False),
    sa.Column('horizon', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('mae', sa.Float(), nullable=True),
    sa.Column('mase', sa.Float(), nullable=True),
    sa.Column('coverage_80', sa.Float(), nullable=True),
    sa.Column('coverage_95', sa.Float(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('series_key', 'origin', 'horizon', name=op.f('pk_forecast_skill'))
    )


def downgrade() -> None:
    op.drop_table('forecast_skill')
