"""Build small linear BPMN files with DI: for tests (each shows its whole process) and benchmarks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any


@dataclass
class UserTask:
    id: str
    name: str = "办理"
    lane: str = "liaison"
    form: dict[str, Any] | None = field(default_factory=lambda: {"type": "object"})
    deadline: str | None = None
    deadline_from: str | None = None
    boundary_timer: str | None = None  # timeDate expression; the timer path sets timed_out and ends


@dataclass
class Script:
    id: str
    script: str


@dataclass
class Throw:
    id: str
    message: str
    payload: str


@dataclass
class Catch:
    id: str
    message: str
    variable: str = "received"


def build(process_id: str, steps: list[Any], agency: str = "agency", start_message: str | None = None) -> str:
    lanes: dict[str, list[str]] = {}
    nodes, flows, shapes = [], [], []
    messages: set[str] = set()
    x = 150
    prev = "start"
    start_def = ""
    if start_message:
        messages.add(start_message)
        start_def = (f'<bpmn:messageEventDefinition id="start_def" messageRef="msg_{start_message}">'
                     f'<bpmn:extensionElements><spiffworkflow:messageVariable>clue</spiffworkflow:messageVariable>'
                     f'</bpmn:extensionElements></bpmn:messageEventDefinition>')
    nodes.append(f'<bpmn:startEvent id="start">{start_def}</bpmn:startEvent>')
    shapes.append(_shape("start", 100, 100, 36, 36))
    for i, step in enumerate(steps):
        if isinstance(step, UserTask):
            props = {"form": json.dumps(step.form, ensure_ascii=False)} if step.form is not None else {}
            if step.deadline:
                props["deadline"] = step.deadline
            if step.deadline_from:
                props["deadline_from"] = step.deadline_from
            prop_xml = "".join(f'<spiffworkflow:property name="{k}" value="{escape(v)}"/>' for k, v in props.items())
            nodes.append(f'<bpmn:userTask id="{step.id}" name="{step.name}"><bpmn:extensionElements>'
                         f'<spiffworkflow:properties>{prop_xml}</spiffworkflow:properties>'
                         f'</bpmn:extensionElements></bpmn:userTask>')
            lanes.setdefault(step.lane, []).append(step.id)
            if step.boundary_timer:
                bid = f"{step.id}_timer"
                nodes.append(f'<bpmn:boundaryEvent id="{bid}" attachedToRef="{step.id}">'
                             f'<bpmn:timerEventDefinition><bpmn:timeDate>{escape(step.boundary_timer)}'
                             f'</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>')
                nodes.append(f'<bpmn:scriptTask id="{bid}_script"><bpmn:script>timed_out = True</bpmn:script>'
                             f'</bpmn:scriptTask><bpmn:endEvent id="{bid}_end"/>')
                flows.append((f"{bid}_f1", bid, f"{bid}_script"))
                flows.append((f"{bid}_f2", f"{bid}_script", f"{bid}_end"))
                shapes += [_shape(bid, x + 40, 180, 36, 36), _shape(f"{bid}_script", x, 260, 100, 80),
                           _shape(f"{bid}_end", x + 140, 280, 36, 36)]
        elif isinstance(step, Script):
            nodes.append(f'<bpmn:scriptTask id="{step.id}"><bpmn:script>{escape(step.script)}</bpmn:script>'
                         f'</bpmn:scriptTask>')
        elif isinstance(step, Throw):
            messages.add(step.message)
            nodes.append(f'<bpmn:intermediateThrowEvent id="{step.id}"><bpmn:messageEventDefinition '
                         f'id="{step.id}_def" messageRef="msg_{step.message}"><bpmn:extensionElements>'
                         f'<spiffworkflow:messagePayload>{escape(step.payload)}</spiffworkflow:messagePayload>'
                         f'</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>')
        elif isinstance(step, Catch):
            messages.add(step.message)
            nodes.append(f'<bpmn:intermediateCatchEvent id="{step.id}"><bpmn:messageEventDefinition '
                         f'id="{step.id}_def" messageRef="msg_{step.message}"><bpmn:extensionElements>'
                         f'<spiffworkflow:messageVariable>{step.variable}</spiffworkflow:messageVariable>'
                         f'</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>')
        flows.append((f"f{i}", prev, step.id))
        shapes.append(_shape(step.id, x, 80, 100, 80))
        prev = step.id
        x += 150
    nodes.append('<bpmn:endEvent id="end"/>')
    flows.append(("f_end", prev, "end"))
    shapes.append(_shape("end", x, 100, 36, 36))
    lane_xml = "".join(
        f'<bpmn:lane id="lane_{name}" name="{name}">'
        + "".join(f"<bpmn:flowNodeRef>{t}</bpmn:flowNodeRef>" for t in ids)
        + "</bpmn:lane>" for name, ids in lanes.items())
    if lane_xml:
        lane_xml = f'<bpmn:laneSet id="lanes">{lane_xml}</bpmn:laneSet>'
    flow_xml = "".join(f'<bpmn:sequenceFlow id="{fid}" sourceRef="{a}" targetRef="{b}"/>' for fid, a, b in flows)
    edges = "".join(f'<bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}"><di:waypoint x="0" y="0"/>'
                    f'<di:waypoint x="10" y="0"/></bpmndi:BPMNEdge>' for fid, _a, _b in flows)
    message_xml = "".join(f'<bpmn:message id="msg_{m}" name="{m}"/>' for m in sorted(messages))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs_{process_id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="agency" value="{escape(agency)}"/>
    </spiffworkflow:properties></bpmn:extensionElements>
    {lane_xml}{''.join(nodes)}{flow_xml}
  </bpmn:process>
  {message_xml}
  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="{process_id}">
    {''.join(shapes)}{edges}
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def _shape(element: str, x: int, y: int, w: int, h: int) -> str:
    return (f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">'
            f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>')
