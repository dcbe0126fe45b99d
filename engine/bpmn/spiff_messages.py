"""SpiffWorkflow's parser errors, said in Chinese and pointed at the element they are about.

SpiffWorkflow's ``ValidationException`` carries the id of the node it was parsing, but some of its
checks run over the whole document (data stores, messages, signals, correlations, called processes)
and raise without a node: for those the element is looked up in the file from what the message says.
The English text stays after the Chinese (house style 「中文 / English」).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from engine.bpmn.issue_location import find_by_id, local_name
from engine.errors import WorkflowIssue

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}

Locate = Callable[[etree._Element, "re.Match[str]"], "etree._Element | None"]


def _first(root: etree._Element, xpath: str, **values: str) -> etree._Element | None:
    found = root.xpath(xpath, namespaces=NS, **values)
    return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None


def _without_id(tag: str) -> Locate:
    return lambda root, _m: _first(root, f"//bpmn:{tag}[not(@id)]")


def _by_id(group: str) -> Locate:
    return lambda root, m: find_by_id(root, m[group].strip())


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    chinese: Callable[[re.Match[str]], str]
    locate: Locate | None = None


def _rule(pattern: str, chinese: Callable[[re.Match[str]], str], locate: Locate | None = None) -> Rule:
    return Rule(re.compile(pattern, re.DOTALL), chinese, locate)


_WHAT = {"Message": "消息 (message)", "Signal": "信号 (signal)", "Error": "错误 (error)",
         "Escalation": "升级 (escalation)", "Correlation": "关联属性 (correlationProperty)"}
_TAG = {"Message": "message", "Signal": "signal", "Error": "error", "Escalation": "escalation",
        "Correlation": "correlationProperty"}

RULES = [
    _rule(r"^Data Store with name (?P<n>.*) has no implementation",
          lambda m: f"不支持数据存储 (dataStore)「{m['n'].strip()}」：本系统的流程数据保存在案件中，"
                    "请删除数据存储及其关联",
          lambda root, m: _first(root, "//bpmn:dataStore[@name=$n]", n=m["n"])),
    _rule(r"^Data Store name is missing",
          lambda m: "不支持数据存储 (dataStore)，且此数据存储没有名称：请删除数据存储及其关联",
          lambda root, _m: _first(root, "//bpmn:dataStore[not(@name)]")),
    _rule(r"^Data Store identifier is missing",
          lambda m: "数据存储 (dataStore) 缺少 id；本系统也不支持数据存储，请删除", _without_id("dataStore")),
    _rule(r"^(?P<what>Message|Signal|Error|Escalation|Correlation) identifier is missing",
          lambda m: f"{_WHAT[m['what']]}缺少 id", lambda root, m: _first(
              root, f"//bpmn:{_TAG[m['what']]}[not(@id)]")),
    _rule(r"^Correlation is missing correlation property retrieval expressions: (?P<id>.*)",
          lambda m: "关联属性 (correlationProperty) 缺少取值表达式 (correlationPropertyRetrievalExpression)",
          _by_id("id")),
    _rule(r"^Message identifier is missing from correlation property: (?P<id>.*)",
          lambda m: "关联属性的取值表达式缺少 messageRef", _by_id("id")),
    _rule(r"^Could not find messageRef from message event definition: (?P<id>.*)",
          lambda m: "消息事件定义引用的消息 (messageRef) 在本文件中不存在", _by_id("id")),
    _rule(r"^The process '(?P<p>[^']*)' was not found",
          lambda m: f"调用活动调用的流程 {m['p']} 不在本文件中（调用活动只能调用同一文件中的流程）",
          lambda root, m: _first(root, "//bpmn:callActivity[@calledElement=$p]", p=m["p"])),
    _rule(r"^Duplicate process ID: (?P<id>.*)", lambda m: f"流程 id {m['id'].strip()} 重复"),
    _rule(r"^Process (?P<id>.*) is not executable", lambda m: "流程未标记为可执行 (isExecutable=\"true\")"),
    _rule(r"^No start event found", lambda m: "流程没有开始事件"),
    _rule(r"^Non-default exclusive outgoing sequence flow without condition",
          lambda m: "排他网关的这条出口顺序流既不是默认流也没有条件：请加条件表达式，或将其设为网关的默认流"),
    _rule(r"^Multiple outgoing flows are not supported for tasks of type",
          lambda m: "此类任务只能有一条出口顺序流：请在任务后加一个网关来分支"),
    _rule(r"^A Service Task must have an operator",
          lambda m: "服务任务须指定调用的服务 (spiffworkflow:serviceTaskOperator)"),
    _rule(r"^Exactly one start event is required in a SubWorkflow Task; found (?P<n>\d+)",
          lambda m: f"子流程须恰好有一个开始事件（现有 {m['n']} 个）"),
    _rule(r"^A SubWorkflow Must contain an End event", lambda m: "子流程须包含结束事件"),
    _rule(r"^No \"calledElement\" attribute for Call Activity",
          lambda m: "调用活动缺少 calledElement 属性（要调用的流程）"),
    _rule(r"^A multiinstance task must specify exactly one of",
          lambda m: "多实例任务只能指定实例数 (loopCardinality) 与输入集合 (loopDataInputRef) 之一"),
    _rule(r"^A multiinstance task must specify a cardinality",
          lambda m: "多实例任务须指定实例数 (loopCardinality)"),
    _rule(r"^A loopMaximum or loopCondition must be specified",
          lambda m: "循环任务须设置 loopMaximum 或 loopCondition"),
    _rule(r"^The loop (?P<io>input|output) data reference is missing",
          lambda m: f"多实例任务的循环{'输入' if m['io'] == 'input' else '输出'}数据引用不在其 ioSpecification 中"),
    _rule(r"^Cancel Events may only be used with transactions", lambda m: "取消事件只能用于事务子流程 (transaction)"),
    _rule(r"^Conditional event definition with missing condition", lambda m: "条件事件缺少条件表达式"),
    _rule(r"^(?:Time Specification Error\. )?Unknown Time Specification",
          lambda m: "无法识别定时器的时间设置：请用 ISO 8601 写 timeDate、timeDuration 或 timeCycle"
                    "（如 PT2H、R3/P1D）"),
    _rule(r"^Time Specification Error\.",
          lambda m: "定时器的时间设置有误：请用 ISO 8601 写 timeDate、timeDuration 或 timeCycle（如 PT2H、R3/P1D）"),
    _rule(r"^Cannot resolve data(?P<io>Input|Output)Association",
          lambda m: f"数据{'输入' if m['io'] == 'Input' else '输出'}关联 (data{m['io']}Association) "
                    "指向的数据对象无法解析（不支持数据存储；数据对象须在同一流程中）"),
    _rule(r"^Sequential ordering for ad hoc subprocesses not supported",
          lambda m: "不支持按顺序执行的自由子流程 (ad hoc)"),
    _rule(r"^Ad hoc subprocesses may not contain start or end events",
          lambda m: "自由子流程 (ad hoc) 中不能有开始或结束事件"),
    _rule(r"^Invalid Script Task\.\s+No Script Provided", lambda m: "脚本任务缺少脚本"),
    _rule(r"^There is no support implemented for this task type", lambda m: "不支持此类型的元素"),
    _rule(r"^When looking for a task spec, we found two items", lambda m: "有两个元素使用同一个 id"),
    _rule(r"^Expected an? (?P<what>\w+) node",
          lambda m: f"事件定义引用的{_WHAT.get(m['what'].capitalize(), m['what'])}在本文件中不存在"),
]

_RAW_ELEMENT = re.compile(r"\s*<Element [^>]*>|, b'<.*$", re.DOTALL)


def _english(text: str) -> str:
    """SpiffWorkflow's text without the raw XML or object reprs it sometimes quotes, on one line."""
    text = _RAW_ELEMENT.sub("", text)
    return " ".join(text.split()).rstrip(". ")[:240]


