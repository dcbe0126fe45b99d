"""Render notices from Jinja2 templates (zh-CN): one file per event with ``subject`` and ``text`` blocks.

Variables are strict (a missing one is an error, never an empty string) and HTML is autoescaped, so
text typed into a form (a rejection reason) cannot inject markup into an email. Admins override a
template by putting a file of the same name in ``COMPLAINTFLOW_TEMPLATES_DIR``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

BUILT_IN = Path(__file__).parent / "templates"
TEMPLATES = tuple(sorted(p.stem for p in BUILT_IN.glob("*.j2") if not p.name.startswith("_")))


class TemplateError(Exception):
    """A template is unknown or cannot be rendered with the context given."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=8)
def _environments(override_dir: str | None) -> tuple[Environment, Environment]:
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loader = ChoiceLoader([*loaders, FileSystemLoader(str(BUILT_IN))])
    text = Environment(loader=loader, undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    html = Environment(loader=loader, undefined=StrictUndefined, autoescape=True)
    return text, html


def render(name: str, context: Mapping[str, Any], override_dir: str | None = None) -> Rendered:
    text_env, html_env = _environments(override_dir)
    try:
        template = text_env.get_template(f"{name}.j2")
    except TemplateNotFound:
        raise TemplateError(f"unknown notice template {name!r}; known: {', '.join(TEMPLATES)}") from None
    try:
        ctx = template.new_context(dict(context))
        subject = "".join(template.blocks["subject"](ctx)).strip()
        text = "".join(template.blocks["text"](ctx)).strip()
        html = html_env.get_template("_layout.html.j2").render(subject=subject, text=text)
    except KeyError as exc:
        raise TemplateError(f"template {name!r} lacks the block {exc}") from None
    except Exception as exc:  # jinja2's UndefinedError and anything a bad override raises
        raise TemplateError(f"template {name!r}: {exc}") from None
    return Rendered(subject, text, html)
