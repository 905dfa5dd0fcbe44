"""The site's jinja2 templates (pipeline/report/templates), compiled once, autoescaping always."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one jinja2 environment: templates from pipeline/templates, autoescape always on."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def css() -> Markup:
    """The stylesheet, inlined into every page."""
    return Markup((TEMPLATES / "style.css").read_text(encoding="utf-8"))


def _render(template: str, **context: Any) -> str:
    return _template(template).render(css=css(), **context)


@lru_cache(maxsize=None)
def _template(name: str) -> jinja2.Template:
    """A template, compiled once (not looked up and checked for changes on every page)."""
    return environment().get_template(name)
