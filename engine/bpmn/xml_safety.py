"""Parse uploaded BPMN XML so that a hostile file cannot harm the server.

Entity expansion, DTDs and network access are off; size, element count and depth are bounded
before SpiffWorkflow sees anything. Rejections are ``InvalidWorkflow`` (HTTP 400).
"""

from __future__ import annotations

from lxml import etree

from engine.errors import InvalidWorkflow, WorkflowIssue

MAX_BYTES = 5 * 1024 * 1024
MAX_ELEMENTS = 50_000
MAX_DEPTH = 64


def _reject(message: str, line: int | None = 1) -> InvalidWorkflow:
    """A refusal of the whole file, pointing at the line at fault (the first line when it is the whole file)."""
    return InvalidWorkflow([WorkflowIssue(None, message, line=line)])


def _line_of(raw: bytes, needle: bytes) -> int:
    at = raw.upper().find(needle)
    return raw[:at].count(b"\n") + 1 if at >= 0 else 1


def parse_bpmn_xml(data: bytes | str) -> etree._Element:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise _reject(f"文件过大 / file too large: {len(raw)} bytes (limit {MAX_BYTES})")
    head = raw[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in raw.upper():
        raise _reject("不允许 DTD 或实体声明 / DOCTYPE and entity declarations are not allowed",
                      _line_of(raw, b"<!DOCTYPE" if b"<!DOCTYPE" in head else b"<!ENTITY"))
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise _reject(f"XML 语法错误（第 {exc.lineno} 行）/ malformed XML: {exc}", exc.lineno or 1) from None
    _check_shape(root)
    return root


def _check_shape(root: etree._Element) -> None:
    count = 0
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise _reject(f"嵌套过深 / nesting deeper than {MAX_DEPTH} levels", node.sourceline)
        if count > MAX_ELEMENTS:
            raise _reject(f"元素过多 / more than {MAX_ELEMENTS} elements", node.sourceline)
        stack.extend((child, depth + 1) for child in node)
