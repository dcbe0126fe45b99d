"""Rendering the pages: one Jinja2 environment (autoescaped), the frame's context, error pages.

Templates live in ``web/templates/``; they only loop and branch, everything they show is prepared
here or by the page handlers (dates already in words, roles in Chinese, names masked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from engine.clock import chinese_date
from web.form_fields import chinese_part
from web.pages.sessions import SESSION_COOKIE, SignedIn, end_session_cookie

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PRODUCT_NAME = "消费投诉多部门协同办理平台"
ROLE_NAMES = {"liaison": "联络员", "supervisor": "负责人", "enforcement": "执法人员", "admin": "管理员",
              "business": "经营者"}


def chinese(message: str) -> str:
    """The Chinese part of a bilingual message (``中文 / English``, as the API's domain errors are written):
    a page shows people the Chinese alone."""
    return chinese_part(message)


# StrictUndefined: a name the handler forgot fails the test that renders the page, not silently blank
_environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True)
_environment.filters["chinese_date"] = chinese_date
templates = Jinja2Templates(env=_environment)


def is_business(me: SignedIn) -> bool:
    """A business's own user (role ``business``): works its business's tasks, sees only its complaints."""
    user = me.principal.user
    return user.business_id is not None and "business" in user.roles


def frame(me: SignedIn | None) -> dict[str, Any]:
    """What the frame (header, navigation, logout form) of every signed-in page shows: the user's agency, or
    for a business's own user the business's name."""
    if me is None:
        return {"me": None, "csrf_token": ""}
    user = me.principal.user
    business = is_business(me)
    return {"me": {"display_name": user.display_name,
                   "agency_name": user.agency_name or "",
                   "staff": me.principal.is_staff, "business": business,
                   "roles": "、".join(ROLE_NAMES.get(role, role) for role in user.roles),
                   "supervisor": "supervisor" in user.roles, "admin": "admin" in user.roles, "unread": me.unread},
            "csrf_token": me.session.csrf}


def page(request: Request, template: str, me: SignedIn | None, status: int = 200, **context: Any) -> HTMLResponse:
    values = {"product_name": PRODUCT_NAME, "nav": None, **frame(me), **context}
    return templates.TemplateResponse(request, template, values, status_code=status)


def error_page(request: Request, me: SignedIn | None, status: int, title: str, message: str,
               back: str, back_label: str = "返回") -> HTMLResponse:
    return page(request, "error.html", me, status, title=title, message=message, back=back, back_label=back_label)


def stale_form(request: Request, me: SignedIn | None, back: str) -> HTMLResponse:
    """403 for a POST whose CSRF token is missing or wrong: a form from another site, or one kept open
    past its session."""
    return error_page(request, me, 403, "请求已失效",
                      "页面已过期，或无法确认该请求来自本系统的页面，操作未执行。请返回后重新操作。", back)


ADMIN_ONLY = "该页面仅供系统管理员使用。如需修改流程，请联系系统管理员。"


def staff_only(request: Request, me: SignedIn, title: str, what: str) -> HTMLResponse:
    """403 for a staff page opened by someone of no agency: a business's user is sent to its own
    complaints, the administrator to the workflows. ``what``: what the page would have done (查询投诉件)."""
    if is_business(me):
        return error_page(request, me, 403, title, f"经营者账号不能{what}，只能查看和答复本单位被投诉的投诉件。",
                          "/business/complaints", "查看本单位投诉件")
    return error_page(request, me, 403, title,
                      f"系统管理员账号不属于任何机构，不能{what}。请使用承办机构工作人员的账号登录。",
                      "/admin/workflows", "前往流程管理")


def admin_refusal(request: Request, me: SignedIn | None) -> Response | None:
    """The answer of an admin page to anyone but an administrator (sign in first, or 403), else ``None``."""
    if me is None:
        return to_login(request)
    if "admin" not in me.principal.user.roles:
        return error_page(request, me, 403, "无权访问", ADMIN_ONLY, "/", "返回首页")
    return None


def admin_json_refusal(me: SignedIn | None) -> Response | None:
    """The same for the JSON a script of an admin page fetches (401 or 403), else ``None``."""
    if me is None:
        return JSONResponse({"detail": "未登录或登录已过期"}, status_code=401)
    if "admin" not in me.principal.user.roles:
        return JSONResponse({"detail": ADMIN_ONLY}, status_code=403)
    return None


def to_login(request: Request) -> Response:
    """303 to the sign-in page, which comes back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse("/login?next=" + quote(here, safe="/"), status_code=303)
    if SESSION_COOKIE in request.cookies:  # expired, ended or forged: forget it
        end_session_cookie(response, request)
    return response


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to after signing in, or ``None``: never another origin
    (``//host``, ``/\\host``, ``https:…``) nor a value with control characters."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or len(target) > 2000:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return None
    return target
