"""Errors the engine raises to its callers, each carrying the data a client needs.

    EngineError
    ├── NotFound                 (unknown id, or an object the caller may not see → 404)
    ├── Forbidden                (seen but not allowed, e.g. another user's claimed task → 403)
    ├── Conflict                 (the instance changed underneath, or the task is no longer ready → 409)
    ├── InvalidInput             (form data, complaint body, … with field errors → 422)
    ├── InvalidWorkflow          (a BPMN file fails validation; errors name the element → 400)
    └── ScriptError              (a sandboxed expression failed or was refused)
        └── ScriptLimitExceeded  (a sandbox bound stopped it: size, work, memory …)
            └── ScriptTimeout    (… or time)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class EngineError(Exception):
    """Base of every error the engine reports on purpose."""


class NotFound(EngineError):
    pass


class Forbidden(EngineError):
    pass


class Conflict(EngineError):
    pass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidInput(EngineError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class WorkflowIssue:
    """One problem in a BPMN file, pointing at the element an admin must fix and/or its line in the file.

    ``line`` is 1-based; it is the only pointer for nodes without an id (a missing child element, an
    XML syntax error …)."""

    element_id: str | None
    message: str
    element_name: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "element_name": self.element_name, "message": self.message,
                "line": self.line}

    @property
    def where(self) -> str:
        """The element id, else 「第 N 行」, else "-" (for one-line summaries)."""
        return self.element_id or (f"第 {self.line} 行" if self.line is not None else "-")


class InvalidWorkflow(EngineError):
    def __init__(self, issues: list[WorkflowIssue]) -> None:
        super().__init__("; ".join(f"{i.where}: {i.message}" for i in issues))
        self.issues = issues


class ScriptError(EngineError):
    pass


class ScriptLimitExceeded(ScriptError):
    """A sandbox bound stopped the script: a result too large, too much data walked, memory, or time.

    Its own type so that callers and tests can tell a bound from an ordinary script error."""


class ScriptTimeout(ScriptLimitExceeded):
    pass
