"""Store a spec once per version and only the state per instance.

The full SpiffWorkflow JSON repeats the spec in every row (55–65 % of it). Instances here store the
state alone; on load the state is restored onto the version's cached specs. Pools that a message
starts wire themselves into the collaboration spec at run time (``BpmnStartTask.trigger_wf``), so a
new instance runs on its own copy of the top spec, and restored instances share one copy on which
every such pool is wired in already (``resumable_top_spec``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.bpmn.loader import SpecBundle


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the specs out of the serialized workflow; they are supplied on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: BpmnProcessSpec | None = None,
                  subprocess_specs: dict[str, BpmnProcessSpec] | None = None) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("a state-only workflow needs its spec to be restored")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = StateOnlyWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _make_serializer()


def spec_to_json(bundle: SpecBundle) -> str:
    registry = SERIALIZER.registry
    return json.dumps({
        "top": registry.convert(bundle.top_spec),
        "subprocesses": {name: registry.convert(spec) for name, spec in bundle.subprocess_specs.items()},
    })


def specs_from_json(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    registry = SERIALIZER.registry
    dct = json.loads(text)
    top = registry.restore(dct["top"])
    subprocesses = {name: registry.restore(spec) for name, spec in dct["subprocesses"].items()}
    return top, subprocesses


def fresh_top_spec(top_spec: BpmnProcessSpec) -> BpmnProcessSpec:
    """A private copy for a new instance: running a collaboration rewires its top spec."""
    if getattr(top_spec.start, "trigger_specs", None):
        return copy.deepcopy(top_spec)
    return top_spec


def resumable_top_spec(top_spec: BpmnProcessSpec) -> BpmnProcessSpec:
    """One copy of a collaboration's top spec with every message-started pool wired in, for all
    restored instances of the version to share (a deep copy per load cost more than the restore).

    A new instance must not see that wiring: its start task would start those pools at once. A
    restored instance ran its start long ago, and the end join looks at the task tree, not at its
    inputs, so wiring all the pools up front behaves as wiring the ones a message started — and a
    message starting one later finds it wired and leaves the shared spec alone."""
    trigger_specs = getattr(top_spec.start, "trigger_specs", None)
    if not trigger_specs:
        return top_spec
    wired = copy.deepcopy(top_spec)
    for name in trigger_specs:
        pool = wired.task_specs[name]
        wired.start.connect(pool)
        pool.connect(wired.end)
    return wired


def dump_state(workflow: BpmnWorkflow) -> str:
    registry = SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(workflow)
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
        return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_state(text: str, resumable_spec: BpmnProcessSpec,
               subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    """Restore a stored state onto the version's ``resumable_top_spec`` (shared, never copied)."""
    dct = json.loads(text, cls=SERIALIZER.json_decoder_cls)
    SERIALIZER.migrate(dct)
    workflow: BpmnWorkflow = SERIALIZER.registry.restore(dct, spec=resumable_spec, subprocess_specs=subprocess_specs)
    return workflow
