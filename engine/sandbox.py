"""The script sandbox: every BPMN expression and script runs here, never in plain ``eval``.

Anyone who can upload BPMN could otherwise run code on the server (ENGINE-NOTES "Script safety").
Code is compiled by RestrictedPython (no imports, no dunder attributes, guarded item/attribute
access), sees only an allow-list of builtins and product helpers, and is stopped after a time limit.
Compiled code is cached by source text, so a condition evaluated a million times compiles once.
"""

from __future__ import annotations

import ast
import operator
import sys
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import CodeType, FrameType
from typing import Any, Protocol

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.clock import SHANGHAI
from engine.errors import ScriptError, ScriptTimeout

SCRIPT_FILENAME = "<bpmn-script>"
DEFAULT_TIME_LIMIT = 0.5  # seconds per expression or script

HELPER_NAMES = ("now", "due", "notify_complainant", "file_case", "close_case")


class ScriptServices(Protocol):
    """What a running transition offers to BPMN scripts (the product's side of the helpers)."""

    def now(self) -> datetime: ...

    def due(self, rule: str, start: str | datetime, received_at: str | None) -> datetime: ...

    def notify_complainant(self, template: str, context: Mapping[str, Any]) -> None: ...

    def file_case(self, data: Mapping[str, Any]) -> str: ...

    def close_case(self, data: Mapping[str, Any], decision: str) -> None: ...


_current_services: ContextVar[ScriptServices | None] = ContextVar("script_services", default=None)


def bind_services(services: ScriptServices | None) -> Any:
    """Make ``services`` the helpers' backend for this thread/context; returns a reset token."""
    return _current_services.set(services)


def reset_services(token: Any) -> None:
    _current_services.reset(token)


def _services() -> ScriptServices:
    services = _current_services.get()
    if services is None:
        raise ScriptError("product helpers are only available while a transition runs")
    return services


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
        "//=": operator.ifloordiv, "%=": operator.imod, "|=": operator.ior, "&=": operator.iand,
    }
    if op not in ops:
        raise ScriptError(f"operator {op} is not allowed in scripts")
    return ops[op](x, y)


def _guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


_ALLOWED_BUILTINS: dict[str, Any] = {
    name: value for name, value in safe_builtins.items()
    if name not in {"setattr", "delattr", "__build_class__", "id", "hash"}
}
_ALLOWED_BUILTINS.update({
    "dict": dict, "list": list, "tuple": tuple, "set": set, "frozenset": frozenset,
    "sum": sum, "min": min, "max": max, "any": any, "all": all, "sorted": sorted,
    "enumerate": enumerate, "zip": zip, "reversed": reversed, "map": map, "filter": filter,
})

_GUARDS: dict[str, Any] = {
    "_getattr_": safer_getattr,
    "_getitem_": _guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
}
_RESERVED = frozenset(_GUARDS) | {"__builtins__", *HELPER_NAMES}


# Names that do not exist in the sandbox anyway; refusing them at upload tells the admin at once
# instead of at 2 a.m. when the script first runs.
FORBIDDEN_NAMES = frozenset({
    "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "eval", "exec", "compile",
    "__import__", "type", "input", "breakpoint", "help", "memoryview", "object", "super", "dir",
    "classmethod", "staticmethod", "property", "exit", "quit",
})
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro"})


def _check_tree(source: str, mode: str) -> None:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError:
        return  # RestrictedPython reports syntax errors with line numbers
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptError(f"Line {node.lineno}: import is not allowed in scripts")
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            raise ScriptError(f"Line {node.lineno}: {node.id!r} is not available in scripts")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            raise ScriptError(f"Line {node.lineno}: .{node.attr} is not allowed in scripts")


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression in restricted mode; raises ``ScriptError`` with the compiler's reasons."""
    _check_tree(source.strip(), "eval")
    result = compile_restricted_eval(source.strip(), SCRIPT_FILENAME)
    if result.errors or result.code is None:
        raise ScriptError("; ".join(result.errors) or "could not compile expression")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    _check_tree(source, "exec")
    result = compile_restricted_exec(source, SCRIPT_FILENAME)
    if result.errors or result.code is None:
        raise ScriptError("; ".join(result.errors) or "could not compile script")
    return result.code


@dataclass
class _Deadline:
    """Stops sandboxed code that runs too long, by tracing only frames of the compiled scripts."""

    limit: float
    started: float = field(default_factory=time.perf_counter)

    def local_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if time.perf_counter() - self.started > self.limit:
            raise ScriptTimeout(f"script ran longer than {self.limit:.1f}s")
        return self.local_trace

    def global_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            return self.local_trace(frame, event, arg)
        return None


def _run_limited(code: CodeType, namespace: dict[str, Any], limit: float) -> Any:
    deadline = _Deadline(limit)
    previous = sys.gettrace()
    sys.settrace(deadline.global_trace)
    try:
        return eval(code, namespace)
    finally:
        sys.settrace(previous)


def _helpers(context: Mapping[str, Any]) -> dict[str, Any]:
    """Product helpers bound to the data of the task being evaluated."""

    def now() -> str:
        return _services().now().astimezone(SHANGHAI).isoformat()

    def due(rule: str, start: str | datetime) -> str:
        deadline = _services().due(rule, start, context.get("received_at"))
        return deadline.isoformat()

    def notify_complainant(template: str, **extra: Any) -> None:
        _services().notify_complainant(template, {**context, **extra})

    def file_case() -> str:
        return _services().file_case(context)

    def close_case(decision: str) -> None:
        _services().close_case(context, decision)

    return {"now": now, "due": due, "notify_complainant": notify_complainant,
            "file_case": file_case, "close_case": close_case}


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment backed by RestrictedPython."""

    def __init__(self, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        super().__init__({})
        self.time_limit = time_limit

    def _namespace(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        namespace: dict[str, Any] = dict(context)
        namespace.update(external or {})
        namespace.update(_helpers(context))
        namespace.update(_GUARDS)
        namespace["__builtins__"] = _ALLOWED_BUILTINS
        return namespace

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        code = compile_expression(expression)
        return _run_limited(code, self._namespace(context, external_context), self.time_limit)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        clashes = set(HELPER_NAMES) & set(context)
        if clashes:
            raise ScriptError(f"task data uses reserved helper names: {sorted(clashes)}")
        code = compile_script(script)
        namespace = self._namespace(context, external_context)
        _run_limited(code, namespace, self.time_limit)
        helper_ids = {k: id(v) for k, v in _helpers({}).items()}
        for key in list(context):
            if key not in namespace:
                del context[key]
        for key, value in namespace.items():
            if key in _RESERVED or key in helper_ids or callable(value) or key.startswith("_"):
                continue
            context[key] = value
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ScriptError("service tasks are not supported")


def make_script_engine(time_limit: float = DEFAULT_TIME_LIMIT) -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment(time_limit))


def root_cause(exc: BaseException) -> BaseException:
    """SpiffWorkflow wraps script errors; the real cause sits in ``__context__``/``__cause__``."""
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "exception", None) or current.__cause__ or current.__context__
        if inner is None:
            break
        current = inner
    return current
