"""The packages form layers, and no import points up — function-level imports included.

    engine  ←  notifications  ←  agencies  ←  complaintflow (use cases, settings, wiring)  ←  web  ←  complaintflow.cli

``engine`` runs BPMN, persistence and deadlines and knows nothing of the product; ``notifications``
renders and delivers what it is given; ``agencies`` is the domain; ``complaintflow`` runs each use
case in one unit of work and wires the product; ``web`` (API and pages) adapts HTTP to the use cases;
the command line sits on top, since ``serve`` starts the web application.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["engine", "notifications", "agencies", "complaintflow", "web", "complaintflow.cli"]
ENTRY_POINTS = {"complaintflow.cli"}  # modules that form a layer of their own, above their package


def layer_of(module: str) -> str | None:
    for entry in ENTRY_POINTS:
        if module == entry or module.startswith(entry + "."):
            return entry
    top = module.split(".")[0]
    return top if top in LAYERS else None


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """Every module ``path`` imports (absolute and relative, at any depth of the file), with its line."""
    found: list[tuple[int, str]] = []
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def product_modules() -> list[tuple[Path, str]]:
    modules = []
    for top in ("engine", "notifications", "agencies", "complaintflow", "web"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules.append((path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)))
    return modules


def test_no_import_points_up_a_layer() -> None:
    upward = []
    for path, module in product_modules():
        own = layer_of(module)
        assert own is not None
        for line, target in imports(path, module):
            other = layer_of(target)
            if other is not None and LAYERS.index(other) > LAYERS.index(own):
                upward.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {target} ({other})")
    assert upward == []


def test_the_check_sees_function_level_imports() -> None:
    """The check itself: an import inside a function counts as much as one at the top."""
    source = ROOT / "tests" / "_probe_module.py"
    source.write_text("def f():\n    from web.app import create_app\n    return create_app\n", encoding="utf-8")
    try:
        assert (2, "web.app") in imports(source, "engine.probe")
    finally:
        source.unlink()


# what builds or runs SQL, or ends a transaction: the pages leave both to web.queries and the services
SQL_NAMES = {"select", "insert", "update", "delete", "text", "func", "and_", "or_", "exists"}


def test_pages_write_no_sql_and_commit_nothing() -> None:
    """Page handlers read through ``web.queries`` (the API's read side) and write through the services, so a
    page can never do what the API would refuse, nor commit half of a change."""
    found = []
    for path in sorted((ROOT / "web" / "pages").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}" for alias in node.names
                          if alias.name in SQL_NAMES]
            elif isinstance(node, ast.Attribute) and node.attr in {"commit", "execute", "scalar", "scalars"}:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls .{node.attr}")
    assert found == []
