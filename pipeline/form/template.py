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
from ..core.csvtext import TRIGGERS
from ..io.storage import write_bytes_atomic
from .fields import CHECKLIST_COLUMNS, NO, SHEET_CHECKLIST, SHEET_INFO, SHEET_STAFF, YES, layout
from .registry import load_registry


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
    form = layout(methodology)
    return {
        SHEET_INFO: [f.key for f in form.info],
        SHEET_STAFF: list(form.staff_codes),
        SHEET_CHECKLIST: [p.code for p in methodology.positions],
    }


class _Styles:
    """The form's cell styles, made once per workbook."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=13)
        self.note_font = Font(italic=True, color="555555")
        self.answer_fill = PatternFill("solid", fgColor="FFF2CC")
        self.head_fill = PatternFill("solid", fgColor="D9E1F2")
        thin = Side(style="thin", color="A6A6A6")
        self.box = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.unlocked = Protection(locked=False)
        self.Alignment = Alignment


def protect_sheet(ws: Any) -> None:
    """Cells locked unless an answer cell opened them; widths and heights may still change."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def write_header(ws: Any, st: _Styles, title: str, note: str, heads: list[str], last_col: str) -> None:
    """Rows 1–3 of a sheet: title, instruction, header row; panes frozen under it."""
    ws["A1"] = title
    ws["A1"].font = st.title_font
    ws["A2"] = note
    ws["A2"].font = st.note_font
    ws["A2"].alignment = st.Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(f"A1:{last_col}1")
    ws.merge_cells(f"A2:{last_col}2")
    ws.row_dimensions[2].height = 48
    for i, h in enumerate(heads, start=1):
        c = ws.cell(row=3, column=i, value=h)
        c.font = st.bold
        c.fill = st.head_fill
        c.border = st.box
        c.alignment = st.Alignment(wrap_text=True, vertical="center")
    ws.freeze_panes = "A4"


def answer_style(c: Any, st: _Styles, locked: bool = False, number_format: str | None = None) -> None:
    """An answer cell: boxed; unlocked and yellow unless locked."""
    c.border = st.box
    if not locked:
        c.protection = st.unlocked
        c.fill = st.answer_fill
    if number_format:
        c.number_format = number_format


def add_validation(ws: Any, **kwargs: Any) -> Any:
    """A data validation (drop-down or number check) added to a sheet, its errors shown."""
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(allow_blank=True, **kwargs)
    dv.showErrorMessage = True
    dv.showInputMessage = True
    dv.errorTitle = "Недопустимое значение"
    ws.add_data_validation(dv)
    return dv


