"""ingestion: source rows, electricity accounts, reject severity

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:36:28.624051
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('electricity_account',
    sa.Column('account_no', sa.String(length=40), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('meter_name', sa.String(length=80), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_electricity_account_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_electricity_account_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('account_no', name=op.f('pk_electricity_account'))
    )
    with op.batch_alter_table('electricity_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_electricity_account_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('electricity_account_reading',
    sa.Column('account_no', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kwh', sa.Float(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.CheckConstraint('kwh >= 0', name=op.f('ck_electricity_account_reading_nonnegative_kwh')),
    sa.PrimaryKeyConstraint('account_no', 'day', name=op.f('pk_electricity_account_reading')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('enterprise_month', schema=None) as batch_op:
        batch_op.add_column(sa.Column('electricity_kwh', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('source_row', sa.Integer(), nullable=True))

    with op.batch_alter_table('ingest_reject', schema=None) as batch_op:
        batch_op.add_column(sa.Column('severity', sa.String(length=8), server_default='error', nullable=False))
        batch_op.add_column(sa.Column('sheet', sa.String(length=80), nullable=True))

    with op.batch_alter_table('official_statistic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_row', sa.Integer(), nullable=True))

    with op.batch_alter_table('survey_problem', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_row', sa.Integer(), nullable=True))

    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_row', sa.Integer(), nullable=True))

    with op.batch_alter_table('survey_response_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_row', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('survey_response_history', schema=None) as batch_op:
        batch_op.drop_column('source_row')

    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_column('source_row')

    with op.batch_alter_table('survey_problem', schema=None) as batch_op:
        batch_op.drop_column('source_row')

    with op.batch_alter_table('official_statistic', schema=None) as batch_op:
        batch_op.drop_column('source_row')

    with op.batch_alter_table('ingest_reject', schema=None) as batch_op:
        batch_op.drop_column('sheet')
        batch_op.drop_column('severity')

    with op.batch_alter_table('enterprise_month', schema=None) as batch_op:
        batch_op.drop_column('source_row')
        batch_op.drop_column('electricity_kwh')

    op.drop_table('electricity_account_reading')
    with op.batch_alter_table('electricity_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_electricity_account_enterprise_id'))

    op.drop_table('electricity_account')
