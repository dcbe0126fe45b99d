"""businesses as parties: the businesses table, complaints.business_id and users.business_id (backfilled)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UNREGISTERED = sa.text('uscc IS NULL')

# The backfill keeps what intake does (agencies/businesses.py): one business per USCC, named as the
# latest complaint naming that USCC names it; complaints without a USCC go to a business of the same
# name and region that has a USCC if there is one, else to one row per (name, region).
_REGISTERED = """
INSERT INTO businesses (uscc, name, region_code, address, odr, created_at)
SELECT c.business_uscc, c.business_name, c.business_region_code, c.business_address, :odr,
       (SELECT min(f.created_at) FROM complaints f WHERE f.business_uscc = c.business_uscc)
FROM complaints c
WHERE c.business_uscc IS NOT NULL
  AND c.id = (SELECT max(l.id) FROM complaints l WHERE l.business_uscc = c.business_uscc)
"""

_UNREGISTERED = """
INSERT INTO businesses (uscc, name, region_code, address, odr, created_at)
SELECT NULL, c.business_name, c.business_region_code, c.business_address, :odr,
       (SELECT min(f.created_at) FROM complaints f WHERE f.business_uscc IS NULL
          AND f.business_name = c.business_name AND f.business_region_code = c.business_region_code)
FROM complaints c
WHERE c.business_uscc IS NULL
  AND c.id = (SELECT max(l.id) FROM complaints l WHERE l.business_uscc IS NULL
                AND l.business_name = c.business_name AND l.business_region_code = c.business_region_code)
  AND NOT EXISTS (SELECT 1 FROM businesses b
                  WHERE b.name = c.business_name AND b.region_code = c.business_region_code)
"""

_LINK = """
UPDATE complaints SET business_id = COALESCE(
  (SELECT b.id FROM businesses b WHERE b.uscc = complaints.business_uscc),
  (SELECT min(b.id) FROM businesses b WHERE b.uscc IS NOT NULL
     AND b.name = complaints.business_name AND b.region_code = complaints.business_region_code),
  (SELECT min(b.id) FROM businesses b WHERE b.uscc IS NULL
     AND b.name = complaints.business_name AND b.region_code = complaints.business_region_code))
"""


def _add_business_id(table: str) -> None:
    """A nullable reference to businesses. SQLite adds the column with its constraint in place: a batch
    copy of ``complaints`` would have to drop a table other tables' rows refer to."""
    fk = f'fk_{table}_business_id_businesses'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN business_id INTEGER '
                   f'CONSTRAINT {fk} REFERENCES businesses (id)')
    else:
        op.add_column(table, sa.Column('business_id', BigId, nullable=True))
        op.create_foreign_key(fk, table, 'businesses', ['business_id'], ['id'])
    op.create_index(f'ix_{table}_business_id', table, ['business_id'], unique=False)


def upgrade() -> None:
    op.create_table('businesses',
    sa.Column('id', BigId, nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('odr', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(region_code) = 6', name=op.f('ck_businesses_region_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_businesses')),
    sa.UniqueConstraint('uscc', name=op.f('uq_businesses_uscc'))
    )
    op.create_index('ix_businesses_region_code_name', 'businesses', ['region_code', 'name'], unique=False)
    op.create_index('ix_businesses_unregistered_name', 'businesses', ['name', 'region_code'], unique=True,
                    sqlite_where=UNREGISTERED, postgresql_where=UNREGISTERED)
    _add_business_id('complaints')
    _add_business_id('users')
    op.execute(sa.text(_REGISTERED).bindparams(odr=False))
    op.execute(sa.text(_UNREGISTERED).bindparams(odr=False))
    op.execute(_LINK)


def downgrade() -> None:
    for table in ('users', 'complaints'):
        op.drop_index(f'ix_{table}_business_id', table_name=table)
        if op.get_bind().dialect.name == 'sqlite':
            # SQLite drops a column only once no constraint names it: rewrite the table's definition
            # without the reference (schema surgery on the one column this revision added)
            _sqlite_drop_reference(table)
            op.execute(f'ALTER TABLE {table} DROP COLUMN business_id')
        else:
            op.drop_constraint(f'fk_{table}_business_id_businesses', table, type_='foreignkey')
            op.drop_column(table, 'business_id')
    op.drop_index('ix_businesses_unregistered_name', table_name='businesses')
    op.drop_index('ix_businesses_region_code_name', table_name='businesses')
    op.drop_table('businesses')


def _sqlite_drop_reference(table: str) -> None:
    clause = f' CONSTRAINT fk_{table}_business_id_businesses REFERENCES businesses (id)'
    bind = op.get_bind()
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar_one()
    bind.exec_driver_sql('PRAGMA writable_schema=ON')
    bind.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :clause, '') WHERE type = 'table' AND "
                         "name = :table"), {"clause": clause, "table": table})
    bind.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema=OFF')
