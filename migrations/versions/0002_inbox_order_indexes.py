"""inbox order indexes: the task index's indexes hold the inbox's whole order

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_open_tasks_agency_due')
        batch_op.drop_index('ix_open_tasks_assignee_due')
        batch_op.create_index('ix_open_tasks_agency_order', ['agency_code', 'due_at', 'created_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_open_tasks_agency_assignee_order',
                              ['agency_code', 'assignee', 'due_at', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_open_tasks_agency_assignee_order')
        batch_op.drop_index('ix_open_tasks_agency_order')
        batch_op.create_index('ix_open_tasks_assignee_due', ['assignee', 'due_at'], unique=False)
        batch_op.create_index('ix_open_tasks_agency_due', ['agency_code', 'due_at'], unique=False)
