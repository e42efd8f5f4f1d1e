"""vintages are compute runs (timestamps), not days; vintage_lock for what final editions read (issue 13)

series_value.vintage and series_adjustment.vintage become timestamps (a day's vintage becomes its midnight);
vintage_lock holds the (series key, vintage) pairs a final publication read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_TABLES = ('series_value', 'series_adjustment')


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in _TABLES:
        if sqlite:
            # SQLite keeps the text: make 'YYYY-MM-DD' read as a timestamp (and sort with the new ones)
            op.execute(f"UPDATE {table} SET vintage = vintage || ' 00:00:00.000000' WHERE length(vintage) = 10")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('vintage', existing_type=sa.Date(), type_=sa.DateTime(), existing_nullable=False,
                                  postgresql_using='vintage::timestamp')
    op.create_table(
        'vintage_lock',
        sa.Column('series_key', sa.String(length=160), nullable=False),
        sa.Column('vintage', sa.DateTime(), nullable=False),
        sa.Column('publication_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('series_key', 'vintage', name=op.f('pk_vintage_lock')),
    )


def downgrade() -> None:
    op.drop_table('vintage_lock')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('vintage', existing_type=sa.DateTime(), type_=sa.Date(), existing_nullable=False,
                                  postgresql_using='vintage::date')
        if sqlite:
            op.execute(f"UPDATE {table} SET vintage = substr(vintage, 1, 10)")
