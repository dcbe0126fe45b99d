"""The administrator's workflow pages: the versions of each workflow (``/admin/workflows``), deploying and
rolling back, the difference between two versions drawn on their diagrams, moving running instances to
another version, and one instance as it stands (``/admin/instances/{id}``).

Only administrators see them; anyone else signed in gets the 403 page, and a visitor is sent to sign in.
Deploying only changes what new complaints use: running instances keep their version until they are
migrated, which the pages say wherever a version changes. Every write goes through
``complaintflow.services.workflows`` (audited there); the diagrams are drawn by ``web/static/diagram.js``
(an instance) and ``web/static/workflow-diff.js`` (a difference) from JSON on this same origin, and
everything else works without JavaScript.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.encoders import jsonable_encoder
from starlette.responses import JSONResponse, RedirectResponse, Response

from complaintflow.services import workflows as service
from engine.errors import NotFound
from web import admin_queries
from web.deps import MAX_ID, ProductDep, SessionDep
from web.pages.render import admin_json_refusal, admin_refusal, chinese, error_page, page, stale_form
from web.pages.sessions import SignedIn, SignedInDep, same_token

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")  # as the API's workflow keys
MAX_LISTED = 1000  # instance ids carried back in a migration's result
LIST = "/admin/workflows"
NO_VERSION_TITLE = "未找到流程版本"
NO_INSTANCE_TITLE = "未找到流程实例"
KEEP_VERSION = "正在办理的流程实例仍按其启动时的版本运行，直至迁移到新版本。"


def _number(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_ID else None


def _ids(raw: str | None) -> list[int]:
    """``1,2,3`` from a result link; anything else is dropped."""
    found = [_number(part) for part in (raw or "").split(",")[:MAX_LISTED]]
    return [number for number in found if number is not None]


def _no_version(request: Request, me: SignedIn, key: str) -> Response:
    return error_page(request, me, 404, NO_VERSION_TITLE, f"流程 {key} 没有所选的版本。", LIST, "返回流程管理")


# ---- the versions ---------------------------------------------------------------------------------


@router.get("/admin/workflows")
def versions(request: Request, session: SessionDep, me: SignedInDep, published: str | None = None,
             key: str | None = None) -> Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    listed = admin_queries.workflows(session)
    rows = []
    for workflow in listed:
        deployed = workflow.deployed
        rows.append({"key": workflow.key, "name": workflow.name, "deployed": deployed,
                     "running": sum(v.running for v in workflow.versions),
                     "versions": [_version_row(v, deployed) for v in workflow.versions]})
    notice = None
    number = _number(published)
    chosen = next((w for w in listed if w.key == key), None)
    if number is not None and chosen is not None:
        notice = (f"已发布第 {number} 版（{chosen.name}）：此后新登记的投诉按第 {number} 版办理。{KEEP_VERSION}")
    return page(request, "admin_workflows.html", me, nav="workflows", workflows=rows, notice=notice,
                keep_version=KEEP_VERSION)


def _version_row(v: admin_queries.VersionRow, deployed: int | None) -> dict[str, Any]:
    """A version's row: what it is and what may be done with it (发布 a newer one, 回滚 to an older one)."""
    action = None
    if not v.deployed:
        action = "回滚到此版本" if deployed is not None and v.version < deployed else "发布"
    return {"version": v.version, "uploaded_by": v.uploaded_by, "uploaded_at": admin_queries.when(v.uploaded_at),
            "comment": v.comment, "based_on": v.based_on, "deployed": v.deployed, "running": v.running,
            "action": action, "edit": f"/admin/workflows/{v.key}/versions/{v.version}",
            "deploy": f"/admin/workflows/{v.key}/versions/{v.version}/deploy",
            "diff": (f"/admin/workflows/{v.key}/diff?" + urlencode({"from": v.version - 1, "to": v.version})
                     if v.version > 1 else None),
            "migrate": (f"/admin/workflows/{v.key}/migrate?" + urlencode({"from": v.version, "to": deployed})
                        if v.running and deployed is not None and not v.deployed else None),
            "deployed_version": deployed}


