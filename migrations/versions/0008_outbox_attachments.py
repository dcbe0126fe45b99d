"""outbox attachments: outbox.attachments, the files a queued e-mail carries (a JSON list of
{filename, sha256, content_type}; the bytes stay in the blob store)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain nullable column: SQLite adds it in place, no table copy
    op.add_column('outbox', sa.Column('attachments', sa.JSON(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE outbox DROP COLUMN attachments')
    else:
        op.drop_column('outbox', 'attachments')
