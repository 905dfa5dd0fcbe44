"""The Word documents of a year, in `reports/<year>/documents/`, built with python-docx from
the report's context (the same tables, sections and charts as the HTML report):

    spravka.py   spravka.docx — the analytic report with the requisites of ГОСТ Р 7.0.97-2025
    prikaz.py    prikaz.docx — the draft order on the results, items from the decisions and the roadmap
    roadmap.py   roadmap.docx — next year's roadmap in seed 004's form
    letters.py   letters/<code>.docx + letters.zip — a letter to each scored school (not published)
    base.py      page, fonts, requisites, page numbers, tables, reproducible saving
    fromhtml.py  a report section's HTML written into a document
    plan.py      next year's measures (roadmap.csv) as the order and the roadmap list them
"""

from __future__ import annotations

from pathlib import Path

from ..context import ReportContext
from . import letters, prikaz, roadmap, spravka

FOLDER = "documents"
# the documents every year writes (letters/<code>.docx depend on the schools with a result)
ALWAYS = (spravka.FILE, prikaz.FILE, roadmap.FILE, letters.ARCHIVE)


def write_documents(ctx: ReportContext, out_dir: str | Path) -> list[Path]:
    """Write every document of the year into out_dir/documents/; the paths written."""
    folder = Path(out_dir) / FOLDER
    written = [spravka.write(ctx, folder), prikaz.write(ctx, folder), roadmap.write(ctx, folder)]
    written += letters.write(ctx, folder)
    return written
