"""Writing the year's form (the blank template and the embedded sample's filled forms)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any, Iterable


from ..config.methodology import Methodology, load_methodology
from ..config.params import YearParams
from ..io.storage import write_bytes_atomic
from .fields import CHECKLIST_COLUMNS, INFO_BY_KEY, INFO_FIELDS, NO, SCHOOL_TYPES, SHEET_CHECKLIST, SHEET_INFO, SHEET_STAFF, STAFF_CODES, STAFF_LABELS, YES
from .registry import read_registry


COLUMN_WIDTHS = {
    SHEET_INFO: {"A": 44, "B": 46, "C": 70},
    SHEET_STAFF: {"A": 7, "B": 92, "C": 18},
    SHEET_CHECKLIST: {"A": 8, "B": 78, "C": 8, "D": 64, "E": 48},
}


FIRST_ROW = 4  # rows 1–3: title, instruction, header


def _scale_text(scale: Iterable[int]) -> str:
    return ", ".join(str(s) for s in sorted(scale))


def default_orders(methodology: Methodology) -> dict[str, list[str | None]]:
    """The template's row order of each sheet (fields; None would be a blank row)."""
    return {
        SHEET_INFO: [f.key for f in INFO_FIELDS],
        SHEET_STAFF: list(STAFF_CODES),
        SHEET_CHECKLIST: [p.code for p in methodology.positions],
    }


