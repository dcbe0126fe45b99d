"""The web workspace: server-rendered Chinese pages for agency staff, businesses' own users and the public,
over the same service functions and read side as the API (``web/routers``). Handlers parse, call, and render
``web/templates``."""

from __future__ import annotations

from fastapi import APIRouter

from web.pages import (
    admin_businesses,
    admin_workflows,
    auth,
    business,
    complaint_archive,
    complaint_files,
    complaints,
    inbox,
    intake,
    notifications,
    public,
    supervision,
    task,
    workflow_editor,
)

# /complaints/new (intake) before /complaints/{id}
ROUTERS: tuple[APIRouter, ...] = (auth.router, inbox.router, task.router, intake.router, complaints.router,
                                  supervision.router, notifications.router, public.router, workflow_editor.router,
                                  admin_workflows.router, admin_businesses.router, business.router,
                                  complaint_files.router, complaint_archive.router)
