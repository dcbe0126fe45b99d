"""Response and request bodies of API v1 (so that ``/openapi.json`` describes every answer)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Token(Model):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AgencyOut(Model):
    code: str
    name: str
    short_name: str
    kind: str
    region_code: str
    parent_code: str | None = None


class MeOut(Model):
    username: str
    display_name: str
    agency: AgencyOut | None
    roles: list[str]


class TaskOut(Model):
    id: str
    instance_id: int
    complaint_id: int | None
    task_name: str
    title: str
    process_id: str
    lane: str | None
    agency_code: str | None
    assignee: str | None
    deadline_rule: str | None
    due_at: datetime | None
    provisional: bool
    overdue: bool
    suspended: bool
    created_at: datetime


class TaskDetail(TaskOut):
    form: dict[str, Any] | None
    data: dict[str, Any]


class TaskPage(Model):
    items: list[TaskOut]
    total: int


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class DesignateIn(BaseModel):
    """指定管辖: the child regulator (agency code) to handle the complaint, and why."""

    model_config = ConfigDict(extra="forbid")
    agency: str = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=500)


class DesignationOut(Model):
    complaint_id: int
    from_agency: str
    to_agency: str
    tasks: list[str]


class NextTask(Model):
    id: str
    task_name: str
    title: str
    agency_code: str | None
    lane: str | None
    due_at: datetime | None


class CompletionOut(Model):
    instance_id: int
    instance_status: str
    next_tasks: list[NextTask]


class SubmittedOut(Model):
    id: int
    tracking_no: str
    tracking_code: str
    status: str
    process_instance_id: int


class StaffSubmittedOut(SubmittedOut):
    """What staff get back: also the tasks the complaint opened (the public form gets no task ids)."""

    next_tasks: list[NextTask]


class ComplaintSummary(Model):
    id: int
    tracking_no: str
    kind: str
    status: str
    category: str
    subject: str
    received_at: datetime
    received_by: str
    competent_agency: str | None
    complainant_name: str
    complainant_phone: str
    business_name: str


class ComplaintPage(Model):
    items: list[ComplaintSummary]
    total: int


class CaseOut(Model):
    id: int
    case_no: str
    agency_code: str
    complaint_id: int | None
    process_instance_id: int | None
    status: str
    decision: str | None
    filed_at: datetime
    decided_at: datetime | None


class AgencyRef(Model):
    code: str
    name: str


class ComplaintDetail(ComplaintSummary):
    complainant_id_number: str | None
    complainant_email: str | None
    business_region_code: str
    business_address: str | None
    business_uscc: str | None
    business_platform: str | None
    business_platform_uscc: str | None = None
    platform_regulator: AgencyRef | None = Field(
        default=None, description="the market regulator where the platform operator is registered (Order 20 art. 12)")
    description: str
    amount: str | None
    occurred_on: date | None
    process_instance_id: int | None
    involved_agencies: dict[str, str]
    current_tasks: list[TaskOut]
    cases: list[CaseOut]
    archived_at: datetime | None = Field(default=None, description="when the case file (卷宗) was archived")
    archive_sha256: str | None = Field(default=None, description="the SHA-256 of the archived case file (ZIP)")


class ArchivedOut(Model):
    complaint_id: int
    archived_at: datetime
    sha256: str
    size: int


class EventOut(Model):
    id: int
    at: datetime
    actor: str
    action: str
    task_id: str | None
    details: dict[str, Any]


class TimerOut(Model):
    task_name: str
    fire_at: datetime


class InstanceOut(Model):
    id: int
    spec_key: str
    spec_version: int
    status: str
    version: int
    complaint_id: int | None
    open_tasks: list[TaskOut]
    pending_timers: list[TimerOut]


class WorkflowVersionOut(Model):
    key: str
    version: int
    filename: str
    sha256: str
    uploaded_by: str | None
    uploaded_at: datetime
    deployed: bool


class IssueOut(Model):
    element_id: str | None
    element_name: str | None
    message: str
    line: int | None = Field(None, description="1-based line in the file; the only pointer for nodes without an id")


class ValidationOut(Model):
    valid: bool
    errors: list[IssueOut]


class DueOut(Model):
    start: datetime
    period: str
    due_at: datetime
    last_day: date
    provisional: bool


class NoticeOut(Model):
    id: int
    template: str
    subject: str
    body: str
    complaint_id: int | None
    created_at: datetime
    read: bool


class PublicMilestone(Model):
    at: datetime
    label: str = Field(description="what happened, in Chinese, e.g. 「受理审查」已完成：受理")
    agency: str | None = Field(description="the agency that did it, by name")


class PublicOffer(Model):
    offer: str = Field(description="the settlement the business offers, in its own words")
    explanation: str | None = Field(description="the business's explanation")
    offered_at: datetime
    answer_by: datetime | None = Field(description="the last instant to answer; later, the complaint goes on to "
                                                   "the regulator's acceptance review")


class PublicStatus(Model):
    tracking_no: str
    kind: str
    status: str
    received_at: datetime
    updated_at: datetime
    kind_label: str = Field(description="投诉 · 举报 · 咨询")
    stage: str = Field(description="status, made more telling by the open task (pending_acceptance while the "
                                   "acceptance decision is due)")
    status_label: str = Field(description="stage in Chinese, e.g. 待受理")
    handling_agency: str | None = Field(description="the name of the agency working the complaint")
    next_step: str = Field(description="what happens next and by when, a Chinese sentence")
    next_due_at: datetime | None = Field(description="the last instant of the next step's deadline")
    history: list[PublicMilestone] = Field(description="milestones, oldest first; no personal data")
    pending_offer: PublicOffer | None = Field(
        default=None, description="the business's settlement offer awaiting the complainant's answer (online "
                                  "dispute resolution): answer it with POST …/decision")


class OfferAnswer(Model):
    """The complainant's answer to a settlement offer."""

    model_config = ConfigDict(extra="forbid")
    accept: bool = Field(description="true: accept the offer (the complaint is settled); false: decline it "
                                     "(the regulator reviews the complaint)")


