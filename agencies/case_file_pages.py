"""The pages of a case file (卷宗) as PDF: the index (卷内目录), the complaint's facts (案件信息) and its
handling record (办理记录), each a small HTML page rendered by WeasyPrint with a Chinese font embedded.

Rendering is deterministic: the PDF's creation date is the archive time given, so the same content renders
to the same bytes. Every text is escaped here; callers pass plain strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from agencies.pdf import Rendered, render
from engine.clock import SHANGHAI, chinese_date

FONT = "Noto Serif CJK SC"
STYLE = f"""
@page {{ size: A4; margin: 20mm 18mm; @bottom-center {{ content: "第 " counter(page) " 页 共 " counter(pages) " 页";
         font-family: '{FONT}'; font-size: 9pt; }} }}
body {{ font-family: '{FONT}', serif; font-size: 10.5pt; line-height: 1.6; }}
h1 {{ font-size: 18pt; text-align: center; margin: 0 0 4mm; letter-spacing: 0.2em; }}
p.sub {{ text-align: center; margin: 0 0 6mm; }}
table {{ width: 100%; border-collapse: collapse; }}
th, td {{ border: 0.5pt solid #333; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }}
th {{ background: #eee; font-weight: bold; }}
table.facts th {{ width: 28%; }}
table.record td:nth-child(1), table.index td:nth-child(1) {{ width: 8mm; text-align: center; }}
table.record td:nth-child(2) {{ width: 24mm; }}
table.record td:nth-child(3) {{ width: 42mm; }}
"""

# actors that are not people: the engine's own transitions, the deadline sweep, the scheduler
MACHINE_ACTORS = frozenset({"system", "sweep", "scheduler"})
PROCESSES = {"complaint_handling": "投诉处理流程", "case_conversion": "诉转案流程"}
DEADLINE_STEPS = {"reminder": "期限提醒", "overdue": "已超期，已通知办理人和负责人",
                  "escalation": "超期未办，已报上级机关督办"}
# what a completed task's form data says in a word, when it holds one of these fields
NOTE_FIELDS = ("reason", "summary", "result", "explanation", "agreement_text", "offer")


def chinese_time(value: datetime) -> str:
    """2026年12月1日 09:30 (China time)."""
    return f"{chinese_date(value)} {value.astimezone(SHANGHAI):%H:%M}"


def render_pdf(title: str, body: str, at: datetime) -> Rendered:
    """An A4 PDF of ``body`` (HTML, already escaped) titled ``title``, dated ``at``."""
    page = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="dcterms.created" content="{at.astimezone(SHANGHAI).isoformat()}">'
            f'<meta name="generator" content="complaintflow"></head><body>{body}</body></html>')
    return render(page, STYLE)


def render_html_pdf(html: str) -> bytes:
    """A document's own HTML (as the party read it) as a PDF, in the Chinese font."""
    return render(html, STYLE).data


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


@dataclass(frozen=True)
class IndexRow:
    """One line of the index: the file's name, its document number or source, its date, pages or size."""

    name: str
    source: str
    day: str
    extent: str


def index_pdf(tracking_no: str, subject: str, agency: str, rows: Sequence[IndexRow], at: datetime) -> Rendered:
    table = _table(["序号", "文件名称", "文号/来源", "日期", "页数/大小"],
                   [[str(n), r.name, r.source, r.day, r.extent] for n, r in enumerate(rows, 1)], "index")
    body = (f"<h1>卷内目录</h1><p class=\"sub\">投诉编号：{escape(tracking_no)}　事项：{escape(subject)}</p>"
            f"{table}<p>立卷单位：{escape(agency)}　归档日期：{escape(chinese_date(at))}</p>")
    return render_pdf(f"卷内目录 {tracking_no}", body, at)


def facts_pdf(tracking_no: str, facts: Sequence[tuple[str, str]], description: str, at: datetime) -> Rendered:
    rows = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value or '—')}</td></tr>" for label, value in facts)
    body = (f"<h1>案件信息</h1><p class=\"sub\">投诉编号：{escape(tracking_no)}</p>"
            f'<table class="facts"><tbody>{rows}</tbody></table>'
            f"<h2>投诉内容</h2><p>{escape(description)}</p>")
    return render_pdf(f"案件信息 {tracking_no}", body, at)


@dataclass(frozen=True)
class Line:
    """One step of the handling record: when, who, what, and the reason or remark given."""

    at: str
    who: str
    what: str
    note: str


def timeline_pdf(tracking_no: str, lines: Sequence[Line], at: datetime) -> Rendered:
    table = _table(["序号", "时间", "办理人", "办理事项", "说明"],
                   [[str(n), line.at, line.who, line.what, line.note] for n, line in enumerate(lines, 1)], "record")
    body = (f"<h1>办理记录</h1><p class=\"sub\">投诉编号：{escape(tracking_no)}　共 {len(lines)} 条</p>"
            f"{table if lines else '<p>无办理记录</p>'}")
    return render_pdf(f"办理记录 {tracking_no}", body, at)


def _title(details: Mapping[str, Any]) -> str:
    return f"「{details.get('title') or details.get('task') or '任务'}」"


def describe(action: str, details: Mapping[str, Any], task_title: str, names: Mapping[str, str]) -> tuple[str, str]:
    """(what happened, a note) for one audit event, as a Chinese sentence; an action without words here is
    shown by its code rather than dropped, so the record never hides a step."""
    reason = str(details.get("reason") or "")
    if action == "instance.started":
        return f"启动{PROCESSES.get(str(details.get('spec')), '办理流程')}", ""
    if action == "task.completed":
        data = details.get("data")
        note = next((str(data[f]) for f in NOTE_FIELDS if isinstance(data, Mapping) and data.get(f)), "")
        return f"完成{_title(details)}", note
    if action in ("task.claimed", "task.released"):
        return f"{'领取' if action == 'task.claimed' else '释放'}{task_title}", ""
    if action == "task.assigned":
        after = details.get("after")
        assignee = str(after.get("assignee") or "") if isinstance(after, Mapping) else ""
        return f"将{task_title}转交给{names.get(assignee, assignee)}", ""
    if action in ("task.suspended", "task.resumed"):
        return f"{'暂停' if action == 'task.suspended' else '恢复'}{task_title}计时", reason
    if action == "task.deadline_recomputed":
        return f"重新计算{task_title}期限", ""
    if action.startswith("deadline."):
        step = action.removeprefix("deadline.")
        skipped = "（未执行：任务已办结、暂停或期限已变更）" if details.get("skipped") else ""
        return f"{task_title}{DEADLINE_STEPS.get(step, step)}{skipped}", ""
    if action == "complaint.designated":
        return f"指定管辖，转由{names.get(str(details.get('to')), str(details.get('to') or ''))}办理", reason
    if action == "complaint.offer_answered":
        return ("投诉人接受经营者的和解方案" if details.get("accept") else "投诉人不接受经营者的和解方案"), ""
    if action == "message.received":
        return "收到其他流程的消息", ""
    if action in ("timers.fired", "timers.held", "timers.moved", "timers.recomputed"):
        return "流程计时器按期限变更或届满", ""
    if action == "instance.migrated":
        return "流程升级到新版本", ""
    if action.startswith("attachment."):
        return f"证据材料：{details.get('filename') or action}", ""
    if action.startswith("document."):
        return f"文书：{details.get('doc_no') or ''}{details.get('title') or action}", ""
    return action, ""


def who(actor: str, users: Mapping[str, tuple[str, str | None]]) -> str:
    """张三（太和县市场监督管理局）, 系统 for the machine, 投诉人 for the public, else the name as recorded."""
    if actor in users:
        display, agency = users[actor]
        return f"{display}（{agency}）" if agency else display
    if actor in MACHINE_ACTORS:
        return "系统"
    return "投诉人" if actor == "public" else actor
