"""The BPMN editor (``/admin/workflows/{key}/versions/{n}``): the version in bpmn-js's modeler with a
panel for the product's extensions (pool agency, lane role, deadline rule, form, timer rule), checked by
the upload's validator, saved as a new version. Administrators only.

``web/static/editor.js`` runs the modeler. The page itself is one form: the diagram's XML travels in a
hidden textarea (filled from the modeler before the form is sent), so checking and saving are ordinary
POSTs that answer a page (303 to the new version, or this page again with the errors and the XML that
was sent, so nothing the admin drew is lost); the script asks for the errors as JSON to pin them on the
diagram without leaving the page. Deploying, diffing and the version list are the workflow list pages'.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, RedirectResponse, Response

from engine.errors import EngineError, InvalidWorkflow
from web import workflow_editing as editing
from web.deps import Id, Key, ProductDep, SessionDep
from web.form_fields import chinese_part
from web.pages.render import admin_refusal, error_page, page, stale_form, to_login
from web.pages.sessions import SignedIn, SignedInDep, same_token

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
PATH = "/admin/workflows/{key}/versions/{version}"
NOT_FOUND = "未找到该流程版本，请从流程列表重新打开。"
COMMENT_MISSING = "请填写修改说明"
COMMENT_TOO_LONG = f"修改说明不能超过 {editing.MAX_COMMENT} 字"


def _admin(request: Request, me: SignedIn | None) -> SignedIn | Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None  # admin_refusal answered for nobody signed in
    return me


def posted_xml(xml: str) -> str:
    """The XML as it was drawn: a browser sends a textarea's line breaks as CRLF, which would make an
    unchanged file look new (XML reads both the same)."""
    return xml.replace("\r\n", "\n")


def _href(key: str, version: int) -> str:
    return f"/admin/workflows/{key}/versions/{version}"


def _editor(request: Request, me: SignedIn, session: Session, info: editing.VersionInfo, *, xml: str,
            problems: list[editing.Problem] | None = None, comment: str = "", comment_error: str | None = None,
            notice: str | None = None, notice_kind: str = "success", status: int = 200) -> Response:
    href = _href(info.key, info.version)
    compare_default = next((n for n in info.others if n < info.version), info.others[0] if info.others else None)
    context: dict[str, Any] = {
        "info": info, "xml": xml, "href": href, "problems": problems, "comment": comment,
        "comment_error": comment_error, "notice": notice, "notice_kind": notice_kind,
        "rules": editing.rule_choices(session), "roles": editing.ROLE_CHOICES,
        "compare_default": compare_default, "max_comment": editing.MAX_COMMENT,
    }
    return page(request, "workflow_editor.html", me, status, nav="workflows", **context)


@router.get(PATH)
def editor(request: Request, session: SessionDep, me: SignedInDep, key: Key, version: Id,
           saved: str | None = None, same: str | None = None) -> Response:
    who = _admin(request, me)
    if isinstance(who, Response):
        return who
    info = editing.read_version(session, key, version)
    if info is None:
        return error_page(request, who, 404, "流程版本不存在", NOT_FOUND, "/admin/workflows", "返回流程列表")
    notice = None
    if saved is not None:
        notice = f"已保存为第 {info.version} 版"
    elif same is not None:
        notice = f"内容与第 {info.version} 版相同，未保存新版本"
    return _editor(request, who, session, info, xml=info.xml, notice=notice,
                   notice_kind="success" if saved is not None else "info")


def _posted_to(request: Request, session: Session, me: SignedIn | None, key: str, version: int, csrf_token: str,
               wants_json: bool = False) -> tuple[SignedIn, editing.VersionInfo] | Response:
    """What both POSTs of the editor check first: an administrator, a version that exists, the session's
    CSRF token; the admin and the version, or the refusal to send."""
    who = _admin(request, me)
    if isinstance(who, Response):
        return who
    info = editing.read_version(session, key, version)
    if info is None:
        return error_page(request, who, 404, "流程版本不存在", NOT_FOUND, "/admin/workflows", "返回流程列表")
    if not same_token(who.session.csrf, csrf_token):
        if wants_json:
            return JSONResponse({"detail": "请求已失效，请刷新页面后重试"}, status_code=403)
        return stale_form(request, who, _href(key, version))
    return who, info


@router.post(PATH + "/validate")
def validate(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, key: Key, version: Id,
             xml: FormText = "", csrf_token: FormText = "", comment: FormText = "") -> Response:
    """Check the diagram as sent; the script asks for JSON (``Accept: application/json``)."""
    wants_json = "application/json" in request.headers.get("accept", "")
    if me is None:
        return JSONResponse({"detail": "未登录或登录已过期"}, status_code=401) if wants_json else to_login(request)
    opened = _posted_to(request, session, me, key, version, csrf_token, wants_json)
    if isinstance(opened, Response):
        return opened
    who, info = opened
    xml = posted_xml(xml)
    problems = editing.check(session, product, xml.encode("utf-8"), key)
    if wants_json:
        return JSONResponse({"valid": not problems, "errors": [p.as_dict() for p in problems]})
    return _editor(request, who, session, info, xml=xml, problems=problems, comment=comment,
                   notice=None if problems else "校验通过，未发现错误",
                   status=422 if problems else 200)


@router.post(PATH + "/save")
def save(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, key: Key, version: Id,
         xml: FormText = "", comment: FormText = "", csrf_token: FormText = "") -> Response:
    """Save the diagram as the next version (PRG); errors: this page again, nothing stored."""
    opened = _posted_to(request, session, me, key, version, csrf_token)
    if isinstance(opened, Response):
        return opened
    who, info = opened
    xml = posted_xml(xml)
    comment = comment.strip()
    comment_error = (COMMENT_MISSING if not comment else
                     COMMENT_TOO_LONG if len(comment) > editing.MAX_COMMENT or "\x00" in comment else None)
    problems = editing.check(session, product, xml.encode("utf-8"), key)
    if comment_error or problems:
        return _editor(request, who, session, info, xml=xml, problems=problems or None, comment=comment[:2000],
                       comment_error=comment_error, status=422)
    try:
        saved = editing.save(product, xml.encode("utf-8"), key, version, who.principal.actor, comment)
    except InvalidWorkflow as exc:  # refused between the check and the save (a message's catcher undeployed)
        problems = editing.problems_of(exc)
        return _editor(request, who, session, info, xml=xml, problems=problems, comment=comment, status=422)
    except EngineError as exc:
        problems = [editing.Problem(None, None, chinese_part(str(exc)))]
        return _editor(request, who, session, info, xml=xml, problems=problems, comment=comment, status=422)
    flag = "saved=1" if saved.created else "same=1"
    return RedirectResponse(f"{_href(key, saved.version)}?{flag}", status_code=303)
