"""Notebook housekeeping: notebooks live in git without outputs; executed copies are made
deterministic (no timings, no random ids) and exported to self-contained HTML for auditors."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any

import nbformat

# Tag papermill puts on the cell it injects with the run's parameters.
INJECTED_TAG = "injected-parameters"
# Tag papermill puts on the banner cell it adds at the top of a failed notebook.
ERROR_TAG = "papermill-error-cell-tag"
# Timing keys papermill and nbclient write into the metadata on every execution.
_PAPERMILL_VOLATILE = ("start_time", "end_time", "duration", "environment_variables", "input_path", "output_path")


def strip_outputs(path: str | Path) -> bool:
    """Remove outputs and execution counts in place; True if the file changed."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell["outputs"] = []
            cell["execution_count"] = None
            changed = True
        for key in ("execution", "papermill"):
            if key in cell.get("metadata", {}):
                del cell["metadata"][key]
                changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def has_outputs(path: str | Path) -> bool:
    """True if any code cell of the notebook carries outputs or an execution count."""
    nb = nbformat.read(Path(path), as_version=4)
    return any(
        cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
        for cell in nb.cells
    )


def parameters_cell(path: str | Path) -> nbformat.NotebookNode | None:
    """The notebook's cell tagged `parameters` (papermill's convention), or None."""
    nb = nbformat.read(Path(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def assigned_names(source: str) -> set[str]:
    """Names assigned at the top level of a cell's source (`x = 1`, `x: str = ""`)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def make_deterministic(nb: nbformat.NotebookNode, *, input_path: str, output_path: str) -> nbformat.NotebookNode:
    """Remove what changes from one execution to the next, in place.

    Papermill and nbclient record start/end times, durations and the environment; papermill
    gives the cells it adds (injected parameters, error banner) random ids. Timings go, the
    ids become fixed names, and the notebook records where it came from and where it is kept
    as the caller names them (not the temporary paths of the run). Where the kernel happened
    to cut a cell's printed text into pieces depends on timing: consecutive pieces of one
    stream are joined.
    """
    pm = nb.metadata.get("papermill")
    if pm is not None:
        for key in _PAPERMILL_VOLATILE:
            pm.pop(key, None)
        pm["input_path"] = input_path
        pm["output_path"] = output_path
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {})
        meta.pop("execution", None)
        cell_pm = meta.get("papermill")
        if cell_pm is not None:
            for key in _PAPERMILL_VOLATILE:
                cell_pm.pop(key, None)
        if cell.cell_type == "code":
            cell["outputs"] = join_streams(cell.get("outputs", []))
        tags = meta.get("tags", [])
        if INJECTED_TAG in tags:
            cell["id"] = INJECTED_TAG
        elif ERROR_TAG in tags:
            cell["id"] = f"papermill-error-{index}"
    return nb


def join_streams(outputs: list) -> list:
    """Outputs with consecutive pieces of one stream (stdout, stderr) joined into one."""
    joined: list = []
    for out in outputs:
        last = joined[-1] if joined else None
        if (last is not None and out.get("output_type") == "stream" and last.get("output_type") == "stream"
                and last.get("name") == out.get("name")):
            last["text"] = last["text"] + out["text"]
        else:
            joined.append(out)
    return joined


_AUDIT_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{#- our own code, highlighted (pygments escapes it): no second HTML sanitising pass -#}
{% block input %}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline">
     <div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
     </div>
</div>
{%- endblock input %}
"""

_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
_FOCUSABLE = re.compile(r'(<div class="[^"]*(?<![\w-])(?:jp-Cell-inputWrapper|jp-OutputArea-output)(?![\w-])[^"]*")')


@functools.lru_cache(maxsize=1)
def _exporter_class():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class LinearHTMLExporter(HTMLExporter):
        """nbconvert's HTMLExporter without its final pass through BeautifulSoup.

        That pass (nbconvert 7) re-parses the whole page only to add alt texts and tabindex
        attributes, and costs seconds per megabyte: a report of 10,000 schools is ~20 MB of
        tables. The same two additions are made here with regular expressions on the page
        nbconvert's own templates wrote.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html = _IMG_WITHOUT_ALT.sub('<img alt="Рисунок без подписи"', html)
            html = _FOCUSABLE.sub(r'\1 tabindex="0"', html)
            return html, resources

    return LinearHTMLExporter


def html_exporter(**config: Any):
    """An HTMLExporter (nbconvert's options as keywords) that scales linearly with the page."""
    return _exporter_class()(**config)


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The notebook (code and outputs) as one self-contained HTML page.

    JupyterLab's look, without the scripts nbconvert would load from a CDN (require.js,
    MathJax, mermaid): the page opens offline from file:// and makes no external requests.
    """
    import jinja2

    exporter = html_exporter(
        extra_loaders=[jinja2.DictLoader({"audit.html.j2": _AUDIT_TEMPLATE})],
        template_file="audit.html.j2",
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body