# ---- businesses as parties: their own users' view, and the administrators' -----------------------------


class BusinessComplaintSummary(Model):
    """A complaint against the business, as its own users see it in a list: the complainant's name, phone and
    e-mail masked, and no ID number at all."""

    id: int
    tracking_no: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    category: str
    category_label: str
    subject: str
    received_at: datetime
    complainant_name: str = Field(description="masked, e.g. 张*")
    complainant_phone: str = Field(description="masked, e.g. 138****5678")


class BusinessComplaintPage(Model):
    items: list[BusinessComplaintSummary]
    total: int


class BusinessComplaintDetail(BusinessComplaintSummary):
    complainant_email: str | None = Field(description="masked")
    handling_agency: str | None = Field(description="the competent regulator, by name")
    business_name: str = Field(description="the business as the complaint names it")
    business_address: str | None
    business_platform: str | None
    description: str
    amount: str | None
    occurred_on: date | None


class BusinessOut(Model):
    id: int
    uscc: str | None
    name: str
    region_code: str
    address: str | None
    odr: bool = Field(description="enrolled in online dispute resolution (在线纠纷解决)")
    created_at: datetime


class BusinessListOut(Model):
    items: list[BusinessOut]
    total: int


class BusinessIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=2, max_length=200, pattern=r"^[^\x00]+$")
    region_code: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code where the business operates")
    uscc: str | None = Field(default=None, max_length=30, pattern=r"^[^\x00]*$",
                             description="统一社会信用代码 (checksum verified)")
    address: str | None = Field(default=None, max_length=300, pattern=r"^[^\x00]*$")
    odr: bool = False


class BusinessPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(default=None, min_length=2, max_length=200, pattern=r"^[^\x00]+$")
    address: str | None = Field(default=None, max_length=300, pattern=r"^[^\x00]*$")
    odr: bool | None = None