class _FormWriter:
    """Writes the three sheets of one form into an openpyxl workbook, remembering where each
    field's answer cell is."""

    def __init__(self, methodology: Methodology, academic_year: str, values: dict[str, Any],
                 locked: frozenset[str] = frozenset()) -> None:
        from openpyxl import Workbook

        self.locked = locked
        self.m = methodology
        self.form = layout(methodology)
        self.academic_year = academic_year
        self.values = values
        self.st = _Styles()
        self.cells: dict[str, str] = {}
        self.wb = Workbook()
        self.ws_info = self.wb.active
        self.ws_info.title = SHEET_INFO
        self.ws_staff = self.wb.create_sheet(SHEET_STAFF) if SHEET_STAFF in self.form.sheets else None
        self.ws_check = self.wb.create_sheet(SHEET_CHECKLIST) if SHEET_CHECKLIST in self.form.sheets else None

    def header(self, ws: Any, title: str, note: str, heads: list[str], last_col: str) -> None:
        write_header(ws, self.st, title, note, heads, last_col)

    def answer(self, ws: Any, row: int, col: int, name: str, number_format: str | None = None,
               locked: bool = False) -> Any:
        c = ws.cell(row=row, column=col)
        if name in self.values and self.values[name] is not None:
            c.value = self.values[name]
        answer_style(c, self.st, locked, number_format)
        self.cells[name] = f"{ws.title}!{c.coordinate}"
        return c

    @staticmethod
    def validation(ws: Any, **kwargs: Any) -> Any:
        return add_validation(ws, **kwargs)

    def info_validations(self) -> dict[str, Any]:
        """The drop-down lists and checks of «Сведения», by field kind (choice: by key)."""
        ws, types = self.ws_info, ", ".join(self.form.school_types)
        start, end = (int(x) for x in self.academic_year.split("-"))
        epoch = dt.date(1899, 12, 30)
        d0, d1 = (dt.date(start, 9, 1) - epoch).days, (dt.date(end, 12, 31) - epoch).days
        out = {
            "school_type": self.validation(ws, type="list", formula1='"' + ",".join(self.form.school_types) + '"',
                                           error=f"Выберите тип из списка: {types}.", promptTitle="Тип ОО",
                                           prompt="Выберите из списка."),
            "yesno": self.validation(ws, type="list", formula1=f'"{YES},{NO}"', error="Выберите «да» или «нет».",
                                     promptTitle="да/нет", prompt="Выберите «да» или «нет»."),
            "integer": self.validation(ws, type="whole", operator="greaterThanOrEqual", formula1="0",
                                       error="Введите целое число не меньше 0.", promptTitle="Число",
                                       prompt="Целое число не меньше 0."),
            "date": self.validation(ws, type="date", operator="between", formula1=str(d0), formula2=str(d1),
                                    error=f"Введите дату с 01.09.{start} по 31.12.{end} в формате ДД.ММ.ГГГГ.",
                                    promptTitle="Дата", prompt="Дата в формате ДД.ММ.ГГГГ."),
        }
        for f in self.form.info:
            if f.kind == "choice":
                out[f.key] = self.validation(ws, type="list", formula1='"' + ",".join(f.choices) + '"',
                                             error="Выберите значение из списка: " + ", ".join(f.choices) + ".",
                                             promptTitle=f.label[:32], prompt="Выберите из списка.")
        return out

    def write_info(self, order: list[str | None]) -> None:
        ws, st = self.ws_info, self.st
        self.header(ws, f"Форма самооценки методической службы образовательной организации, {self.academic_year} учебный год",
                    "Заполните жёлтые ячейки столбца «Значение». Не меняйте названия листов и подписи в столбце A. "
                    "Код ОО — текстом, как в реестре (с ведущими нулями).",
                    ["Показатель", "Значение", "Подсказка"], "C")
        checks = self.info_validations()
        row = FIRST_ROW
        for key in order:
            if key is not None:
                f = self.form.by_key[key]
                ws.cell(row=row, column=1, value=f.label).border = st.box
                hint = ws.cell(row=row, column=3, value=f.hint)
                hint.font = st.note_font
                hint.alignment = st.wrap
                fmt = {"code": "@", "date": "DD.MM.YYYY"}.get(f.kind)
                c = self.answer(ws, row, 2, f"info.{key}", fmt,
                                locked=(f.kind == "academic_year" or f"info.{key}" in self.locked))
                dv = checks.get(f.key) if f.kind == "choice" else checks.get(f.kind)
                if dv is not None:
                    dv.add(c.coordinate)
                c.alignment = st.Alignment(horizontal="left")
            row += 1

    def write_staff(self, order: list[str | None]) -> None:
        ws, st = self.ws_staff, self.st
        self.header(ws, "Кадровые показатели методической работы (число педагогов, чел.)", self.form.staff_note,
                    ["Код", "Показатель", "Значение, чел."], "C")
        dv = self.validation(ws, type="whole", operator="greaterThanOrEqual", formula1="0",
                             error="Введите целое число не меньше 0.", promptTitle="Число педагогов",
                             prompt="Целое число не меньше 0.")
        labels = self.form.staff_labels
        row = FIRST_ROW
        for code in order:
            if code is not None:
                ws.cell(row=row, column=1, value=code).border = st.box
                lab = ws.cell(row=row, column=2, value=labels[code])
                lab.border = st.box
                lab.alignment = st.wrap
                dv.add(self.answer(ws, row, 3, f"staff.{code}").coordinate)
            row += 1

    def write_checklist(self, order: list[str | None]) -> None:
        ws, st = self.ws_check, self.st
        scales = sorted({tuple(sorted(p.scale)) for p in self.m.positions})
        scale_note = " или ".join(_scale_text(s) for s in scales)
        words = self.m.score_words
        self.header(ws, f"Самооценка по позициям (балл: {scale_note}; наибольший — {words.full[0]}, 0 — {words.zero[0]})",
                    "Для балла выше 0 укажите подтверждающий документ (название и реквизиты: вид, номер, дата) и ссылку на "
                    "его размещение на сайте ОО (адрес, начинающийся с https://). Балл без подтверждающего документа не засчитывается.",
                    list(CHECKLIST_COLUMNS.values()), "E")
        dv_scores = {
            s: self.validation(ws, type="list", formula1='"' + ",".join(str(x) for x in s) + '"',
                               error=f"Выберите балл из списка: {_scale_text(s)}.", promptTitle="Балл",
                               prompt=f"Выберите балл: {_scale_text(s)}.")
            for s in scales
        }
        row = FIRST_ROW
        for code in order:
            if code is not None:
                p = self.m.position(code)
                ws.cell(row=row, column=1, value=p.code).border = st.box
                t = ws.cell(row=row, column=2, value=p.text)
                t.border = st.box
                t.alignment = st.wrap
                dv_scores[tuple(sorted(p.scale))].add(self.answer(ws, row, 3, f"checklist.{code}.score").coordinate)
                self.answer(ws, row, 4, f"checklist.{code}.document").alignment = st.wrap
                self.answer(ws, row, 5, f"checklist.{code}.link").alignment = st.wrap
            row += 1

    def finish(self, protect: bool) -> None:
        from openpyxl.workbook.protection import WorkbookProtection

        for ws in (w for w in (self.ws_info, self.ws_staff, self.ws_check) if w is not None):
            for col, width in COLUMN_WIDTHS[ws.title].items():
                ws.column_dimensions[col].width = width
            if protect:
                protect_sheet(ws)
        if protect:
            self.wb.security = WorkbookProtection(lockStructure=True)


