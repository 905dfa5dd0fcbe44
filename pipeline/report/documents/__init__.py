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

import gc
from pathlib import Path

from ...fast import memory
from ..context import ReportContext
from . import letters, prikaz, roadmap, spravka

FOLDER = "documents"
# the documents every year writes (letters/<code>.docx depend on the schools with a result)
ALWAYS = (spravka.FILE, prikaz.FILE, roadmap.FILE, letters.ARCHIVE)


def write_documents(ctx: ReportContext, out_dir: str | Path) -> list[Path]:
    """Write every document of the year into out_dir/documents/; the paths written."""
    folder = Path(out_dir) / FOLDER
    written = [spravka.write(ctx, folder), prikaz.write(ctx, folder), roadmap.write(ctx, folder)]
    # the documents' trees are freed but glibc keeps their blocks (~170 MB at 10,000 schools):
    # handed back before the letters' workers fork, so they are not counted in every process
    gc.collect()
    memory.give_back()
    written += letters.write(ctx, folder)
    return written


def documents_table(paths: list[Path], out_dir: str | Path):
    """What was written, for the report notebook: file, what it is, size."""
    import pandas as pd

    what = {spravka.FILE: "аналитическая справка (ГОСТ Р 7.0.97-2025)", prikaz.FILE: "проект приказа об итогах",
            roadmap.FILE: "дорожная карта на следующий учебный год", letters.ARCHIVE: "архив писем руководителям ОО"}
    root = Path(out_dir)
    rows = []
    for p in paths:
        kind = what.get(p.name, "письмо руководителю ОО" if p.parent.name == letters.FOLDER else "")
        rows.append({"файл": p.relative_to(root).as_posix(), "документ": kind, "КБ": round(p.stat().st_size / 1024, 1)})
    return pd.DataFrame(rows)
