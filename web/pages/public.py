"""The public pages: submit a complaint (``/public/complaints/new``), track it (``/public/track``) and
answer a business's settlement offer there (``/public/track/decision``).

No sign-in. The forms carry a CSRF token checked against a short-lived signed cookie of their own
(double submit, the sign-in form's tokens from ``web.pages.sessions``). What they do goes through the
same service functions and per-address limits as ``POST /api/v1/public/complaints`` and
``GET /api/v1/public/complaints/{tracking_no}``.

The tracking code is a secret shown once: it must never sit in a URL (URLs land in access logs,
browser history and ``Referer`` headers). So the complaint form posts, and on success answers 303 to a
result page that reads the number and code from a signed, HttpOnly cookie scoped to that one path and
living ``RESULT_MINUTES`` (PRG: a reload shows the result again instead of offering to post twice;
every page answer is ``no-store``). The tracking form posts its number and code for the same reason
and answers on the POST itself: a lookup changes nothing, so there is nothing to redirect away from.

A double click, or a retry after a lost connection, must not lose the code: each rendered form
carries a fresh ``Idempotency-Key`` (``submission_key``), so a repeat gets the first answer again,
code included, instead of the "already received" refusal.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agencies.attachments import MAX_FILES_AT_INTAKE, FileTooLarge
from agencies.complaints import find_by_tracking
from agencies.documents import complainant_document, complaint_documents
from agencies.odr import Offer, pending_offer
from agencies.public_status import PublicView, public_view
from agencies.service_area import served_regions
from agencies.submission_keys import HEADER as IDEMPOTENCY_HEADER
from agencies.submission_keys import DuplicateSubmission
from agencies.tables import Complaint
from agencies.tracking import normalize_tracking_no
from complaintflow import rate_limits
from complaintflow.services import attachments, limits, odr
from complaintflow.services import complaints as intake
from complaintflow.wiring import Product
from engine.clock import SHANGHAI, chinese_date
from engine.errors import Conflict, InvalidInput
from web.deps import ProductDep, SessionDep, client_address
from web.pages import complaint_form, sessions
from web.pages.complaint_documents import pdf_response
from web.pages.render import page
from web.security import ALGORITHM
from web.uploads import read_upload

router = APIRouter(include_in_schema=False)

FORM_COOKIE = "cf_public"  # the CSRF token of the public forms (double submit)
FORM_COOKIE_PATH = "/public"
RESULT_COOKIE = "cf_submitted"
RESULT_PATH = "/public/complaints/submitted"
RESULT_MINUTES = 10
RESULT_AUDIENCE = "complaintflow:public-submitted"
MAX_TRACKING_INPUT = 40  # as the API's path and query parameters

STALE = "页面已过期，或无法确认该请求来自本网站的页面，本次未提交。请核对以下内容后再次提交。"
TOO_MANY_SUBMISSIONS = "同一网络在一小时内提交的投诉已达上限，本次未提交，请稍后再试。"
TOO_MANY_LOOKUPS = "查询过于频繁，请稍后再试。"
NOT_FOUND = "投诉编号或查询码不正确，请核对后重新输入。"
NO_OFFER = "当前没有待您确认的和解方案：您可能已经作出选择，或者在线和解期限已经届满。请查看下方的办理进程。"
ANSWER_SAID = {True: "您已接受经营者的和解方案，双方和解，本投诉办结。",
               False: "您未接受经营者的和解方案，本投诉转由市场监管部门依法审查是否受理。"}
ANSWERED_COOKIE = "cf_answered"
ANSWERED_PATH = "/public/track"
ANSWERED_AUDIENCE = "complaintflow:public-answered"


@dataclass(frozen=True)
class Notice:
    kind: str  # warning · error (the css class)
    title: str
    text: str
    tracking_no: str | None = None


# ---- the form token (CSRF) ----------------------------------------------------------------------


def _form_token(request: Request, product: Product) -> tuple[str, str | None]:
    """(the token the form carries, a new cookie to set or ``None``): a token still valid is kept, so
    that two open tabs and a form sent back with errors keep working."""
    now = product.clock.now()
    token = sessions.read_login_form(request.cookies.get(FORM_COOKIE), product.secret_key, now)
    if token is not None:
        return token, None
    cookie, token = sessions.issue_login_form(product.secret_key, now)
    return token, cookie


def _genuine(request: Request, product: Product, posted: str) -> bool:
    expected = sessions.read_login_form(request.cookies.get(FORM_COOKIE), product.secret_key, product.clock.now())
    return expected is not None and sessions.same_token(expected, posted)


def _render(request: Request, product: Product, template: str, status: int = 200, **context: Any) -> Response:
    token, cookie = _form_token(request, product)
    response = page(request, template, None, status, csrf_token=token, **context)
    if cookie is not None:
        response.set_cookie(FORM_COOKIE, cookie, max_age=sessions.LOGIN_FORM_MINUTES * 60, path=FORM_COOKIE_PATH,
                            httponly=True, samesite="lax", secure=sessions.is_https(request))
    return response


# ---- the result cookie ---------------------------------------------------------------------------


def _result_cookie(product: Product, tracking_no: str, code: str) -> str:
    expires = product.clock.now() + timedelta(minutes=RESULT_MINUTES)
    return jwt.encode({"aud": RESULT_AUDIENCE, "no": tracking_no, "code": code,
                       "exp": int(expires.timestamp())}, product.secret_key, algorithm=ALGORITHM)


def _read_result(product: Product, value: str | None) -> tuple[str, str] | None:
    """(tracking number, code) of an unexpired result cookie signed by us (expiry on the product clock)."""
    if not value:
        return None
    try:
        payload = jwt.decode(value, product.secret_key, algorithms=[ALGORITHM], audience=RESULT_AUDIENCE,
                             options={"verify_exp": False, "require": ["aud", "no", "code", "exp"]})
        unexpired = int(payload["exp"]) > product.clock.now().timestamp()
    except (jwt.PyJWTError, TypeError, ValueError):
        return None
    return (str(payload["no"]), str(payload["code"])) if unexpired else None


def _forget_result(response: Response, request: Request) -> None:
    response.delete_cookie(RESULT_COOKIE, path=RESULT_PATH, httponly=True, samesite="strict",
                           secure=sessions.is_https(request))


# ---- submitting -----------------------------------------------------------------------------------


def _complaint_page(request: Request, product: Product, session: SessionDep, values: dict[str, str],
                    errors: complaint_form.FormErrors | None = None, *, key: str | None = None,
                    notice: Notice | None = None, status: int = 200) -> Response:
    form = complaint_form.context(values, errors or complaint_form.FormErrors(), served_regions(session), staff=False)
    return _render(request, product, "public_new.html", status, public_nav="new", notice=notice,
                   submission_key=key or secrets.token_urlsafe(24), staff_form=False, **form)


@router.get("/public/complaints/new")
def new_complaint(request: Request, product: ProductDep, session: SessionDep) -> Response:
    return _complaint_page(request, product, session, complaint_form.blank(staff=False))


@router.post("/public/complaints/new")
async def submit_complaint(request: Request, product: ProductDep, session: SessionDep) -> Response:
    try:  # evidence files (multipart): never more read than their size limit allows
        form = await read_upload(request, attachments.size_limit(product), max_files=MAX_FILES_AT_INTAKE)
    except FileTooLarge as refused:
        return await run_in_threadpool(_complaint_page, request, product, session, complaint_form.blank(staff=False),
                                       complaint_form.evidence_refused(refused.message), status=413)
    values = complaint_form.values_of(form.fields, staff=False)
    files = form.files.get(complaint_form.EVIDENCE.key, [])
    return await run_in_threadpool(
        _submit, request, product, session, values, form.text("submission_key"), form.text("csrf_token"), files)


def _submit(request: Request, product: Product, session: SessionDep, values: dict[str, str], key: str,
            token: str, files: list[tuple[str, bytes]] | None = None) -> Response:
    """CSRF first (nothing counted for a forged form), then the address's limit, then intake's rules."""
    files = files or []
    if not _genuine(request, product, token):
        # the form comes back filled in: whoever could forge it could as well submit it themselves
        return _complaint_page(request, product, session, values, key=key, status=403,
                               notice=Notice("error", "请求已失效", STALE))
    if not limits.admit_request(product, rate_limits.PUBLIC_INTAKE, client_address(request)):
        return _complaint_page(request, product, session, values, key=key, status=429,
                               notice=Notice("error", "提交过于频繁", TOO_MANY_SUBMISSIONS))
    payload, errors = complaint_form.check(values, product.clock.now(), staff=False)
    if errors:
        return _complaint_page(request, product, session, values, errors, key=key, status=422)
    try:
        submitted = _submit_once_more_if_key_spent(product, payload, key, files)
    except InvalidInput as exc:
        return _complaint_page(request, product, session, values, complaint_form.refused(exc.errors, staff=False),
                               key=key, status=422)
    except DuplicateSubmission as exc:
        return _complaint_page(request, product, session, values, key=key, status=409, notice=Notice(
            "warning", "该投诉已经收到",
            "相同内容的投诉已在 24 小时内收到，请勿重复提交。请凭首次提交时得到的查询码查询办理进度。",
            exc.tracking_no))
    if isinstance(submitted, intake.Replayed):
        tracking_no, code = str(submitted.response["tracking_no"]), str(submitted.response["tracking_code"])
    else:
        tracking_no, code = submitted.complaint.tracking_no, submitted.tracking_code
    response = RedirectResponse(RESULT_PATH, status_code=303)
    response.set_cookie(RESULT_COOKIE, _result_cookie(product, tracking_no, code),
                        max_age=RESULT_MINUTES * 60, path=RESULT_PATH, httponly=True, samesite="strict",
                        secure=sessions.is_https(request))
    return response


def _submit_once_more_if_key_spent(product: Product, payload: dict[str, Any], key: str,
                                   files: list[tuple[str, bytes]]) -> intake.Submitted | intake.Replayed:
    """Submit under the form's key; a key already spent on another body (the form was edited after a
    success and sent again with the back button) or not a valid key is no reason to refuse a
    complaint: it goes in under a fresh one, still subject to the duplicate rule."""
    try:
        return intake.submit(product, payload, None, idempotency_key=key or None, files=files)
    except InvalidInput as exc:
        if not any(error.field == IDEMPOTENCY_HEADER for error in exc.errors):
            raise
    return intake.submit(product, payload, None, idempotency_key=secrets.token_urlsafe(24), files=files)


@router.get(RESULT_PATH)
def submitted(request: Request, product: ProductDep, session: SessionDep) -> Response:
    """The tracking number and code of the complaint this browser just submitted, and what happens next."""
    found = _read_result(product, request.cookies.get(RESULT_COOKIE))
    complaint = (find_by_tracking(session, found[0], found[1], tracking_key=product.tracking_key)
                 if found is not None else None)
    if found is None or complaint is None:
        return _render(request, product, "public_submitted.html", public_nav="new", result=None, view=None,
                       minutes=RESULT_MINUTES)
    view = public_view(session, complaint, product.runner.specs)
    result = {"tracking_no": found[0], "tracking_code": found[1], "kind_label": view.kind_label}
    return _render(request, product, "public_submitted.html", public_nav="new", result=result,
                   view=_shown(view), minutes=RESULT_MINUTES)


# ---- tracking -------------------------------------------------------------------------------------

FormText = Annotated[str, Form()]
_CSS_WORD = re.compile(r"[^a-z0-9_-]")


def _shown(view: PublicView) -> dict[str, Any]:
    """The view with its dates in words, as the templates show them."""
    return {
        "tracking_no": view.tracking_no, "kind_label": view.kind_label, "status_label": view.status_label,
        "status_class": _CSS_WORD.sub("", view.status), "agency": view.agency, "next_step": view.next_step,
        "received_on": chinese_date(view.received_at),
        "milestones": [{"on": chinese_date(m.at), "iso": m.at.astimezone(SHANGHAI).isoformat(), "label": m.label,
                        "agency": m.agency} for m in view.milestones],
    }


def _track_page(request: Request, product: Product, *, tracking_no: str = "", status: int = 200,
                errors: dict[str, str] | None = None, notice: Notice | None = None,
                found: Tracked | None = None) -> Response:
    errors = errors or {}
    anchors = {"tracking_no": "#tracking-no", "code": "#tracking-code"}
    summary = [{"href": anchors[key], "message": message} for key, message in errors.items()]
    offer = None
    if found is not None and found.offer is not None:
        offer = {"offer": found.offer.offer, "explanation": found.offer.explanation,
                 "answer_by": chinese_date(found.offer.answer_by) if found.offer.answer_by else None,
                 "code": found.code}
    return _render(request, product, "public_track.html", status, public_nav="track", tracking_no=tracking_no,
                   errors=errors, summary=summary, notice=notice, offer=offer,
                   view=_shown(found.view) if found is not None else None,
                   documents=list(found.documents) if found is not None else [],
                   document_code=found.code if found is not None else "")


@dataclass(frozen=True)
class Tracked:
    """A complaint found by number and code: what its complainant may see, and may answer."""

    view: PublicView
    offer: Offer | None
    code: str
    documents: tuple[dict[str, Any], ...] = ()
    """The complaint's official documents (文书), each downloaded with a small POST form."""


