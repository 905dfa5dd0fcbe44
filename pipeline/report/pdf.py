"""documents/report.pdf: the year's analytic report ready to print, made by WeasyPrint from the
published index.html and its print stylesheet (templates/print.css): A4, the running header,
page numbers, table headers repeated on every page, no chart or table row cut across pages.

WeasyPrint (pure Python, installed with pip) needs no browser at run time and lays out the
page margin boxes, repeated table headers and Russian hyphenation (pyphen) itself. The PDF is
the same bytes for the same page (no creation date; the file identifier is derived from the
content), so `verify` can compare it byte for byte.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..io.storage import write_bytes_atomic

if TYPE_CHECKING:
    from .context import ReportContext
    from .reuse import Outputs

PDF_NAME = "documents/report.pdf"


CACHE = "report-pdf"   # processed_dir/.cache/report-pdf.json (report/reuse.py)
_LIBRARIES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "pyphen", "fonttools", "Pillow", "tinyhtml5")


def pdf_source(html_path: str | Path) -> str:
    """What WeasyPrint lays out: the page with its links as seen from documents/."""
    return links_from_documents(Path(html_path).read_text(encoding="utf-8"))


def pdf_key(html: str) -> str:
    """What report.pdf depends on: the page (its stylesheets are inlined), the code, the
    layout libraries and the installed fonts."""
    from . import reuse

    return reuse.digest(reuse.code_key(*_LIBRARIES, fonts=True), f"pango={_pango_version()}", html)


def _pango_version() -> int:
    """The Pango library WeasyPrint lays text out with (a system library, not a package)."""
    from weasyprint.text.ffi import pango

    return int(pango.pango_version())


def report_pdf_bytes(html_path: str | Path, html: str | None = None) -> bytes:
    """The PDF of one published page (index.html): its images are data URIs, so nothing is
    fetched; the print stylesheet inlined in the page gives the layout. html: pdf_source of
    the page when already read."""
    import weasyprint

    # WeasyPrint warns about the screen stylesheet's properties it does not know (e.g. the
    # scrollbars' -webkit- ones); they do not change the printed page
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    html = pdf_source(html_path) if html is None else html
    # no base URL: WeasyPrint would make every link absolute (file:///…/reports/2026/…), so the
    # PDF would name the folder it was built in — and differ from a re-run elsewhere (verify)
    doc = weasyprint.HTML(string=html, base_url=None, media_type="print")
    return doc.write_pdf(uncompressed_pdf=False, custom_metadata=False)


_RELATIVE_HREF = re.compile(r'href="(?![a-zA-Z][a-zA-Z0-9+.-]*:|#|/)')


def links_from_documents(html: str) -> str:
    """The page's relative links as seen from documents/, where report.pdf lies beside the
    year's page (schools/0101.html → ../schools/0101.html); anchors and absolute links stay."""
    return _RELATIVE_HREF.sub('href="../', html)


def too_large_pdf_bytes(n_schools: int, limit: int) -> bytes:
    """A one-page PDF in place of a report too large to lay out within the run: what it holds
    instead and what to do."""
    import weasyprint

    html = (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Аналитическая справка</title>'
        '<style>@page { size: A4; margin: 25mm 20mm; } body { font: 12pt/1.5 "Liberation Sans", Arial, '
        '"DejaVu Sans", sans-serif; }</style></head><body>'
        "<h1>Аналитическая справка: PDF не построен</h1>"
        f"<p>В справке {n_schools} ОО — больше, чем параметр года <code>report.pdf_max_schools</code> "
        f"({limit}): справка такого размера занимает сотни страниц, и их вёрстка заняла бы минуты прогона.</p>"
        "<p>Что сделать: распечатайте страницу <code>index.html</code> из браузера (стиль печати: A4, номера "
        "страниц, шапки таблиц на каждой странице) или увеличьте <code>report.pdf_max_schools</code> "
        "и запустите этап отчёта снова.</p></body></html>")
    return weasyprint.HTML(string=html).write_pdf(custom_metadata=False)


def write_report_pdf(out_dir: str | Path, n_schools: int = 0, max_schools: int | None = None,
                     cache: "Outputs | None" = None) -> Path:
    """out_dir/documents/report.pdf from out_dir/index.html, written atomically; a report of
    more than max_schools schools gets the one-page notice of too_large_pdf_bytes instead.
    cache: the PDF made last time from the same page is taken instead of laid out again."""
    out = Path(out_dir)
    target = out / PDF_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    if max_schools is not None and n_schools > max_schools:
        return write_bytes_atomic(target, too_large_pdf_bytes(n_schools, max_schools))
    if cache is None:
        return write_bytes_atomic(target, report_pdf_bytes(out / "index.html"))
    html = pdf_source(out / "index.html")
    key = pdf_key(html)
    if not cache.take(PDF_NAME, key, target):
        data = report_pdf_bytes(out / "index.html", html)
        write_bytes_atomic(target, data)
        cache.remember(PDF_NAME, key, data)
    cache.save()
    return target


def write_year_pdf(ctx: "ReportContext", out_dir: str | Path, reuse_last: bool = True) -> Path:
    """The year's report.pdf (the report notebook's call): the full report, or the notice when
    the year has more registry schools than its `report.pdf_max_schools`. reuse_last: the PDF
    of the last run is taken when the page is the same (processed_dir/.cache/report-pdf.json)."""
    from . import reuse

    cache = reuse.Outputs(ctx.params.processed_dir, ctx.params.reports_dir, CACHE) if reuse_last else None
    return write_report_pdf(out_dir, len(ctx.data["scores.csv"]), ctx.params.report.pdf_max_schools, cache)
