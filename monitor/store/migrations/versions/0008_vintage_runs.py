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


def _sqlite_retype(table: str, old: str, new: str, value_sql: str) -> None:
    """Rebuild a SQLite table with column ``vintage`` declared ``new`` instead of ``old``, copying the rows with
    ``value_sql`` for the vintage.  (Alembic's batch mode copies with ``CAST(vintage AS DATETIME)``, whose NUMERIC
    affinity turns '2026-12-07' into 2026: never use it for this column.)"""
    bind = op.get_bind()
    create = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    indexes = [r[0] for r in bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                                  "AND sql IS NOT NULL", (table,))]
    marker = f"vintage {old} NOT NULL"
    assert create and marker in create, f"unexpected schema of {table}: {create}"
    columns = [r[1] for r in bind.exec_driver_sql(f"PRAGMA table_info({table})")]
    select = ", ".join(value_sql if c == "vintage" else c for c in columns)
    tmp = f"_{table}_0008"
    op.execute(create.replace(marker, f"vintage {new} NOT NULL").replace(f"CREATE TABLE {table}",
                                                                        f"CREATE TABLE {tmp}", 1))
    op.execute(f"INSERT INTO {tmp} ({', '.join(columns)}) SELECT {select} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {tmp} RENAME TO {table}")
    for sql in indexes:
        op.execute(sql)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in _TABLES:
        if sqlite:  # 'YYYY-MM-DD' becomes its midnight, in the text form SQLAlchemy writes timestamps in
            _sqlite_retype(table, "DATE", "DATETIME",
                           "CASE WHEN length(vintage) = 10 THEN vintage || ' 00:00:00.000000' ELSE vintage END")
            continue
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
    for table in _TABLES:  # two runs of one day become one vintage again: the later one is kept
        if sqlite:
            op.execute(f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {table} b WHERE b.series_key = "
                       f"{table}.series_key" + (f" AND b.period = {table}.period" if table == 'series_value' else "") +
                       f" AND substr(b.vintage, 1, 10) = substr({table}.vintage, 1, 10) AND b.vintage > {table}.vintage)")
            _sqlite_retype(table, "DATETIME", "DATE", "substr(vintage, 1, 10)")
            continue
        op.execute(f"DELETE FROM {table} a USING {table} b WHERE b.series_key = a.series_key" +
                   (" AND b.period = a.period" if table == 'series_value' else "") +
                   " AND b.vintage::date = a.vintage::date AND b.vintage > a.vintage")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('vintage', existing_type=sa.DateTime(), type_=sa.Date(), existing_nullable=False,
                                  postgresql_using='vintage::date')