def parser_issue(exc: BaseException, root: etree._Element) -> WorkflowIssue:
    """One issue for an exception raised while SpiffWorkflow parsed ``root``.

    The element is the exception's node when it has one, else the one its message names; failing
    both, the issue points at the line of the file's root element and says the place is unknown."""
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    element_id: str | None = getattr(exc, "id", None) or None
    name: str | None = getattr(exc, "name", None) or None
    task_spec = getattr(exc, "task_spec", None)  # a WorkflowException names the task spec = the element id
    if element_id is None and task_spec is not None:
        element_id = getattr(task_spec, "bpmn_id", None) or getattr(task_spec, "name", None)
    line_number = getattr(exc, "line_number", None)
    line = line_number if isinstance(line_number, int) and line_number > 0 else None

    chinese = None
    for rule in RULES:
        match = rule.pattern.search(text)
        if match is None:
            continue
        chinese = rule.chinese(match)
        if element_id is None and line is None and rule.locate is not None:
            node = rule.locate(root, match)
            if node is not None:
                element_id, line = node.get("id") or None, node.sourceline
                name = name or node.get("name") or None
        break
    tag = getattr(exc, "tag", "") or ""
    if chinese is None:
        what = f" <{tag.removeprefix('bpmn:')}>" if tag else ""
        chinese = f"无法解析此元素{what}"
    elif tag and chinese == "不支持此类型的元素":
        chinese = f"不支持此类型的元素 <{tag.removeprefix('bpmn:')}>"
    english = _english(text) if isinstance(exc, _spiff_errors()) else f"{type(exc).__name__}: {_english(text)}"
    if element_id is None and line is None:
        chinese += "（无法确定出错位置，请从文件开头检查）"
        line = root.sourceline
    if element_id is not None and name is None:
        node = find_by_id(root, element_id)
        name = (node.get("name") or None) if node is not None else None
        if node is not None and not tag and chinese.startswith("无法解析此元素"):
            chinese = f"无法解析此元素 <{local_name(node)}>"
    return WorkflowIssue(element_id, f"{chinese} / {english}", name, line)


def _spiff_errors() -> tuple[type[BaseException], ...]:
    from SpiffWorkflow.exceptions import SpiffWorkflowException

    return (SpiffWorkflowException,)
