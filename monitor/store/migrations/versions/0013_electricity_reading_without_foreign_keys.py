"""electricity_reading without foreign keys: the ingest writes only the enterprise ids it has just joined through
``electricity_account`` and the provenance id it has just created (issue 20 item 6)

PostgreSQL checks each foreign key of a row with a trigger, which cost more than the insert itself for the
enterprise-day sums of a large feed; ``electricity_account_reading`` was created without them for the same reason.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 20:10:00
"""

from __future__ import annotations

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('electricity_reading', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_electricity_reading_enterprise_id_enterprise'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_electricity_reading_source_id_ingest_source'), type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('electricity_reading', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_electricity_reading_source_id_ingest_source'), 'ingest_source',
                                    ['source_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_electricity_reading_enterprise_id_enterprise'), 'enterprise',
                                    ['enterprise_id'], ['id'])
