"""nowcast and target_odds (forecasting issue: nowcasts with news, target-attainment probabilities)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nowcast',
    sa.Column('series_key', sa.String(length=160), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('origin', sa.String(length=7), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('lower_80', sa.Float(), nullable=True),
    sa.Column('upper_80', sa.Float(), nullable=True),
    sa.Column('lower_95', sa.Float(), nullable=True),
    sa.Column('upper_95', sa.Float(), nullable=True),
    sa.Column('previous', sa.Float(), nullable=True),
    sa.Column('converged', sa.Boolean(), nullable=False),
    sa.Column('iterations', sa.Integer(), nullable=True),
    sa.Column('log_likelihood', sa.Float(), nullable=True),
    sa.Column('inputs', sa.Text(), nullable=True),
    sa.Column('news', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('series_key', 'region', 'origin', 'period', name=op.f('pk_nowcast'))
    )
    op.create_table('target_odds',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=80), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('origin', sa.String(length=7), nullable=False),
    sa.Column('comparison', sa.String(length=2), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('ytd', sa.Float(), nullable=True),
    sa.Column('required', sa.Float(), nullable=True),
    sa.Column('expected', sa.Float(), nullable=False),
    sa.Column('lower_80', sa.Float(), nullable=True),
    sa.Column('upper_80', sa.Float(), nullable=True),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('simulations', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'indicator', 'region', 'origin', name=op.f('pk_target_odds'))
    )


def downgrade() -> None:
    op.drop_table('target_odds')
    op.drop_table('nowcast')
