"""alerts and scheduling (issue 8): alert lifecycle columns, silences, the digest outbox, the attempt log,
the scheduler lock and scheduled-run keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_silence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=True),
    sa.Column('subject', sa.String(length=160), nullable=True),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_silence'))
    )
    op.create_table('notification_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=64), nullable=False),
    sa.Column('recipient_group', sa.String(length=80), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sent')", name=op.f('ck_notification_message_status_domain')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_message')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_notification_message_dedup_key'))
    )
    with op.batch_alter_table('notification_message', schema=None) as batch_op:
        batch_op.create_index('ix_notification_message_status', ['status'], unique=False)

    op.create_table('scheduler_lock',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lock'))
    )
    op.create_table('notification_item',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('alert_event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['alert_event_id'], ['alert_event.id'], name=op.f('fk_notification_item_alert_event_id_alert_event')),
    sa.ForeignKeyConstraint(['message_id'], ['notification_message.id'], name=op.f('fk_notification_item_message_id_notification_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'alert_event_id', name=op.f('pk_notification_item'))
    )
    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('recipients', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('last_period', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('resolved_period', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('labels', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('notified_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('last_notified_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_alert_event_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_alert_event_fingerprint_started_period'), ['fingerprint', 'started_period'])

    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_for', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('scheduler', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_job_run_job_scheduled_for'), ['job', 'scheduled_for'])

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_message_id'), ['message_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_message_id_notification_message'), 'notification_message', ['message_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_message_id_notification_message'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_message_id'))
        batch_op.drop_column('message_id')

    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_job_run_job_scheduled_for'), type_='unique')
        batch_op.drop_column('scheduler')
        batch_op.drop_column('scheduled_for')

    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_alert_event_fingerprint_started_period'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_alert_event_fingerprint'))
        batch_op.drop_column('last_notified_at')
        batch_op.drop_column('notified_state')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('created_at')
        batch_op.drop_column('labels')
        batch_op.drop_column('resolved_period')
        batch_op.drop_column('last_period')
        batch_op.drop_column('recipients')
        batch_op.drop_column('fingerprint')

    op.drop_table('notification_item')
    op.drop_table('scheduler_lock')
    with op.batch_alter_table('notification_message', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_message_status')

    op.drop_table('notification_message')
    op.drop_table('alert_silence')
