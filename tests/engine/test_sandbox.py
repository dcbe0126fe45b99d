"""Hostile scripts are refused at deploy, naming the element, and cannot run even if they got in."""

from __future__ import annotations

import copy
import time

import pytest
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from engine.bpmn.loader import load_bundle
from engine.bpmn.scaffold import Script, UserTask, build
from engine.bpmn.validation import validate_bpmn
from engine.db.tables import SpecVersion
from engine.errors import InvalidWorkflow, ScriptError, ScriptTimeout
from engine.sandbox import RestrictedEnvironment, bind_services, reset_services, root_cause
from engine.spiff import SCRIPT_ENGINE, new_workflow
from tests.engine.conftest import EngineEnv

ESCAPES = {
    "import": "os = __import__('os')\nos.system('touch /tmp/pwned')",
    "open": "secret = open('/etc/passwd').read()",
    "subclasses": "classes = ().__class__.__base__.__subclasses__()",
    "getattr_dunder": "g = getattr(getattr((), '__class__'), '__base__')",
    "format_escape": "leak = '{0.__class__.__base__}'.format(())",
    "globals": "g = globals()",
    "import_statement": "import os",
}


def hostile(script: str) -> str:
    return build("hostile", [Script("evil", script), UserTask("next", "下一步")], agency="'th-amr'")


@pytest.mark.parametrize("script", ESCAPES.values(), ids=ESCAPES.keys())
def test_deploy_rejects_a_sandbox_escape_and_stores_nothing(env: EngineEnv, script: str) -> None:
    with pytest.raises(InvalidWorkflow) as error:
        env.deploy(hostile(script))
    [issue] = error.value.issues
    assert issue.element_id == "evil"
    assert "script expression rejected" in issue.message
    with env.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SpecVersion)) == 0


@pytest.mark.parametrize("script", ESCAPES.values(), ids=ESCAPES.keys())
def test_an_escape_that_bypassed_validation_cannot_run(script: str) -> None:
    bundle, _root = load_bundle(hostile(script))  # parse only: no sandbox compilation
    workflow = new_workflow(copy.deepcopy(bundle.top_spec), bundle.subprocess_specs, {})
    assert workflow.script_engine is SCRIPT_ENGINE
    with pytest.raises(WorkflowException) as error:
        workflow.do_engine_steps()
    assert error.value.task_spec.name == "evil"
    assert isinstance(root_cause(error.value), ScriptError)
    assert not [t for t in workflow.get_tasks() if t.task_spec.name == "next" and t.state == TaskState.READY]


@pytest.mark.parametrize("expression", [
    "__import__('os').getcwd()",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read()",
    "type(1).__mro__",
    "[c for c in ().__class__.__bases__]",
    "(lambda: 1).__code__",
])
def test_expressions_cannot_reach_python_internals(expression: str) -> None:
    env = RestrictedEnvironment()
    with pytest.raises((ScriptError, NameError)):
        env.evaluate(expression, {})


def test_ordinary_expressions_and_scripts_work() -> None:
    env = RestrictedEnvironment()
    data = {"decision": "accept", "items": [1, 2, 3], "d": {"k": "v"}}
    assert env.evaluate("decision == 'accept' and len(items) == 3", data) is True
    env.execute("total = sum(items)\nlabel = d['k'].upper()\nitems.append(4)\npairs = dict(a=1)", data)
    assert (data["total"], data["label"], data["items"], data["pairs"]) == (6, "V", [1, 2, 3, 4], {"a": 1})


def test_a_runaway_script_is_stopped_by_the_time_limit() -> None:
    env = RestrictedEnvironment(time_limit=0.2)
    with pytest.raises(ScriptTimeout):
        env.execute("n = 0\nwhile True:\n    n += 1", {})


def test_validation_names_the_element_of_a_bad_expression() -> None:
    xml = build("bad_condition", [Script("calc", "x = (1 +"), UserTask("t")], agency="'th-amr'")
    with pytest.raises(InvalidWorkflow) as error:
        validate_bpmn(xml)
    assert [i.element_id for i in error.value.issues] == ["calc"]
    assert "script" in error.value.issues[0].message


class SlowNotices:
    """The product's side of ``notify_complainant`` waiting on a busy database for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sent: list[str] = []

    def notify_complainant(self, template: str, context: object) -> None:
        until = time.perf_counter() + self.seconds
        while time.perf_counter() < until:  # busy, as a database round trip under load is for this thread
            pass
        self.sent.append(template)


def test_a_slow_product_helper_does_not_count_against_the_scripts_time() -> None:
    """The helpers are the product's code: their wait on the database is not the script's work, so a short
    script calling a slow one finishes; the script's own loop after it is still bounded."""
    env = RestrictedEnvironment(time_limit=0.2)
    services = SlowNotices(0.4)
    token = bind_services(services)  # type: ignore[arg-type]  # only notify_complainant is called
    try:
        env.execute("notify_complainant('acceptance')\ndone = True", {})
        assert services.sent == ["acceptance"]
        with pytest.raises(ScriptTimeout):
            env.execute("notify_complainant('acceptance')\nn = 0\nwhile True:\n    n += 1", {})
    finally:
        reset_services(token)


def test_a_garbage_collection_during_a_script_is_not_charged_to_it() -> None:
    """A full collection of the server's heap may start inside any script (wherever an allocation crosses
    the collector's threshold); its time moves the script's deadline instead of timing the script out."""
    import gc
    import sys

    from engine.sandbox import _collection_is_not_the_scripts, _Limits

    assert _collection_is_not_the_scripts in gc.callbacks
    limits = _Limits(0.5)
    before = limits.deadline
    previous = sys.gettrace()
    sys.settrace(limits.local_trace)  # as while a sandboxed script runs in this thread
    try:
        _collection_is_not_the_scripts("start", {})
        spent = time.thread_time() + 0.05
        while time.thread_time() < spent:  # the collector's work, on this thread's CPU
            pass
        _collection_is_not_the_scripts("stop", {})
    finally:
        sys.settrace(previous)
    assert limits.deadline - before >= 0.05
    _collection_is_not_the_scripts("start", {})  # outside a script: nothing to move, nothing fails
    _collection_is_not_the_scripts("stop", {})
