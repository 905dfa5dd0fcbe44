"""The site's jinja2 templates (pipeline/report/templates), compiled once, autoescaping always."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one jinja2 environment: templates from pipeline/templates, autoescape always on."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = css_string
    return env


@lru_cache(maxsize=1)
def css() -> Markup:
    """The stylesheet, inlined into every page."""
    return Markup((TEMPLATES / "style.css").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def print_css() -> Markup:
    """The print stylesheet (A4 pages, running header, page numbers), inlined into every page
    with media="print"."""
    return Markup((TEMPLATES / "print.css").read_text(encoding="utf-8"))


# what may not stand as itself in a quoted CSS string inside <style>: the quotes, the backslash,
# angle brackets (no «</style>»), control characters and line separators
_CSS_UNSAFE = re.compile(r"[\"\\'<>&\x00-\x1f\x7f\u2028\u2029]")


def css_string(value: Any) -> Markup:
    """value as a double-quoted CSS string that is safe inside <style>: every character that
    could end the string or the element written as a CSS hex escape («"» → «\\22 »)."""
    return Markup('"' + _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", str(value)) + '"')


def _render(template: str, **context: Any) -> str:
    return _template(template).render(css=css(), print_css=print_css(), **context)


@lru_cache(maxsize=None)
def _template(name: str) -> jinja2.Template:
    """A template, compiled once (not looked up and checked for changes on every page)."""
    return environment().get_template(name)