def _tracked(session: SessionDep, product: Product, complaint: Complaint, code: str) -> Tracked:
    documents = tuple({"id": d.id, "title": d.title, "doc_no": d.doc_no, "on": chinese_date(d.created_at)}
                      for d in complaint_documents(session, complaint.id))
    return Tracked(public_view(session, complaint, product.runner.specs), pending_offer(session, complaint), code,
                   documents)


@router.get("/public/track")
def track_form(request: Request, product: ProductDep, session: SessionDep) -> Response:
    """The tracking form; after answering an offer, the complaint as it is now with what was done (read
    from a short-lived cookie of this path, deleted once shown). Coming here ends the showing of a
    submission's result in this browser (the result's cookie is not sent to this path, so it is deleted
    whether there is one or not)."""
    answered = _read_answered(product, request.cookies.get(ANSWERED_COOKIE))
    complaint = (find_by_tracking(session, answered.tracking_no, answered.code, tracking_key=product.tracking_key)
                 if answered is not None else None)
    if answered is not None and complaint is not None:
        response = _track_page(request, product, tracking_no=complaint.tracking_no,
                               notice=Notice("success", "已提交", ANSWER_SAID[answered.accept]),
                               found=_tracked(session, product, complaint, answered.code))
    else:
        response = _track_page(request, product)
    _forget_result(response, request)
    response.delete_cookie(ANSWERED_COOKIE, path=ANSWERED_PATH, httponly=True, samesite="strict",
                           secure=sessions.is_https(request))
    return response


