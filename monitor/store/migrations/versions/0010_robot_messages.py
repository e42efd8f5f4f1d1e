"""chat-robot outbox: robot_message (issue 19)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'robot_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dedup_key', sa.String(length=64), nullable=False),
        sa.Column('recipient_group', sa.String(length=80), nullable=False),
        sa.Column('robot', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed', 'unknown')", name=op.f('ck_robot_message_robot_status_domain')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_robot_message')),
        sa.UniqueConstraint('dedup_key', name=op.f('uq_robot_message_dedup_key')),
    )
    op.create_index('ix_robot_message_status', 'robot_message', ['status'])


def downgrade() -> None:
    op.drop_index('ix_robot_message_status', table_name='robot_message')
    op.drop_table('robot_message')
