"""adjustment: series_adjustment (model, diagnostics and outcome of each seasonal adjustment)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:26:01.240857
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('series_adjustment',
    sa.Column('series_key', sa.String(length=160), nullable=False),
    sa.Column('vintage', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('method_used', sa.String(length=20), nullable=True),
    sa.Column('model', sa.String(length=40), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=True),
    sa.Column('first_period', sa.String(length=7), nullable=True),
    sa.Column('last_period', sa.String(length=7), nullable=True),
    sa.Column('m7', sa.Float(), nullable=True),
    sa.Column('q', sa.Float(), nullable=True),
    sa.Column('qs_p', sa.Float(), nullable=True),
    sa.Column('light', sa.String(length=8), nullable=True),
    sa.Column('festival_t', sa.Float(), nullable=True),
    sa.Column('working_day_t', sa.Float(), nullable=True),
    sa.Column('n_outliers', sa.Integer(), nullable=True),
    sa.Column('factors', sa.Text(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('spec', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('adjusted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('ok', 'failed', 'skipped')", name=op.f('ck_series_adjustment_status')),
    sa.PrimaryKeyConstraint('series_key', 'vintage', name=op.f('pk_series_adjustment'))
    )


def downgrade() -> None:
    op.drop_table('series_adjustment')