def _refused(request: Request, product: Product, csrf_token: str, tracking_no: str, undone: str) -> Response | None:
    """A tracking-page post refused before it is looked at: a stale or forged form (403; ``undone`` says
    what did not happen), or too many lookups from this address (429); ``None`` to go on."""
    if not _genuine(request, product, csrf_token):
        return _track_page(request, product, tracking_no=tracking_no, status=403, notice=Notice(
            "error", "请求已失效", f"页面已过期，或无法确认该请求来自本网站的页面，{undone}"))
    if not limits.admit_request(product, rate_limits.PUBLIC_LOOKUP, client_address(request)):
        return _track_page(request, product, tracking_no=tracking_no, status=429,
                           notice=Notice("error", "查询过于频繁", TOO_MANY_LOOKUPS))
    return None


@router.post("/public/track/decision")
def answer_offer(request: Request, product: ProductDep, session: SessionDep, tracking_no: FormText = "",
                 code: FormText = "", accept: FormText = "", csrf_token: FormText = "") -> Response:
    """Accept or decline the business's settlement offer, then back to the tracking page (PRG): the
    number and code travel in a signed cookie of that path only, never in the URL."""
    typed_no, typed_code = tracking_no.strip()[:MAX_TRACKING_INPUT], code.strip()[:MAX_TRACKING_INPUT]
    refused = _refused(request, product, csrf_token, typed_no, "您的选择未提交。请重新查询后再作选择。")
    if refused is not None:
        return refused
    complaint = find_by_tracking(session, typed_no, typed_code, tracking_key=product.tracking_key)
    if complaint is None:
        return _track_page(request, product, tracking_no=typed_no, status=404,
                           notice=Notice("error", "未找到", NOT_FOUND))
    if accept not in ("true", "false"):
        return _track_page(request, product, tracking_no=complaint.tracking_no, status=422,
                           notice=Notice("error", "请选择", "请选择“接受”或“不接受”和解方案。"),
                           found=_tracked(session, product, complaint, typed_code))
    session.rollback()  # the service answers in its own transaction; this read is over
    try:
        odr.answer_offer(product, complaint.tracking_no, typed_code, accept == "true")
    except Conflict:
        return _track_page(request, product, tracking_no=complaint.tracking_no, status=409,
                           notice=Notice("error", "无法提交", NO_OFFER),
                           found=_tracked(session, product, complaint, typed_code))
    response = RedirectResponse("/public/track", status_code=303)
    response.set_cookie(ANSWERED_COOKIE, _answered_cookie(product, complaint.tracking_no, typed_code,
                                                          accept == "true"),
                        max_age=RESULT_MINUTES * 60, path=ANSWERED_PATH, httponly=True, samesite="strict",
                        secure=sessions.is_https(request))
    return response


