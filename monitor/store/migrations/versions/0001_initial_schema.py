"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 05:22:05.558998
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('subject', sa.String(length=160), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('started_period', sa.String(length=7), nullable=False),
    sa.Column('fired_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_event'))
    )
    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.create_index('ix_alert_event_rule_subject', ['rule', 'subject'], unique=False)

    op.create_table('district',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_district'))
    )
    op.create_table('forecast',
    sa.Column('series_key', sa.String(length=160), nullable=False),
    sa.Column('origin', sa.String(length=7), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('lower_80', sa.Float(), nullable=True),
    sa.Column('upper_80', sa.Float(), nullable=True),
    sa.Column('lower_95', sa.Float(), nullable=True),
    sa.Column('upper_95', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('series_key', 'origin', 'period', 'model', name=op.f('pk_forecast'))
    )
    op.create_table('industry',
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('name_zh', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_industry'))
    )
    op.create_table('ingest_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('rows_accepted', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_source')),
    sa.UniqueConstraint('kind', 'sha256', name=op.f('uq_ingest_source_kind_sha256'))
    )
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('items_ok', sa.Integer(), nullable=False),
    sa.Column('items_failed', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_started', ['job', 'started_at'], unique=False)

    op.create_table('key_sector',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_key_sector'))
    )
    op.create_table('problem',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_problem'))
    )
    op.create_table('publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('lang', sa.String(length=5), nullable=False),
    sa.Column('version', sa.SmallInteger(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('files', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication')),
    sa.UniqueConstraint('kind', 'period', 'lang', 'version', name=op.f('uq_publication_kind_period_lang_version'))
    )
    op.create_table('question',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('positive_zh', sa.String(length=10), nullable=False),
    sa.Column('positive_en', sa.String(length=20), nullable=False),
    sa.Column('headline_weight', sa.Float(), nullable=False),
    sa.Column('inverted', sa.Boolean(), nullable=False),
    sa.Column('rank', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_question'))
    )
    op.create_table('series_value',
    sa.Column('series_key', sa.String(length=160), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('vintage', sa.Date(), nullable=False),
    sa.Column('raw', sa.Float(), nullable=True),
    sa.Column('sa', sa.Float(), nullable=True),
    sa.Column('se', sa.Float(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('series_key', 'period', 'vintage', name=op.f('pk_series_value'))
    )
    op.create_table('size_class',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=20), nullable=False),
    sa.Column('name_en', sa.String(length=40), nullable=False),
    sa.Column('min_employees', sa.Integer(), nullable=False),
    sa.Column('min_revenue', sa.Float(), nullable=False),
    sa.Column('rank', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_size_class'))
    )
    op.create_table('enterprise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name_zh', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('industry_code', sa.String(length=4), nullable=False),
    sa.Column('size_class', sa.String(length=16), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('revenue', sa.Float(), nullable=True),
    sa.Column('sample_weight', sa.Float(), nullable=False),
    sa.Column('prn', sa.Float(), nullable=True),
    sa.Column('panel_group', sa.SmallInteger(), nullable=True),
    sa.Column('panel_start', sa.String(length=7), nullable=False),
    sa.Column('panel_end', sa.String(length=7), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('sample_weight > 0', name=op.f('ck_enterprise_positive_weight')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_enterprise_district_code_district')),
    sa.ForeignKeyConstraint(['industry_code'], ['industry.code'], name=op.f('fk_enterprise_industry_code_industry')),
    sa.ForeignKeyConstraint(['size_class'], ['size_class.code'], name=op.f('fk_enterprise_size_class_size_class')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_enterprise_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprise_uscc'))
    )
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_district_industry', ['district_code', 'industry_code'], unique=False)

    op.create_table('industry_key_sector',
    sa.Column('industry_code', sa.String(length=4), nullable=False),
    sa.Column('sector_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['industry_code'], ['industry.code'], name=op.f('fk_industry_key_sector_industry_code_industry')),
    sa.ForeignKeyConstraint(['sector_code'], ['key_sector.code'], name=op.f('fk_industry_key_sector_sector_code_key_sector')),
    sa.PrimaryKeyConstraint('industry_code', 'sector_code', name=op.f('pk_industry_key_sector'))
    )
    op.create_table('ingest_reject',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=80), nullable=True),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_ingest_reject_source_id_ingest_source'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_reject'))
    )
    with op.batch_alter_table('ingest_reject', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_reject_source_id'), ['source_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_event_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['alert_event_id'], ['alert_event.id'], name=op.f('fk_notification_alert_event_id_alert_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_alert_event_id'), ['alert_event_id'], unique=False)

    op.create_table('official_statistic',
    sa.Column('series', sa.String(length=80), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_official_statistic_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('series', 'region', 'period', name=op.f('pk_official_statistic'))
    )
    op.create_table('target',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=80), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('comparison', sa.String(length=2), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("comparison IN ('>=', '<=')", name=op.f('ck_target_comparison_domain')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_target_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('year', 'indicator', 'region', name=op.f('pk_target'))
    )
    op.create_table('electricity_reading',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kwh', sa.Float(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('kwh >= 0', name=op.f('ck_electricity_reading_nonnegative_kwh')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_electricity_reading_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_electricity_reading_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('enterprise_id', 'day', name=op.f('pk_electricity_reading')),
    sqlite_with_rowid=False
    )
    op.create_table('enterprise_month',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('output_value', sa.Float(), nullable=True),
    sa.Column('sales_value', sa.Float(), nullable=True),
    sa.Column('finished_goods_inventory', sa.Float(), nullable=True),
    sa.Column('raw_material_cost', sa.Float(), nullable=True),
    sa.Column('labour_cost', sa.Float(), nullable=True),
    sa.Column('energy_cost', sa.Float(), nullable=True),
    sa.Column('other_cost', sa.Float(), nullable=True),
    sa.Column('production_status', sa.String(length=16), nullable=False),
    sa.Column('capacity_utilisation', sa.Float(), nullable=True),
    sa.Column('revision', sa.SmallInteger(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("production_status IN ('normal', 'semi_stopped', 'stopped')", name=op.f('ck_enterprise_month_status_domain')),
    sa.CheckConstraint('capacity_utilisation IS NULL OR (capacity_utilisation >= 0 AND capacity_utilisation <= 150)', name=op.f('ck_enterprise_month_utilisation_range')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_enterprise_month_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_enterprise_month_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('enterprise_id', 'period', name=op.f('pk_enterprise_month')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('enterprise_month', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_month_period', ['period'], unique=False)

    op.create_table('survey_problem',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('problem', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_survey_problem_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['problem'], ['problem.code'], name=op.f('fk_survey_problem_problem_problem')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_survey_problem_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('enterprise_id', 'period', 'problem', name=op.f('pk_survey_problem'))
    )
    op.create_table('survey_response',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('question', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.SmallInteger(), nullable=False),
    sa.Column('revision', sa.SmallInteger(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('answer IN (-1, 0, 1)', name=op.f('ck_survey_response_answer_domain')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_survey_response_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['question'], ['question.code'], name=op.f('fk_survey_response_question_question')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_survey_response_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('enterprise_id', 'period', 'question', name=op.f('pk_survey_response')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index('ix_survey_response_period', ['period'], unique=False)

    op.create_table('survey_response_history',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('question', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.SmallInteger(), nullable=False),
    sa.Column('answer', sa.SmallInteger(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_survey_response_history_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['question'], ['question.code'], name=op.f('fk_survey_response_history_question_question')),
    sa.ForeignKeyConstraint(['source_id'], ['ingest_source.id'], name=op.f('fk_survey_response_history_source_id_ingest_source')),
    sa.PrimaryKeyConstraint('enterprise_id', 'period', 'question', 'revision', name=op.f('pk_survey_response_history'))
    )


def downgrade() -> None:
    op.drop_table('survey_response_history')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_response_period')

    op.drop_table('survey_response')
    op.drop_table('survey_problem')
    with op.batch_alter_table('enterprise_month', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_month_period')

    op.drop_table('enterprise_month')
    op.drop_table('electricity_reading')
    op.drop_table('target')
    op.drop_table('official_statistic')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_alert_event_id'))

    op.drop_table('notification')
    with op.batch_alter_table('ingest_reject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_reject_source_id'))

    op.drop_table('ingest_reject')
    op.drop_table('industry_key_sector')
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_district_industry')

    op.drop_table('enterprise')
    op.drop_table('size_class')
    op.drop_table('series_value')
    op.drop_table('question')
    op.drop_table('publication')
    op.drop_table('problem')
    op.drop_table('key_sector')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_job_started')

    op.drop_table('job_run')
    op.drop_table('ingest_source')
    op.drop_table('industry')
    op.drop_table('forecast')
    op.drop_table('district')
    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_event_rule_subject')

    op.drop_table('alert_event')
