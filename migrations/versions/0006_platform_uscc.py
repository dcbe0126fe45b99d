"""platform complaints: complaints.business_platform_uscc, the e-commerce platform operator's USCC

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain nullable column: SQLite adds it in place, no table copy (other tables refer to complaints)
    op.add_column('complaints', sa.Column('business_platform_uscc', sa.String(length=18), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE complaints DROP COLUMN business_platform_uscc')
    else:
        op.drop_column('complaints', 'business_platform_uscc')