@router.post("/admin/workflows/{key}/versions/{number}/deploy")
def deploy(request: Request, product: ProductDep, me: SignedInDep, key: str, number: str,
           csrf_token: FormText = "") -> Response:
    """Make this version the one new complaints use (a rollback when it is an earlier one)."""
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, LIST)
    version = _number(number)
    if version is None or not KEY.match(key):
        return _no_version(request, me, key)
    try:
        service.deploy_workflow(product, key, version, me.principal.actor)
    except NotFound:
        return _no_version(request, me, key)
    return RedirectResponse(f"{LIST}?" + urlencode({"published": version, "key": key}), status_code=303)


# ---- the difference between two versions ----------------------------------------------------------


def _pair(session: SessionDep, key: str, raw_from: str | None, raw_to: str | None) -> tuple[list[int], int, int] | None:
    """The key's version numbers and the two chosen (by default the latest and the one before); ``None``
    when the key or a chosen version does not exist."""
    if not KEY.match(key):
        return None
    numbers = admin_queries.version_numbers(session, key)
    if not numbers:
        return None
    to = _number(raw_to) if raw_to else numbers[-1]
    earlier = [n for n in numbers if to is not None and n < to]
    start = _number(raw_from) if raw_from else (earlier[-1] if earlier else numbers[0])
    if to not in numbers or start not in numbers or to is None or start is None:
        return None
    return numbers, start, to


@router.get("/admin/workflows/{key}/diff")
def diff(request: Request, session: SessionDep, me: SignedInDep, key: str) -> Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    chosen = _pair(session, key, request.query_params.get("from"), request.query_params.get("to"))
    if chosen is None:
        return _no_version(request, me, key)
    numbers, start, to = chosen
    old, new = admin_queries.version_row(session, key, start), admin_queries.version_row(session, key, to)
    assert old is not None and new is not None
    found = admin_queries.version_diff(old.bpmn_xml, new.bpmn_xml)
    counts = {word: sum(1 for c in found.changes if c.change == word) for word in ("新增", "删除", "修改")}
    return page(request, "admin_workflow_diff.html", me, nav="workflows", key=key, numbers=numbers, start=start,
                to=to, changes=found.changes, counts=counts, same=start == to,
                diagram_url=f"/admin/workflows/{key}/diff.json?" + urlencode({"from": start, "to": to}),
                removed_shown=bool(found.removed))


@router.get("/admin/workflows/{key}/diff.json")
def diff_json(request: Request, session: SessionDep, me: SignedInDep, key: str) -> Response:
    """Both versions' diagrams and the elements to mark on each, for ``workflow-diff.js``."""
    if (refused := admin_json_refusal(me)) is not None:
        return refused
    chosen = _pair(session, key, request.query_params.get("from"), request.query_params.get("to"))
    if chosen is None:
        return JSONResponse({"detail": "未找到"}, status_code=404)
    _numbers, start, to = chosen
    old, new = admin_queries.version_row(session, key, start), admin_queries.version_row(session, key, to)
    assert old is not None and new is not None
    found = admin_queries.version_diff(old.bpmn_xml, new.bpmn_xml)
    return JSONResponse({"from": {"version": start, "bpmn_xml": old.bpmn_xml, "removed": found.removed},
                         "to": {"version": to, "bpmn_xml": new.bpmn_xml, "added": found.added,
                                "changed": found.changed}})


# ---- migrating running instances --------------------------------------------------------------------


