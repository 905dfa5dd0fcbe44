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
from pathlib import Path

from ..io.storage import write_bytes_atomic

PDF_NAME = "documents/report.pdf"


def report_pdf_bytes(html_path: str | Path) -> bytes:
    """The PDF of one published page (index.html): its images are data URIs, so nothing is
    fetched; the print stylesheet inlined in the page gives the layout."""
    import weasyprint

    # WeasyPrint warns about the screen stylesheet's properties it does not know (e.g. the
    # scrollbars' -webkit- ones); they do not change the printed page
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    page = Path(html_path)
    doc = weasyprint.HTML(filename=str(page), base_url=str(page.parent), media_type="print")
    return doc.write_pdf(uncompressed_pdf=False, custom_metadata=False)


def write_report_pdf(out_dir: str | Path) -> Path:
    """out_dir/documents/report.pdf from out_dir/index.html, written atomically."""
    out = Path(out_dir)
    target = out / PDF_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(target, report_pdf_bytes(out / "index.html"))
