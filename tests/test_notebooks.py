"""Audit HTML of an executed notebook: the same page nbconvert's HTMLExporter makes, without
its whole-page BeautifulSoup pass (which is what made a 20 MB report take minutes)."""

from __future__ import annotations

import subprocess
import sys

import nbformat
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline.run.notebooks import html_exporter, to_html

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _notebook() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[
        new_markdown_cell("# Этап\n\nТекст <b>жирный</b>."),
        new_code_cell("x = '<script>alert(1)</script>'\nprint(x)", execution_count=1, outputs=[
            new_output("stream", name="stdout", text="<script>alert(1)</script>\n"),
        ]),
        new_code_cell("show()", execution_count=2, outputs=[
            new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
            new_output("execute_result", execution_count=2,
                       data={"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "1"}),
        ]),
    ])
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def test_audit_html_matches_nbconvert_without_its_soup_pass():
    from nbconvert import HTMLExporter

    nb = _notebook()
    ours = BeautifulSoup(html_exporter(template_name="lab").from_notebook_node(nb)[0], "html.parser")
    theirs = BeautifulSoup(HTMLExporter(template_name="lab").from_notebook_node(nb)[0], "html.parser")
    assert ours.get_text() == theirs.get_text()
    assert [t.name for t in ours.find_all(True)] == [t.name for t in theirs.find_all(True)]

    def focusable(soup):
        return sorted(" ".join(e.get("class", [])) for e in soup.select("[tabindex]"))

    assert focusable(ours) == focusable(theirs) and focusable(ours)
    assert all(img.get("alt") for img in ours.find_all("img"))


def test_audit_page_escapes_code_and_outputs_and_loads_nothing():
    page = to_html(_notebook(), "2026 · проверка")
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find("script", string=lambda s: s and "alert(1)" in s) is None
    assert soup.get_text().count("<script>alert(1)</script>") == 2  # the code and its output, as text
    assert not [s for s in soup.find_all("script") if s.get("src")]
    assert "2026 · проверка" in soup.title.get_text()


def test_rfc3987_syntax_is_not_imported():
    """jsonschema would build a whole IRI grammar at import (seconds per process)."""
    code = ("import pipeline, papermill, nbconvert, sys; "
            "print(sys.modules.get('rfc3987_syntax') is None, 'nbformat' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_deterministic_copy_joins_the_pieces_of_one_printed_stream():
    """Where the kernel cuts printed text depends on timing; the audit copy must not."""
    from pipeline.run.notebooks import make_deterministic

    def cell(*pieces):
        return new_code_cell("print(...)", outputs=[new_output("stream", name=n, text=t) for n, t in pieces])

    nb = new_notebook(cells=[cell(("stdout", "Tr"), ("stdout", "ue\n"), ("stderr", "w\n"), ("stdout", "x")),
                             cell(("stdout", "True\n"))])
    make_deterministic(nb, input_path="in.ipynb", output_path="out.ipynb")
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [("stdout", "True\n"), ("stderr", "w\n"), ("stdout", "x")]
    assert [(o.name, o.text) for o in nb.cells[1].outputs] == [("stdout", "True\n")]