@router.get("/admin/workflows/{key}/migrate")
def migration(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, key: str) -> Response:
    """The dry run for every running instance of the older version, and the result of the last move."""
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    query = request.query_params
    chosen = _pair(session, key, query.get("from"), query.get("to"))
    if chosen is None:
        return _no_version(request, me, key)
    numbers, start, to = chosen
    instances = admin_queries.running_instances(session, key, start)
    old = admin_queries.version_row(session, key, start)
    names = admin_queries.step_names(old.bpmn_xml) if old is not None else {}
    session.rollback()  # end this request's read before the dry run reads in its own
    plans = {r["instance_id"]: r for r in service.migrate_instances(
        product, key, start, to, me.principal.actor, None, apply_changes=False)} if start != to else {}
    rows = [{"id": i.id, "href": f"/admin/instances/{i.id}", "tracking_no": i.tracking_no or "—",
             "tasks": "、".join(i.tasks) or "—", "safe": plans.get(i.id, {}).get("safe", False),
             "reasons": [admin_queries.named_steps(chinese(r), names)
                         for r in plans.get(i.id, {}).get("reasons", [])]} for i in instances]
    moved, failed = _ids(query.get("moved")), _ids(query.get("failed"))
    still = {row["id"]: row for row in rows}
    results = [{"id": i, "href": f"/admin/instances/{i}", "ok": True, "reason": ""} for i in moved]
    results += [{"id": i, "href": f"/admin/instances/{i}", "ok": False,
                 "reason": "；".join(still[i]["reasons"]) if i in still and still[i]["reasons"]
                 else "迁移时该实例正被办理，未迁移，请稍后重试。"} for i in failed]
    return page(request, "admin_migration.html", me, nav="workflows", key=key, numbers=numbers, start=start, to=to,
                rows=rows, safe=sum(1 for r in rows if r["safe"]), same=start == to, results=results,
                moved=len(moved), tried=len(moved) + len(failed), keep_version=KEEP_VERSION)


@router.post("/admin/workflows/{key}/migrate")
def migrate(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, key: str,
            csrf_token: FormText = "", from_version: Annotated[str, Form(alias="from")] = "",
            to_version: Annotated[str, Form(alias="to")] = "") -> Response:
    """Move every instance the dry run finds safe, each in its own transaction; back to the page with
    which moved and which did not."""
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    back = f"/admin/workflows/{key}/migrate?" + urlencode({"from": from_version, "to": to_version})
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, back if KEY.match(key) else LIST)
    chosen = _pair(session, key, from_version or "x", to_version or "x")
    if chosen is None:
        return _no_version(request, me, key)
    _numbers, start, to = chosen
    session.rollback()  # end this request's read before the writes
    if start == to:
        return RedirectResponse(back, status_code=303)
    actor = me.principal.actor
    planned = service.migrate_instances(product, key, start, to, actor, None, apply_changes=False)
    safe = [r["instance_id"] for r in planned if r["safe"]]
    moved: list[int] = []
    failed: list[int] = []
    if safe:  # an empty list would mean every instance to the service
        for report in service.migrate_instances(product, key, start, to, actor, safe, apply_changes=True):
            (moved if report["applied"] and report["safe"] else failed).append(report["instance_id"])
    target = {"from": start, "to": to, "moved": ",".join(map(str, moved[:MAX_LISTED])),
              "failed": ",".join(map(str, failed[:MAX_LISTED]))}
    return RedirectResponse(f"/admin/workflows/{key}/migrate?" + urlencode(target), status_code=303)


# ---- one instance ---------------------------------------------------------------------------------


@router.get("/admin/instances/{instance_id}")
def instance(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
             instance_id: str) -> Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    number = _number(instance_id)
    try:
        if number is None:
            raise NotFound("process instance not found")
        seen = admin_queries.instance_view(session, product.specs, number)
    except NotFound:
        return error_page(request, me, 404, NO_INSTANCE_TITLE, "该流程实例不存在。", LIST, "返回流程管理")
    return page(request, "admin_instance.html", me, nav="workflows", instance=seen,
                diagram_url=f"/admin/instances/{seen.id}/diagram.json")


@router.get("/admin/instances/{instance_id}/diagram.json")
def instance_diagram(product: ProductDep, session: SessionDep, me: SignedInDep, instance_id: str) -> Response:
    """The instance on its diagram, in the shape ``diagram.js`` draws (as a complaint's diagram)."""
    if (refused := admin_json_refusal(me)) is not None:
        return refused
    number = _number(instance_id)
    try:
        if number is None:
            raise NotFound("process instance not found")
        answer = admin_queries.instance_diagram(session, product.specs, number)
    except NotFound:
        return JSONResponse({"detail": "未找到"}, status_code=404)
    return JSONResponse(jsonable_encoder(answer))
