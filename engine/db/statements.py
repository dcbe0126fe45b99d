"""Prepared Core statements for the transition hot path.

Built once at import: SQLAlchemy then reuses their compiled form and cache keys, and the ORM's
per-call statement building (most of a transition's Python time when written inline) is skipped.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update

from engine.db.tables import DeadlineStep, OpenTask, ProcessInstance

# the ``Table`` objects (``Model.__table__`` is typed as any ``FromClause``, which ``insert`` and ``update`` refuse)
_tasks = OpenTask.metadata.tables[OpenTask.__tablename__]
_instances = ProcessInstance.metadata.tables[ProcessInstance.__tablename__]
_steps = DeadlineStep.metadata.tables[DeadlineStep.__tablename__]

INSTANCE_BY_ID = select(
    _instances.c.id, _instances.c.spec_version_id, _instances.c.status, _instances.c.version,
    _instances.c.complaint_id, _instances.c.state,
).where(_instances.c.id == bindparam("instance_id"))

# a completion reads its task and the task's instance in one round trip (instance columns prefixed i_)
TASK_AND_INSTANCE = (
    select(_tasks, *(column.label(f"i_{column.name}") for column in INSTANCE_BY_ID.selected_columns))
    .join_from(_tasks, _instances, _instances.c.id == _tasks.c.instance_id)
    .where(_tasks.c.id == bindparam("task_id"))
)

INSERT_INSTANCE = insert(_instances).returning(_instances.c.id)

SAVE_INSTANCE = (
    update(_instances)
    .where(_instances.c.id == bindparam("b_id"), _instances.c.version == bindparam("b_version"))
    .values(state=bindparam("b_state"), version=bindparam("b_new_version"), status=bindparam("b_status"),
            updated_at=bindparam("b_updated_at"), spec_version_id=bindparam("b_spec_version_id"))
)

DELETE_TASKS = delete(_tasks).where(_tasks.c.id.in_(bindparam("ids", expanding=True)))
DELETE_STEPS_OF_TASKS = delete(_steps).where(_steps.c.task_id.in_(bindparam("ids", expanding=True)))
INSERT_TASKS = insert(_tasks)
INSERT_STEPS = insert(_steps)
