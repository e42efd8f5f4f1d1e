"""web portal: accounts, activation codes, sessions, audit log, survey rounds, drafts, submissions, follow-ups
(issue 18)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'app_user',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('display_name', sa.String(length=120), nullable=True),
        sa.Column('email', sa.String(length=200), nullable=True),
        sa.Column('enterprise_id', sa.Integer(), nullable=True),
        sa.Column('district_code', sa.String(length=6), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('must_change_password', sa.Boolean(), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('enterprise', 'staff', 'district', 'leader', 'admin')",
                           name=op.f('ck_app_user_role_domain')),
        sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_app_user_district_code_district')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'],
                                name=op.f('fk_app_user_enterprise_id_enterprise')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
        sa.UniqueConstraint('username', name=op.f('uq_app_user_username')),
    )
    op.create_index(op.f('ix_app_user_enterprise_id'), 'app_user', ['enterprise_id'], unique=False)
    op.create_table(
        'activation_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'],
                                name=op.f('fk_activation_code_enterprise_id_enterprise')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_activation_code_code_hash')),
    )
    op.create_index(op.f('ix_activation_code_enterprise_id'), 'activation_code', ['enterprise_id'], unique=False)
    op.create_table(
        'web_session',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_web_session_user_id_app_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
    )
    op.create_index(op.f('ix_web_session_user_id'), 'web_session', ['user_id'], unique=False)
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=80), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index(op.f('ix_audit_log_user_id'), 'audit_log', ['user_id'], unique=False)
    op.create_table(
        'survey_round',
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('closed_by', sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint('period', name=op.f('pk_survey_round')),
    )
    op.create_table(
        'portal_draft',
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'],
                                name=op.f('fk_portal_draft_enterprise_id_enterprise')),
        sa.ForeignKeyConstraint(['updated_by'], ['app_user.id'], name=op.f('fk_portal_draft_updated_by_app_user')),
        sa.PrimaryKeyConstraint('enterprise_id', 'period', name=op.f('pk_portal_draft')),
    )
    op.create_table(
        'portal_submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('reasons', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'],
                                name=op.f('fk_portal_submission_enterprise_id_enterprise')),
        sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'],
                                name=op.f('fk_portal_submission_source_id_ingest_source')),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_portal_submission_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_submission')),
        sa.UniqueConstraint('enterprise_id', 'period', 'seq', name=op.f('uq_portal_submission_enterprise_id_period_seq')),
    )
    op.create_table(
        'survey_followup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'],
                                name=op.f('fk_survey_followup_enterprise_id_enterprise')),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_survey_followup_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_followup')),
    )
    op.create_index(op.f('ix_survey_followup_enterprise_id'), 'survey_followup', ['enterprise_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_survey_followup_enterprise_id'), table_name='survey_followup')
    op.drop_table('survey_followup')
    op.drop_table('portal_submission')
    op.drop_table('portal_draft')
    op.drop_table('survey_round')
    op.drop_index(op.f('ix_audit_log_user_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index(op.f('ix_web_session_user_id'), table_name='web_session')
    op.drop_table('web_session')
    op.drop_index(op.f('ix_activation_code_enterprise_id'), table_name='activation_code')
    op.drop_table('activation_code')
    op.drop_index(op.f('ix_app_user_enterprise_id'), table_name='app_user')
    op.drop_table('app_user')
