"""measures.xlsx: the record of next year's roadmap, written with it into
reports/<year>/documents/. One row per measure of roadmap.csv — its id, name, month,
executors and school locked — and four yellow cells to fill: «Выполнено (да/нет)» (a
drop-down), «Дата», «Документ или ссылка», «Участники (коды ОО через ;)». The sheet is
protected except those cells. Filled during the school year and put into the next year's raw
folder, it is read back by ingest and checked by the clean stage (pipeline/form/measures.py
holds the layout both sides use)."""

from __future__ import annotations

import datetime as dt
from copy import copy
from pathlib import Path
from typing import Any

import pandas as pd

from ..config.params import YearParams
from ..core.values import text
from ..form.fields import NO, YES
from ..form.measures import COLUMNS, INPUTS, MEASURES_FILE, SHEET, instructions, sheet_title
from ..io.storage import write_bytes_atomic

DOCUMENTS = "documents"     # the folder of the year's report holding the documents
_WIDTHS = {"decision_id": 14, "title": 60, "due": 16, "executors": 34, "school_code": 10,
           "done": 14, "date": 13, "document": 40, "participants": 30}


def roadmap_year(params: YearParams) -> str:
    """The school year the roadmap of a June review is for: «2026-2027» for the review of 2026."""
    return f"{params.year}-{params.year + 1}"


def build_measures_workbook(roadmap: pd.DataFrame, params: YearParams) -> Any:
    """The measures workbook (openpyxl) of a year's roadmap, blank answer cells."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
    from openpyxl.workbook.protection import WorkbookProtection

    from ..form.template import FIRST_ROW, _Styles, add_validation, answer_style, protect_sheet, write_header

    ay = roadmap_year(params)
    start, end = (int(x) for x in ay.split("-"))
    st = _Styles()
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    last = get_column_letter(len(COLUMNS))
    write_header(ws, st, sheet_title(ay), instructions(ay), [h for _, h in COLUMNS], last)
    ws.row_dimensions[2].height = 78
    ws.row_dimensions[3].height = 32
    yesno = add_validation(ws, type="list", formula1=f'"{YES},{NO}"', error="Выберите «да» или «нет».",
                           promptTitle="Выполнено", prompt="Выберите «да» или «нет».")
    epoch = dt.date(1899, 12, 30)
    d0, d1 = (dt.date(start, 7, 1) - epoch).days, (dt.date(end, 6, 30) - epoch).days
    date = add_validation(ws, type="date", operator="between", formula1=str(d0), formula2=str(d1), promptTitle="Дата",
                          error=f"Введите дату с 01.07.{start} по 30.06.{end} в формате ДД.ММ.ГГГГ.",
                          prompt="Дата выполнения в формате ДД.ММ.ГГГГ.")
    rows = roadmap.sort_values("number", kind="stable") if "number" in roadmap and len(roadmap) else roadmap
    # the validations' cells gathered and set once: openpyxl's DataValidation.add checks each
    # new cell against every earlier one (quadratic: 5,800 measures took a minute); the file
    # is the same, as openpyxl writes the cells sorted
    checked: dict[str, list[CellRange]] = {"done": [], "date": []}
    styles: dict[int, Any] = {}  # a column's style, made on its first row and copied below
    for i, m in enumerate(rows.to_dict("records")):
        r = FIRST_ROW + i
        for j, (key, _) in enumerate(COLUMNS, start=1):
            c = ws.cell(row=r, column=j)
            if key not in INPUTS:
                c.value = text(m.get(key)) or None
            if j in styles:
                c._style = copy(styles[j])
            else:
                if key not in INPUTS:
                    c.alignment = st.wrap
                fmt = {"date": "DD.MM.YYYY", "participants": "@", "school_code": "@", "document": "@"}.get(key)
                answer_style(c, st, locked=key not in INPUTS, number_format=fmt)
                styles[j] = c._style
            if key in checked:
                checked[key].append(CellRange(c.coordinate))
        # a row as high as its longest wrapped text (spreadsheets do not grow a row written by a program)
        lines = max(-(-len(text(m.get(k))) // int(_WIDTHS[k] * 0.9)) for k, _ in COLUMNS if k not in INPUTS)
        ws.row_dimensions[r].height = 15 * max(1, lines)
    yesno.sqref, date.sqref = MultiCellRange(checked["done"]), MultiCellRange(checked["date"])
    for j, (key, _) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = _WIDTHS[key]
    # printed on landscape pages, all columns on one page wide, the header row on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = "3:3"
    protect_sheet(ws)
    wb.security = WorkbookProtection(lockStructure=True)
    return wb


def measures_bytes(roadmap: pd.DataFrame, params: YearParams) -> bytes:
    """measures.xlsx as bytes, reproducibly (document dates fixed to the order's date)."""
    from ..form.template import workbook_bytes

    stamp = dt.datetime.combine(params.header.order_date, dt.time(12, 0))
    return workbook_bytes(build_measures_workbook(roadmap, params), stamp)


def write_measures_form(roadmap: pd.DataFrame, params: YearParams, out_dir: str | Path) -> Path:
    """Write <out_dir>/documents/measures.xlsx; return its path."""
    return write_bytes_atomic(Path(out_dir) / DOCUMENTS / MEASURES_FILE, measures_bytes(roadmap, params))