def build_workbook(
    methodology: Methodology,
    academic_year: str,
    *,
    values: dict[str, Any] | None = None,
    orders: dict[str, list[str | None]] | None = None,
    protect: bool = True,
) -> tuple[Any, dict[str, str]]:
    """The year's form as an openpyxl workbook, with `values` filled in.

    values: field name (info.<key>, staff.Pn, checklist.<code>.score|document|link) → value
    written as is (a str stays text, an int a number). orders: row order per sheet (see
    default_orders; None inserts a blank row). Returns the workbook and field → 'Sheet!A1'.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    values = dict(values or {})
    values.setdefault("info.academic_year", academic_year)
    orders = {**default_orders(methodology), **(orders or {})}
    start, end = (int(x) for x in academic_year.split("-"))

    bold = Font(bold=True)
    title_font = Font(bold=True, size=13)
    note_font = Font(italic=True, color="555555")
    answer_fill = PatternFill("solid", fgColor="FFF2CC")
    head_fill = PatternFill("solid", fgColor="D9E1F2")
    thin = Side(style="thin", color="A6A6A6")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    unlocked = Protection(locked=False)
    cells: dict[str, str] = {}

    wb = Workbook()
    ws_info = wb.active
    ws_info.title = SHEET_INFO
    ws_staff = wb.create_sheet(SHEET_STAFF)
    ws_check = wb.create_sheet(SHEET_CHECKLIST)

    def header(ws: Any, title: str, note: str, heads: list[str], last_col: str) -> None:
        ws["A1"] = title
        ws["A1"].font = title_font
        ws["A2"] = note
        ws["A2"].font = note_font
        ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(f"A1:{last_col}1")
        ws.merge_cells(f"A2:{last_col}2")
        ws.row_dimensions[2].height = 48
        for i, h in enumerate(heads, start=1):
            c = ws.cell(row=3, column=i, value=h)
            c.font = bold
            c.fill = head_fill
            c.border = box
            c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.freeze_panes = "A4"

    def answer(ws: Any, row: int, col: int, name: str, number_format: str | None = None, locked: bool = False) -> Any:
        c = ws.cell(row=row, column=col)
        if name in values and values[name] is not None:
            c.value = values[name]
        c.border = box
        if not locked:
            c.protection = unlocked
            c.fill = answer_fill
        if number_format:
            c.number_format = number_format
        cells[name] = f"{ws.title}!{c.coordinate}"
        return c

    def validation(ws: Any, dv: DataValidation) -> DataValidation:
        dv.showErrorMessage = True
        dv.showInputMessage = True
        dv.errorTitle = "Недопустимое значение"
        ws.add_data_validation(dv)
        return dv

    # «Сведения»
    header(ws_info, f"Форма самооценки методической службы образовательной организации, {academic_year} учебный год",
           "Заполните жёлтые ячейки столбца «Значение». Не меняйте названия листов и подписи в столбце A. "
           "Код ОО — текстом, как в реестре (с ведущими нулями).",
           ["Показатель", "Значение", "Подсказка"], "C")
    dv_type = validation(ws_info, DataValidation(type="list", formula1='"' + ",".join(SCHOOL_TYPES) + '"', allow_blank=True,
                                                 error="Выберите тип из списка: " + ", ".join(SCHOOL_TYPES) + ".",
                                                 promptTitle="Тип ОО", prompt="Выберите из списка."))
    dv_yes = validation(ws_info, DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True,
                                                error="Выберите «да» или «нет».", promptTitle="да/нет", prompt="Выберите «да» или «нет»."))
    dv_count = validation(ws_info, DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                                  error="Введите целое число не меньше 0.", promptTitle="Число", prompt="Целое число не меньше 0."))
    excel_epoch = dt.date(1899, 12, 30)
    d0, d1 = (dt.date(start, 9, 1) - excel_epoch).days, (dt.date(end, 12, 31) - excel_epoch).days
    dv_date = validation(ws_info, DataValidation(type="date", operator="between", formula1=str(d0), formula2=str(d1), allow_blank=True,
                                                 error=f"Введите дату с 01.09.{start} по 31.12.{end} в формате ДД.ММ.ГГГГ.",
                                                 promptTitle="Дата", prompt="Дата в формате ДД.ММ.ГГГГ."))
    row = FIRST_ROW
    for key in orders[SHEET_INFO]:
        if key is None:
            row += 1
            continue
        f = INFO_BY_KEY[key]
        ws_info.cell(row=row, column=1, value=f.label).border = box
        hint = ws_info.cell(row=row, column=3, value=f.hint)
        hint.font = note_font
        hint.alignment = wrap
        name = f"info.{key}"
        fmt = {"code": "@", "date": "DD.MM.YYYY"}.get(f.kind)
        c = answer(ws_info, row, 2, name, fmt, locked=(f.kind == "academic_year"))
        if f.kind == "school_type":
            dv_type.add(c.coordinate)
        elif f.kind == "yesno":
            dv_yes.add(c.coordinate)
        elif f.kind == "count":
            dv_count.add(c.coordinate)
        elif f.kind == "date":
            dv_date.add(c.coordinate)
        c.alignment = Alignment(horizontal="left")
        row += 1

    # «Кадры»
    header(ws_staff, "Кадровые показатели методической работы (число педагогов, чел.)",
           "Укажите целые числа не меньше 0. P1–P7 и P9 не больше P0; P3 не больше P2; P8 не больше P7. "
           "Если молодых педагогов нет, в P7 и P8 укажите 0.",
           ["Код", "Показатель", "Значение, чел."], "C")
    dv_staff = validation(ws_staff, DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                                   error="Введите целое число не меньше 0.", promptTitle="Число педагогов",
                                                   prompt="Целое число не меньше 0."))
    row = FIRST_ROW
    for code in orders[SHEET_STAFF]:
        if code is None:
            row += 1
            continue
        ws_staff.cell(row=row, column=1, value=code).border = box
        lab = ws_staff.cell(row=row, column=2, value=STAFF_LABELS[code])
        lab.border = box
        lab.alignment = wrap
        dv_staff.add(answer(ws_staff, row, 3, f"staff.{code}").coordinate)
        row += 1

    # «Показатели»
    scales = sorted({tuple(sorted(p.scale)) for p in methodology.positions})
    scale_note = " или ".join(_scale_text(s) for s in scales)
    header(ws_check, f"Самооценка по позициям (балл: {scale_note}; наибольший — есть, 0 — нет)",
           "Для балла выше 0 укажите подтверждающий документ (название и реквизиты: вид, номер, дата) и ссылку на "
           "его размещение на сайте ОО (адрес, начинающийся с https://). Балл без подтверждающего документа не засчитывается.",
           list(CHECKLIST_COLUMNS.values()), "E")
    dv_scores = {
        s: validation(ws_check, DataValidation(type="list", formula1='"' + ",".join(str(x) for x in s) + '"', allow_blank=True,
                                               error=f"Выберите балл из списка: {_scale_text(s)}.", promptTitle="Балл",
                                               prompt=f"Выберите балл: {_scale_text(s)}."))
        for s in scales
    }
    row = FIRST_ROW
    for code in orders[SHEET_CHECKLIST]:
        if code is None:
            row += 1
            continue
        p = methodology.position(code)
        ws_check.cell(row=row, column=1, value=p.code).border = box
        t = ws_check.cell(row=row, column=2, value=p.text)
        t.border = box
        t.alignment = wrap
        dv_scores[tuple(sorted(p.scale))].add(answer(ws_check, row, 3, f"checklist.{code}.score").coordinate)
        answer(ws_check, row, 4, f"checklist.{code}.document").alignment = wrap
        answer(ws_check, row, 5, f"checklist.{code}.link").alignment = wrap
        row += 1

    for ws in (ws_info, ws_staff, ws_check):
        for col, width in COLUMN_WIDTHS[ws.title].items():
            ws.column_dimensions[col].width = width
        if protect:
            ws.protection.sheet = True
            ws.protection.formatColumns = False
            ws.protection.formatRows = False
    if protect:
        wb.security = WorkbookProtection(lockStructure=True)
    return wb, cells


def workbook_bytes(wb: Any, stamp: dt.datetime) -> bytes:
    """Save a workbook reproducibly: fixed document dates and zip entry times."""
    buf = io.BytesIO()
    wb.properties.creator = "pipeline"
    wb.properties.lastModifiedBy = "pipeline"
    wb.properties.created = stamp
    wb.save(buf)  # openpyxl sets `modified` to now; fixed below
    stamp_text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp_text.encode() + rb"\g<2>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    return out.getvalue()


def template_name(academic_year: str, code: str | None = None) -> str:
    return f"form_{academic_year}.xlsx" if code is None else f"form_{academic_year}_{code}.xlsx"


def write_template(params: YearParams, out_dir: str | Path, prefilled: bool = False) -> list[Path]:
    """Write the year's blank form (and, with prefilled, one form per registry school with its
    code, name, type and academic year filled in). Returns the paths written."""
    methodology = load_methodology(params.methodology)
    out_dir = Path(out_dir)
    stamp = dt.datetime(params.year, 3, 1)
    wb, _ = build_workbook(methodology, params.academic_year)
    written = [write_bytes_atomic(out_dir / template_name(params.academic_year), workbook_bytes(wb, stamp))]
    if prefilled:
        registry = read_registry(Path(params.raw_dir) / "registry.csv")
        for rec in registry.itertuples(index=False):
            values = {"info.school_code": str(rec.code), "info.school_name": str(rec.name)}
            if str(rec.type) in SCHOOL_TYPES:
                values["info.school_type"] = str(rec.type)
            wb, _ = build_workbook(methodology, params.academic_year, values=values)
            written.append(write_bytes_atomic(out_dir / template_name(params.academic_year, str(rec.code)), workbook_bytes(wb, stamp)))
    return written
