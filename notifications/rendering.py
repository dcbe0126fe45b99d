"""Render notices from Jinja2 templates (zh-CN): one file per event, with ``subject`` and ``text`` blocks.

- Strict: a missing variable raises ``TemplateError`` (``StrictUndefined``), never renders as "".
- HTML is autoescaped: text typed into a form (a rejection reason) cannot inject markup into an
  e-mail. A template may define an ``html`` block; otherwise the text is laid out as paragraphs.
- Admins override a template by putting a file of the same name in the override directory
  (``COMPLAINTFLOW_TEMPLATES_DIR``). Overrides are picked up while running — adding, editing or
  removing a file takes effect at the next render — and ``check_templates`` validates a directory
  before it goes live.
- Each template documents the variables it needs in its header comment (``context: a, b``), and
  those a caller may leave out (``optional: c``; the template tests them with ``is defined``);
  ``documented_variables`` reads both lines, and the tests hold every template to them.
- Dates in a notice read as official Chinese (2026年11月27日), never ISO: the ``cn_date`` filter
  turns a date, a datetime (taken in Asia/Shanghai) or an ISO string into that form.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateNotFound, TemplateSyntaxError, Undefined, meta
from jinja2 import Template as JinjaTemplate

from notifications.errors import TemplateError, UnknownTemplate
from notifications.samples import SAMPLE_CONTEXTS

BUILT_IN = Path(__file__).parent / "templates"
SUFFIX = ".j2"
LAYOUT = "_layout.html.j2"
TEMPLATE_NAMES: tuple[str, ...] = (
    "acceptance", "rejection", "transfer", "termination", "agreement", "case_filed", "case_not_filed",
    "association_acceptance", "referral", "reminder", "overdue", "escalation", "digest", "not_mediated",
    "odr_offer", "settled", "odr_ended", "business_notice", "designation", "designated",
)
"""The events the product sends (``digest`` is the daily bundle of reminders)."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")
_CONTEXT_LINE = re.compile(r"^\s*context:\s*(.*?)\s*$", re.MULTILINE)
_OPTIONAL_LINE = re.compile(r"^\s*optional:\s*(.*?)\s*$", re.MULTILINE)
_SHANGHAI = ZoneInfo("Asia/Shanghai")
_REQUIRED_BLOCKS = ("subject", "text")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class _OverridableLoader(BaseLoader):
    """The override directory first, then the built-in templates, re-checked at every render.

    Jinja caches compiled templates; the ``uptodate`` callback below also notices an override
    file appearing or disappearing, which a plain ``ChoiceLoader`` would not."""

    def __init__(self, override_dir: str | None) -> None:
        self.override_dir = Path(override_dir) if override_dir else None

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        override = self.override_dir / template if self.override_dir else None
        built_in = BUILT_IN / template
        if override is not None and override.is_file():
            return _read(override, lambda: override.is_file())
        if built_in.is_file():
            return _read(built_in, lambda: override is None or not override.is_file())
        raise TemplateNotFound(template)


def _read(path: Path, still_chosen: Callable[[], bool]) -> tuple[str, str, Callable[[], bool]]:
    mtime = path.stat().st_mtime_ns
    source = path.read_text(encoding="utf-8")

    def uptodate() -> bool:
        try:
            return still_chosen() and path.stat().st_mtime_ns == mtime
        except OSError:
            return False

    return source, os.fspath(path), uptodate


@lru_cache(maxsize=8)
def _environments(override_dir: str | None) -> tuple[Environment, Environment]:
    loader = _OverridableLoader(override_dir)
    options: dict[str, Any] = {"loader": loader, "undefined": StrictUndefined, "trim_blocks": True,
                               "lstrip_blocks": True, "auto_reload": True}
    environments = Environment(autoescape=False, **options), Environment(autoescape=True, **options)
    for environment in environments:
        environment.filters["cn_date"] = cn_date
    return environments


def cn_date(value: object) -> str:
    """``2026年11月27日`` from a date, an aware datetime (its Asia/Shanghai day), an ISO date or
    datetime string, or a date already written in Chinese (kept as it is)."""
    if isinstance(value, Undefined):
        str(value)  # a missing variable: StrictUndefined raises "'x' is undefined" here
    if isinstance(value, str):
        text = value.strip()
        if "年" in text:
            return text
        try:
            value = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a date: {value!r}") from None
    if isinstance(value, datetime):
        value = value.astimezone(_SHANGHAI).date() if value.tzinfo is not None else value.date()
    if not isinstance(value, date):
        raise ValueError(f"not a date: {value!r}")
    return f"{value.year}年{value.month}月{value.day}日"