def build_workbook(
    methodology: Methodology,
    academic_year: str,
    *,
    values: dict[str, Any] | None = None,
    orders: dict[str, list[str | None]] | None = None,
    protect: bool = True,
    locked: Iterable[str] = (),
) -> tuple[Any, dict[str, str]]:
    """The year's form as an openpyxl workbook, with `values` filled in; the «Сведения» fields
    named in `locked` (what the department already knows) cannot be edited, as the year.

    values: field name (info.<key>, staff.Pn, checklist.<code>.score|document|link) → value
    written as is (a str stays text, an int a number). orders: row order per sheet (see
    default_orders; None inserts a blank row). Returns the workbook and field → 'Sheet!A1'.
    """
    values = dict(values or {})
    values.setdefault("info.academic_year", academic_year)
    orders = {**default_orders(methodology), **(orders or {})}
    writer = _FormWriter(methodology, academic_year, values, frozenset(locked))
    writer.write_info(orders[SHEET_INFO])
    if writer.ws_staff is not None:
        writer.write_staff(orders[SHEET_STAFF])
    if writer.ws_check is not None:
        writer.write_checklist(orders[SHEET_CHECKLIST])
    writer.finish(protect)
    return writer.wb, writer.cells


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
        for code, data in prefilled_forms(params, methodology, stamp):
            written.append(write_bytes_atomic(out_dir / template_name(params.academic_year, code), data))
    return written


def prefilled_forms(params: YearParams, methodology: Methodology, stamp: dt.datetime) -> list[tuple[str, bytes]]:
    """(school code, form) for every registry school: code, name, type (when one of the form's
    types) and the year filled in and locked — what the department knows."""
    out = []
    for rec in load_registry(params).itertuples(index=False):
        values = {"info.school_code": str(rec.code), "info.school_name": str(rec.name)}
        if str(rec.type) in methodology.form.school_types:
            values["info.school_type"] = str(rec.type)
        wb, cells = build_workbook(methodology, params.academic_year, values=values, locked=values)
        _as_text(wb, [cells[name] for name in values])
        out.append((str(rec.code), workbook_bytes(wb, stamp)))
    return out


def _as_text(wb: Any, addresses: Iterable[str]) -> None:
    """The registry's texts in a prefilled form stay texts: a name «=1+1» would otherwise be
    saved as a formula (openpyxl takes a string starting with '=' for one)."""
    for address in addresses:
        sheet, coordinate = address.rsplit("!", 1)
        c = wb[sheet.strip("'")][coordinate]
        if isinstance(c.value, str):
            c.data_type = "s"
            if c.value.startswith(TRIGGERS):
                c.quotePrefix = True


def write_forms(params: YearParams, out_dir: str | Path) -> list[Path]:
    """`python -m pipeline forms`: the blank template, one prefilled form per registry school
    (named by its code) and forms.zip of the prefilled ones (reproducible: fixed dates)."""
    methodology = load_methodology(params.methodology)
    out_dir = Path(out_dir)
    stamp = dt.datetime(params.year, 3, 1)
    wb, _ = build_workbook(methodology, params.academic_year)
    written = [write_bytes_atomic(out_dir / template_name(params.academic_year), workbook_bytes(wb, stamp))]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for code, data in prefilled_forms(params, methodology, stamp):
            name = template_name(params.academic_year, code)
            written.append(write_bytes_atomic(out_dir / name, data))
            zi = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    written.append(write_bytes_atomic(out_dir / "forms.zip", buf.getvalue()))
    return written
