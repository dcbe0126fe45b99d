"""The Chinese label of every field, parameter and header a request may get wrong, for the messages of a
422 (``web.errors``): 「理由不能为空」, not "reason: Field required".

A key missing here is named by itself (「“colour”」), so a new parameter never breaks an answer; add its
label when you add the parameter. The complaint body's labels live with intake
(``agencies.input_messages.COMPLAINT_LABELS``), which words that body's errors itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agencies.input_messages import COMPLAINT_LABELS, label_of

LABELS: dict[str, str] = {
    **COMPLAINT_LABELS,
    "body": "请求体",
    "data": "表单数据",
    "reason": "理由",
    "file": "文件",
    "files": "证据材料",
    "note": "说明",
    "username": "用户名",
    "password": "密码",
    "csrf_token": "表单令牌",
    "next": "返回地址",
    "grant_type": "授权类型",
    "scope": "授权范围",
    "client_id": "客户端标识",
    "client_secret": "客户端密钥",
    # lists and filters
    "limit": "每页条数",
    "offset": "起始位置",
    "page": "页码",
    "filter": "筛选条件",
    "status": "状态",
    "q": "查询词",
    "received_from": "受理日期起",
    "received_to": "受理日期止",
    "assignee": "办理人",
    "overdue": "是否超期",
    "unread": "仅看未读",
    "complaint_id": "投诉件编号",
    # ids in the path
    "task_id": "任务编号",
    "case_id": "案件编号",
    "instance_id": "流程实例编号",
    "notice_id": "通知编号",
    "tracking_no": "投诉编号",
    "key": "流程标识",
    "version": "版本号",
    "year": "年份",
    # public status lookup
    "code": "代码",
    "query.code": "查询码",
    "accept": "是否接受和解方案",
    # the deadline calculator and rules
    "start": "起算时间",
    "period": "期限",
    "name": "名称",
    "valid_from": "生效日期",
    "extension": "延长期限",
    "source": "依据",
    "holidays": "节假日",
    "workdays": "调休工作日",
    # workflows
    "filename": "文件名",
    "from": "原版本",
    "to": "目标版本",
    "from_version": "原版本",
    "to_version": "目标版本",
    "instance_ids": "流程实例",
    "dry_run": "是否试运行",
    # agencies and users
    "short_name": "简称",
    "region_code": "行政区划代码",
    "parent": "上级单位",
    "active": "是否启用",
    "display_name": "姓名",
    "agency": "所属单位",
    "roles": "角色",
    "email": "电子邮箱",
    # businesses
    "uscc": "统一社会信用代码",
    "address": "地址",
    "odr": "是否参加在线纠纷解决",
    # headers
    "Idempotency-Key": "幂等键",
    "X-Request-ID": "请求编号",
}


def label(loc: tuple[Any, ...] | list[Any], labels: Mapping[str, str] = LABELS) -> str:
    """The Chinese label of a pydantic error location such as ``("body", "reason")`` or
    ``("query", "limit")``: where a key means different things (``code``: an agency's code in a body, the
    complainant's 查询码 in the public lookup's query), the location decides."""
    parts = [str(part) for part in loc]
    if not parts:
        return labels["body"]
    if len(parts) == 2 and ".".join(parts) in labels:
        return labels[".".join(parts)]
    named = parts[1:] if parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1 else parts
    return label_of(".".join(named), labels)
