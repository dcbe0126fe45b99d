"""inbox indexes carry the lane: an inbox filtered by the reader's lanes is still answered from the index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ORDER = ['agency_code', 'due_at', 'created_at', 'id']
ASSIGNEE_ORDER = ['agency_code', 'assignee', 'due_at', 'created_at', 'id']


def _replace(lane: list[str]) -> None:
    # plain DROP/CREATE INDEX on every backend: no table copy (SQLite's batch mode would rebuild it)
    op.drop_index('ix_open_tasks_agency_order', table_name='open_tasks')
    op.drop_index('ix_open_tasks_agency_assignee_order', table_name='open_tasks')
    op.create_index('ix_open_tasks_agency_order', 'open_tasks', ORDER + lane, unique=False)
    op.create_index('ix_open_tasks_agency_assignee_order', 'open_tasks', ASSIGNEE_ORDER + lane, unique=False)


def upgrade() -> None:
    _replace(['lane'])


def downgrade() -> None:
    _replace([])