def _load(name: str, env: Environment) -> JinjaTemplate:
    if not _NAME.fullmatch(name):
        raise UnknownTemplate(name, TEMPLATE_NAMES)
    try:
        return env.get_template(name + SUFFIX)
    except TemplateNotFound:
        raise UnknownTemplate(name, TEMPLATE_NAMES) from None
    except TemplateSyntaxError as exc:
        raise TemplateError(name, f"syntax error on line {exc.lineno}: {exc.message}") from None


def _block(template: JinjaTemplate, block: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[block](template.new_context(context)))


def render(name: str, context: Mapping[str, Any], override_dir: str | None = None) -> Rendered:
    """Subject (one line), plain text and HTML of a notice; ``TemplateError`` if it cannot be rendered."""
    text_env, html_env = _environments(override_dir)
    template = _load(name, text_env)
    missing = [block for block in _REQUIRED_BLOCKS if block not in template.blocks]
    if missing:
        raise TemplateError(name, f"the template has no {' or '.join(missing)} block")
    values = dict(context)
    try:
        subject = " ".join(_block(template, "subject", values).split())  # one line: no header injection
        text = _block(template, "text", values).strip()
        html_template = _load(name, html_env)
        if "html" in html_template.blocks:
            html = _block(html_template, "html", {**values, "subject": subject}).strip()
        else:
            html = html_env.get_template(LAYOUT).render(subject=subject, paragraphs=text.split("\n"))
    except TemplateError:
        raise
    except Exception as exc:  # jinja2's UndefinedError, and whatever a faulty override raises
        raise TemplateError(name, str(exc)) from None
    if not subject:
        raise TemplateError(name, "the subject renders empty")
    return Rendered(subject, text, html)


def used_variables(name: str, override_dir: str | None = None) -> frozenset[str]:
    """The variables the template (as currently overridden) reads from its context."""
    text_env, _ = _environments(override_dir)
    _load(name, text_env)  # unknown names and syntax errors, reported the usual way
    assert text_env.loader is not None  # _environments always gives a loader
    source, _filename, _ = text_env.loader.get_source(text_env, name + SUFFIX)
    return _undeclared(source)


@lru_cache(maxsize=128)
def _undeclared(source: str) -> frozenset[str]:
    """Parsing is the costly part and every enqueue asks: remembered per template text."""
    return frozenset(meta.find_undeclared_variables(_PARSER.parse(source)))


_PARSER = Environment()
_PARSER.filters["cn_date"] = cn_date


def documented_variables(name: str, override_dir: str | None = None) -> frozenset[str]:
    """The ``context:`` and ``optional:`` lines of the template's header comment: what a caller
    provides (``optional_variables`` are those it may leave out)."""
    return _header_line(name, override_dir, _CONTEXT_LINE) | _header_line(name, override_dir, _OPTIONAL_LINE)


def optional_variables(name: str, override_dir: str | None = None) -> frozenset[str]:
    """The ``optional:`` line of the template's header comment: variables a caller may leave out."""
    return _header_line(name, override_dir, _OPTIONAL_LINE)


def _header_line(name: str, override_dir: str | None, line: re.Pattern[str]) -> frozenset[str]:
    text_env, _ = _environments(override_dir)
    _load(name, text_env)
    assert text_env.loader is not None  # _environments always gives a loader
    source, _filename, _ = text_env.loader.get_source(text_env, name + SUFFIX)
    match = line.search(source.split("#}", 1)[0]) if source.lstrip().startswith("{#") else None
    if match is None:
        return frozenset()
    return frozenset(v.strip() for v in match.group(1).split(",") if v.strip())


def check_templates(override_dir: str | None, samples: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Problems with the templates as overridden, for an admin before an override goes live.

    Every template must render with its sample context and may use only the variables the built-in
    version documents (callers provide nothing else). An empty list means all is well."""
    samples = SAMPLE_CONTEXTS if samples is None else samples
    problems: list[str] = []
    for name in TEMPLATE_NAMES:
        try:
            allowed = documented_variables(name)
            extra = used_variables(name, override_dir) - allowed - {"subject"}  # an html block may show it
            if extra:
                problems.append(f"{name}: uses variables callers do not provide: {', '.join(sorted(extra))}")
            render(name, samples[name], override_dir)
        except TemplateError as exc:
            problems.append(f"{name}: {exc.reason}")
    return problems
