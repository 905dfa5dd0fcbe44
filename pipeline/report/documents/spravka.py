"""spravka.docx: the analytic report as a Word document with the requisites of ГОСТ Р
7.0.97-2025 — approval block, organisation, document type, date and number, place, title —
then the report's sections as the published page shows them (text, tables, charts), and the
executor mark at the end; page numbers from the second page."""

from __future__ import annotations

from pathlib import Path

from ..context import ReportContext
from ..sections import SECTIONS
from . import base
from .fromhtml import write_html

FILE = "spravka.docx"
KIND = "АНАЛИТИЧЕСКАЯ СПРАВКА"
# sections of the page that are not text of the справка: its own header (the requisites
# replace it), the navigation, the list of school pages, the footer (the executor mark)
LEFT_OUT = ("header", "cycle", "schools", "footer")


def title_text(ctx: ReportContext) -> str:
    """The title to the text: the header's title without the document kind it repeats."""
    t = ctx.params.header.title.strip()
    for kind in ("Аналитическая справка ", "аналитическая справка "):
        if t.startswith(kind):
            t = t[len(kind):]
    return t[:1].upper() + t[1:]


def build(ctx: ReportContext):
    """The справка as a python-docx Document."""
    p = ctx.params
    doc = base.new_document()
    base.approval_block(doc, p, p.header.order_date)
    base.organisation(doc, p)
    base.kind_date_number_place(doc, KIND, p.documents.spravka_date, p.documents.spravka_number, p.documents.place)
    base.title(doc, title_text(ctx))
    base.para(doc, f"Приложение к приказу {base.number_text(p.header.order_number)} от "
                   f"{base.fmt_doc_date(p.header.order_date)}.", italic=True, after=6)
    for section in SECTIONS:
        if section.name in LEFT_OUT:
            continue
        write_html(doc, section.html(ctx), p.documents.max_rows)
    base.executor_mark(doc, p)
    base.page_numbers(doc)
    return doc


def write(ctx: ReportContext, out_dir: Path) -> Path:
    return base.save(build(ctx), Path(out_dir) / FILE, ctx.params, f"{KIND.capitalize()}: {title_text(ctx)}")
