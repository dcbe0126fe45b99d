"""For operations: health (``/healthz``) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from engine.db.tables import OpenTask
from engine.errors import NotFound
from web.deps import ProductDep, SessionDep
from web.errors import Unauthorized

router = APIRouter(tags=["ops"])


@router.get("/healthz", responses={503: {"description": "数据库不可用 / database unavailable"}})
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
        raise NotFound("监控指标仅供本机访问 / metrics are served to this machine only")


@router.get("/metrics", response_class=Response, dependencies=[Depends(ops_only)],
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
