"""Where an issue is: the element an admin can search for in the modeler, and the line in the file.

Files from other modelers put ids on most elements but not all (``sourceRef``, ``extensionElements``,
event definitions …); an issue about such a node names its nearest enclosing element with an id and
the node's own line, so that it can be found either way.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from engine.errors import WorkflowIssue


def local_name(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else "?"


def owner(node: etree._Element) -> etree._Element:
    """The node itself when it has an id, else its nearest ancestor with one (else the node)."""
    current: etree._Element | None = node
    while current is not None and current.get("id") is None:
        current = current.getparent()
    return current if current is not None else node


def node_issue(node: etree._Element, message: str) -> WorkflowIssue:
    """An issue about ``node``: its own line, and the id of the element that holds it."""
    found = owner(node)
    return WorkflowIssue(found.get("id"), message, found.get("name") or None, node.sourceline)


def find_by_id(root: etree._Element, element_id: str) -> etree._Element | None:
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") == element_id:
            return node
    return None


def with_lines(issues: list[WorkflowIssue], root: etree._Element) -> list[WorkflowIssue]:
    """The issues with the line of their element filled in, where the element is in the file."""
    if all(issue.line is not None or not issue.element_id for issue in issues):
        return issues
    lines: dict[str, int] = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") is not None and node.sourceline is not None:
            lines.setdefault(node.get("id", ""), node.sourceline)
    return [replace(issue, line=lines.get(issue.element_id)) if issue.line is None and issue.element_id
            else issue for issue in issues]
