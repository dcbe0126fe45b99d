"""Turn one BPMN file into a ``SpecBundle``: the parsed specs plus what the product reads from them.

One parser per file version (SpiffWorkflow rejects duplicate process ids within a parser). Process
level extension properties (the pool's ``agency`` expression) are read here from the XML, because
SpiffWorkflow's parser drops them; keeping them beside the spec avoids patching its serializer.

A file may come in any encoding an XML parser accepts (UTF-16 with a BOM, GB18030 declared in its
XML declaration, …); ``utf8_xml`` turns it into UTF-8 first, so that what is validated is exactly
what is stored (the database keeps the XML as text) and re-read for diffs and downloads.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.bpmn.spiff_messages import parser_issue
from engine.bpmn.xml_safety import parse_bpmn_xml
from engine.bpmn.xsd_messages import schema_issues
from engine.errors import InvalidWorkflow, WorkflowIssue

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


@dataclass(frozen=True)
class TaskDefinition:
    """What the product needs to know about one human task of a spec version."""

    process_id: str
    name: str
    title: str
    lane: str | None
    form: dict[str, Any] | None
    deadline_rule: str | None
    deadline_from: str | None
    deadline_extended: str | None
    properties: dict[str, str]


@dataclass
class SpecBundle:
    key: str
    top_spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    process_properties: dict[str, dict[str, str]]
    process_names: dict[str, str]
    tasks: dict[tuple[str, str], TaskDefinition] = field(default_factory=dict)

    @property
    def is_collaboration(self) -> bool:
        return bool(self.subprocess_specs) and self.top_spec.name not in self.subprocess_specs

    @property
    def start_messages(self) -> list[str]:
        """Messages that start a new instance of this spec (its only start events catch them)."""
        if self.is_collaboration:
            return []
        events = self.top_spec.bpmn_start_events if hasattr(self.top_spec, "bpmn_start_events") else []
        names = [ev.event_definition.name for ev in events
                 if isinstance(ev.event_definition, MessageEventDefinition)]
        return names if names and len(names) == len(events) else []

    def all_specs(self) -> Iterator[BpmnProcessSpec]:
        yield self.top_spec
        yield from (s for name, s in self.subprocess_specs.items() if name != self.top_spec.name)

    def task(self, process_id: str, name: str) -> TaskDefinition | None:
        return self.tasks.get((process_id, name))

    @cached_property
    def resumable_top_spec(self) -> BpmnProcessSpec:
        """The top spec that stored instances of this version are restored onto (shared by all)."""
        from engine.serialization import resumable_top_spec

        return resumable_top_spec(self.top_spec)


def _properties(node: etree._Element) -> dict[str, str]:
    return {
        prop.get("name", ""): prop.get("value", "")
        for prop in node.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                               namespaces=NS)
    }


# a byte order mark names its encoding (UTF-32 before UTF-16: FF FE 00 00 also starts with FF FE)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# without one, the first characters "<?" tell a UTF-16/32 file's byte order (XML 1.0, appendix F)
_UNMARKED = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"), (b"\x00<\x00?", "utf-16-be"),
             (b"<\x00?\x00", "utf-16-le"))
_DECLARED = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")
_DECLARATION_ENCODING = re.compile(r"""^(<\?xml[^>]*?\sencoding\s*=\s*)(["'])[^"']*\2""")


def utf8_xml(xml: bytes | str) -> bytes:
    """The file as UTF-8 bytes with a UTF-8 declaration, decoded by its byte order mark or declaration.

    A UTF-8 file without a BOM comes back unchanged (its digest, hence its version, stays the same).
    Raises ``InvalidWorkflow`` when the declared encoding is unknown or the bytes do not match it."""
    if isinstance(xml, str):
        text = xml
    else:
        encoding = next((name for bom, name in _BOMS if xml.startswith(bom)), None)
        encoding = encoding or next((name for start, name in _UNMARKED if xml.startswith(start)), None)
        if encoding is None:
            declared = _DECLARED.match(xml)
            encoding = declared.group(1).decode("ascii") if declared else "utf-8"
        try:
            if codecs.lookup(encoding).name == "utf-8":
                xml.decode("utf-8")  # strict: a file that is not what it says is refused, not stored garbled
                return xml
            text = xml.decode(encoding)
        except LookupError:
            raise InvalidWorkflow([WorkflowIssue(None, f"不支持的文件编码 {encoding} / unsupported file encoding "
                                                       f"{encoding!r}: save the file as UTF-8", line=1)]) from None
        except UnicodeDecodeError as exc:
            raise InvalidWorkflow([WorkflowIssue(None, f"文件内容与编码 {encoding} 不符（第 {exc.start} 字节）/ the "
                                                       f"file does not match its encoding {encoding} (byte "
                                                       f"{exc.start}): save it as UTF-8",
                                                 line=_line_of_byte(xml, exc.start, encoding))]) from None
    text = _DECLARATION_ENCODING.sub(r"\1\2UTF-8\2", text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8")


def _line_of_byte(xml: bytes, offset: int, encoding: str) -> int:
    """The 1-based line holding byte ``offset`` (the bytes before it are valid in the encoding)."""
    return xml[:offset].decode(encoding, errors="replace").count("\n") + 1


def load_bundle(xml: bytes | str, filename: str = "upload.bpmn") -> tuple[SpecBundle, etree._Element]:
    """Parse and XSD-validate a file; raises ``InvalidWorkflow`` naming the element at fault.

    The file is read as UTF-8 (``utf8_xml``) so that the validation and the stored text agree."""
    root = parse_bpmn_xml(utf8_xml(xml))
    schema_errors = schema_issues(root)
    if schema_errors:
        raise InvalidWorkflow(schema_errors)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename)
        executable = [pid for pid in parser.get_process_ids()
                      if parser.get_process_parser(pid).process_executable]
        collaborations = list(parser.collaborations)
        if len(executable) == 1:
            # one pool: run the process itself (a collaboration whose only pool is message-started
            # cannot be instantiated by SpiffWorkflow 3.2; the collaboration is only for drawing)
            key = executable[0]
            top_spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        elif collaborations and executable:
            key = collaborations[0]
            top_spec, subprocess_specs = parser.get_collaboration(key)
        else:
            raise InvalidWorkflow([_no_executable_process(root)])
    except InvalidWorkflow:
        raise
    except Exception as exc:  # SpiffWorkflow raises many kinds on odd input: report, never crash
        raise InvalidWorkflow([parser_issue(exc, root)]) from None

    processes = root.xpath("//bpmn:process", namespaces=NS)
    bundle = SpecBundle(
        key=key,
        top_spec=top_spec,
        subprocess_specs=subprocess_specs,
        process_properties={p.get("id"): _properties(p) for p in processes},
        process_names={p.get("id"): p.get("name") or p.get("id") for p in processes},
    )
    participants = root.xpath("//bpmn:participant", namespaces=NS)
    for participant in participants:  # a pool's name is the participant's, when the process has none
        if participant.get("processRef") and participant.get("name"):
            bundle.process_names[participant.get("processRef")] = participant.get("name")
    issues = collect_tasks(bundle)
    if issues:
        raise InvalidWorkflow(issues)
    return bundle, root


def _no_executable_process(root: etree._Element) -> WorkflowIssue:
    """Points at the first pool's process (where ``isExecutable`` goes), else at the file's root."""
    message = ("没有可执行的流程：请将要运行的流程标为可执行 (isExecutable=\"true\") / the file has no "
               "executable process: nothing here can run")
    pools = root.xpath("//bpmn:participant/@processRef", namespaces=NS)
    processes = root.xpath("//bpmn:process", namespaces=NS)
    first = next((p for ref in pools for p in processes if p.get("id") == ref), processes[0] if processes else root)
    return WorkflowIssue(first.get("id"), message, first.get("name") or None, first.sourceline)


def collect_tasks(bundle: SpecBundle) -> list[WorkflowIssue]:
    """Index the human tasks of every pool; returns problems with their forms."""
    issues: list[WorkflowIssue] = []
    for spec in bundle.all_specs():
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "manual", False):
                bundle.tasks[(spec.name, task_spec.name)] = _task_definition(spec.name, task_spec, issues)
    return issues


def _task_definition(process_id: str, task_spec: TaskSpec, issues: list[WorkflowIssue]) -> TaskDefinition:
    extensions = getattr(task_spec, "extensions", {}) or {}
    props: dict[str, str] = dict(extensions.get("properties", {}))
    form: dict[str, Any] | None = None
    if props.get("form"):
        try:
            form = json.loads(props["form"])
        except json.JSONDecodeError as exc:
            issues.append(WorkflowIssue(task_spec.name, f"表单不是合法 JSON / form is not valid JSON: {exc}",
                                        getattr(task_spec, "bpmn_name", None)))
    return TaskDefinition(
        process_id=process_id,
        name=task_spec.name,
        title=getattr(task_spec, "bpmn_name", None) or task_spec.name,
        lane=getattr(task_spec, "lane", None),
        form=form,
        deadline_rule=props.get("deadline") or None,
        deadline_from=props.get("deadline_from") or None,
        deadline_extended=props.get("deadline_extended") or None,
        properties=props,
    )
