"""The deadline calculator, in-app notices, health and metrics."""

from __future__ import annotations

import hmac
import ipaddress
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from engine.clock import ensure_aware
from engine.db.tables import OpenTask
from engine.errors import FieldError, InvalidInput, NotFound
from engine.periods import Period, compute_due
from notifications.inbox import list_notices, mark_read
from web.deps import CurrentUser, Id, ProductDep, SessionDep
from web.errors import Unauthorized
from web.schemas import DueOut, NoticeOut

router = APIRouter(tags=["misc"])


@router.get("/api/v1/calendar/due", response_model=DueOut)
def calendar_due(_principal: CurrentUser, product: ProductDep, start: datetime,
                 period: Annotated[str, Query(max_length=10, examples=["7wd", "60cd"])]) -> DueOut:
    """The deadline the product computes: start day not counted, Chinese working days, 24:00 Shanghai."""
    try:
        parsed = Period.parse(period)
    except ValueError as exc:
        raise InvalidInput([FieldError("period", str(exc))]) from None
    try:
        deadline = compute_due(parsed, ensure_aware(start), product.deadlines.calendar)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput([FieldError("start", str(exc))]) from None
    return DueOut(start=start, period=str(parsed), due_at=deadline.due_at, last_day=deadline.last_day,
                  provisional=deadline.provisional)


@router.get("/api/v1/notifications", response_model=list[NoticeOut])
def notifications(principal: CurrentUser, session: SessionDep, unread: bool = False,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    rows = list_notices(session, principal.user.id, unread_only=unread, limit=limit, offset=offset)
    return [{"id": n.id, "template": n.template, "subject": n.subject, "body": n.body,
             "complaint_id": n.complaint_id, "created_at": n.created_at, "read": n.read_at is not None} for n in rows]


@router.post("/api/v1/notifications/{notice_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def read_notice(notice_id: Id, principal: CurrentUser, product: ProductDep) -> None:
    with product.uow() as uow:
        if not mark_read(uow.session, principal.user.id, notice_id, product.clock.now()):
            raise NotFound("notice not found")
        uow.commit()


@router.get("/healthz", tags=["ops"], responses={503: {"description": "数据库不可用 / database unavailable"}})
def healthz(session: SessionDep) -> dict[str, str]:
    """``ok`` when the database answers; 503 with ``Retry-After`` when it cannot be reached."""
    session.execute(select(1))
    return {"status": "ok"}


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


async def ops_only(request: Request) -> None:
    """Who may read ``/metrics``: with ``COMPLAINTFLOW_METRICS_TOKEN`` set, a request bearing that token
    (compared in constant time); without it, only a direct request from this machine (a loopback
    address, no proxy's forwarding header). Others get 401 (token set) or 404 (none set)."""
    token = request.app.state.settings.complaintflow_metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise Unauthorized("需要监控令牌 / metrics token required")
        return
    proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    if request.client is None or not _is_loopback(request.client.host) or proxied:
        raise NotFound("metrics are served to this machine only")


@router.get("/metrics", tags=["ops"], response_class=Response, dependencies=[Depends(ops_only)],
            responses={401: {"description": "需要监控令牌 / metrics token required"},
                       404: {"description": "仅本机可访问 / this machine only (no token configured)"}})
def metrics(session: SessionDep, product: ProductDep) -> Response:
    """Prometheus metrics, for operations only (see ``ops_only``)."""
    from prometheus_client import Gauge

    open_tasks = session.scalar(select(func.count()).select_from(OpenTask)) or 0
    overdue = session.scalar(select(func.count()).select_from(OpenTask).where(
        OpenTask.due_at < product.clock.now(), OpenTask.suspended_at.is_(None))) or 0
    _gauge(Gauge, "complaintflow_open_tasks", "Open human tasks").set(open_tasks)
    _gauge(Gauge, "complaintflow_overdue_tasks", "Open tasks past their deadline").set(overdue)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


_GAUGES: dict[str, Any] = {}


def _gauge(kind: Any, name: str, doc: str) -> Any:
    if name not in _GAUGES:
        _GAUGES[name] = kind(name, doc)
    return _GAUGES[name]
