"""A complaint's history as people read it: each audit event as one Chinese sentence, oldest first.

The events come from ``web.queries.events`` (personal data the viewing agency may not see is already
masked there); this module only puts them into words: who (display name and agency, or 系统 for the
engine and the scheduler), when (China time), what (the task by its title, the reason people gave).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agencies.tables import Complaint
from engine.clock import SHANGHAI
from web import queries

# actors that are not people: the engine's own transitions, the deadline sweep, the scheduler
MACHINE_ACTORS = frozenset({"system", "sweep", "scheduler"})
DEADLINE_STEPS = {"reminder": "期限提醒", "overdue": "已超期，已通知办理人和负责人",
                  "escalation": "超期未办，已报上级机关督办"}
PROCESSES = {"complaint_handling": "投诉处理流程", "case_conversion": "诉转案流程"}


@dataclass(frozen=True)
class Entry:
    at: str  # 2026年11月18日 09:30
    iso: str  # for <time datetime=…>
    who: str  # 张三（太和县市场监督管理局）, or 系统
    what: str  # 完成「受理审查」
    note: str  # the reason given (suspending, resuming), or empty


def when(value: datetime) -> str:
    local = value.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _title(details: Mapping[str, Any]) -> str:
    title = details.get("title") or details.get("task") or "任务"
    return f"「{title}」"


def describe(action: str, details: Mapping[str, Any], task_title: str, names: Mapping[str, str]) -> tuple[str, str]:
    """(what happened, a note) for one audit event; an action this module does not know is shown by its
    code rather than dropped, so the history never hides a step."""
    reason = str(details.get("reason") or "")
    if action == "instance.started":
        return f"启动{PROCESSES.get(str(details.get('spec')), '办理流程')}", ""
    if action == "task.completed":
        return f"完成{_title(details)}", ""
    if action == "task.claimed":
        return f"领取{task_title}", ""
    if action == "task.released":
        return f"释放{task_title}", ""
    if action == "task.assigned":
        after = details.get("after")
        assignee = after.get("assignee") if isinstance(after, Mapping) else None
        return f"将{task_title}转交给{names.get(str(assignee), str(assignee or ''))}", ""
    if action == "task.suspended":
        return f"暂停{task_title}计时", reason
    if action == "task.resumed":
        return f"恢复{task_title}计时", reason
    if action == "task.deadline_recomputed":
        return f"重新计算{task_title}期限", ""
    if action.startswith("deadline."):
        step = action.removeprefix("deadline.")
        if details.get("skipped"):
            return f"{task_title}{DEADLINE_STEPS.get(step, step)}（未执行：任务已办结、暂停或期限已变更）", ""
        return f"{task_title}{DEADLINE_STEPS.get(step, step)}", ""
    if action == "message.received":
        return "收到其他流程的消息", ""
    if action == "timers.fired":
        return "期限届满，流程按期限继续", ""
    if action == "instance.migrated":
        return "流程升级到新版本", ""
    return action, ""


def timeline_for(session: Session, complaint: Complaint, agency_id: int) -> list[Entry]:
    """The complaint's history for a page of the given agency (two more reads by key: the actors' names
    and agencies, the titles of tasks still open)."""
    events = queries.events(session, complaint, agency_id)
    usernames = {e["actor"] for e in events} | {
        str(e["details"]["after"].get("assignee")) for e in events
        if e["action"] == "task.assigned" and isinstance(e["details"].get("after"), Mapping)}
    users = queries.users_with_agency(session, usernames)
    names = {username: display for username, (display, _agency) in users.items()}
    # a task is named by the title its completion recorded, or while it is open by the task index's
    titles = {e["task_id"]: f"「{e['details']['title']}」" for e in events
              if e["action"] == "task.completed" and e["task_id"] and e["details"].get("title")}
    still_open = {e["task_id"] for e in events if e["task_id"] and e["task_id"] not in titles}
    titles.update({task_id: f"「{title}」" for task_id, title in queries.open_task_titles(session, still_open).items()})
    entries = []
    for event in events:
        what, note = describe(event["action"], event["details"], titles.get(event["task_id"], "任务"), names)
        actor = event["actor"]
        if actor in users:
            display, agency = users[actor]
            who = f"{display}（{agency}）" if agency else display
        else:
            who = "系统" if actor in MACHINE_ACTORS else actor
        entries.append(Entry(when(event["at"]), event["at"].isoformat(), who, what, note))
    return entries