@dataclass(frozen=True)
class Answered:
    tracking_no: str
    code: str
    accept: bool


def _answered_cookie(product: Product, tracking_no: str, code: str, accept: bool) -> str:
    expires = product.clock.now() + timedelta(minutes=RESULT_MINUTES)
    return jwt.encode({"aud": ANSWERED_AUDIENCE, "no": tracking_no, "code": code, "accept": accept,
                       "exp": int(expires.timestamp())}, product.secret_key, algorithm=ALGORITHM)


def _read_answered(product: Product, value: str | None) -> Answered | None:
    """What this browser just answered, from an unexpired cookie signed by us (the product clock)."""
    if not value:
        return None
    try:
        payload = jwt.decode(value, product.secret_key, algorithms=[ALGORITHM], audience=ANSWERED_AUDIENCE,
                             options={"verify_exp": False, "require": ["aud", "no", "code", "accept", "exp"]})
        unexpired = int(payload["exp"]) > product.clock.now().timestamp()
    except (jwt.PyJWTError, TypeError, ValueError):
        return None
    return Answered(str(payload["no"]), str(payload["code"]), payload["accept"] is True) if unexpired else None


@router.post("/public/track")
def track(request: Request, product: ProductDep, session: SessionDep, tracking_no: FormText = "",
          code: FormText = "", csrf_token: FormText = "") -> Response:
    """Number and code in the body, never in the URL; a wrong number and a wrong code answer alike."""
    typed = tracking_no.strip()[:MAX_TRACKING_INPUT]
    if (refused := _refused(request, product, csrf_token, typed, "本次未查询。请重新输入查询码后再查询。")) is not None:
        return refused
    errors: dict[str, str] = {}
    if not typed:
        errors["tracking_no"] = "请填写投诉编号"
    elif len(tracking_no.strip()) > MAX_TRACKING_INPUT or normalize_tracking_no(typed) is None:
        errors["tracking_no"] = "投诉编号格式不正确，应为 TS 加 16 位数字，请核对"
    if not code.strip():
        errors["code"] = "请填写查询码"
    elif len(code.strip()) > MAX_TRACKING_INPUT:
        errors["code"] = "查询码不正确，请核对"
    if errors:
        return _track_page(request, product, tracking_no=typed, status=422, errors=errors)
    complaint = find_by_tracking(session, typed, code.strip(), tracking_key=product.tracking_key)
    if complaint is None:
        return _track_page(request, product, tracking_no=typed, status=404, notice=Notice("error", "未找到", NOT_FOUND))
    return _track_page(request, product, tracking_no=complaint.tracking_no,
                       found=_tracked(session, product, complaint, code.strip()))


@router.post("/public/track/document")
def download_document(request: Request, product: ProductDep, session: SessionDep, tracking_no: FormText = "",
                      code: FormText = "", document_id: FormText = "", csrf_token: FormText = "") -> Response:
    """One of the complainant's documents as PDF: number, code and document in the body, never in the URL;
    counted against the lookup limit; a wrong number, code or document answers alike (the tracking page)."""
    typed_no, typed_code = tracking_no.strip()[:MAX_TRACKING_INPUT], code.strip()[:MAX_TRACKING_INPUT]
    if (refused := _refused(request, product, csrf_token, typed_no, "文书未下载。请重新查询后再下载。")) is not None:
        return refused
    wanted = int(document_id) if document_id.isdigit() and len(document_id) <= 18 else 0
    document = complainant_document(session, wanted, typed_code, tracking_key=product.tracking_key,
                                    tracking_no=typed_no)
    if document is None:
        return _track_page(request, product, tracking_no=typed_no, status=404,
                           notice=Notice("error", "未找到", NOT_FOUND))
    return pdf_response(session, product, document)
