"""The department's own workbook of a year (department.xlsx in raw_dir): РМО meetings, network
forms of teachers' work, methodological visits to schools.

Three sheets, each a header row (found by its labels, never by a fixed address) and one row
per item. The template is written blank (the РМО directions of the methodology prefilled);
the reader returns every cell of every item row with its sheet and cell, as forms.csv holds
a school form's values (field `department.<sheet key>.<column key>`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..config.methodology import Methodology
from ..core.errors import FormError
from ..io.storage import write_bytes_atomic
from .fields import NO, YES
from .package import _check_container, _load_rows
from .text import _text, canonical, cell_address, norm_label

DEPARTMENT_FILE = "department.xlsx"

# sheet key → (sheet name, ((column key, header label), …))
SHEETS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "rmo": ("РМО", (("direction", "Направление"), ("meetings", "Заседаний проведено"), ("schools", "ОО участвовало"),
                    ("preschools", "ДОУ участвовало"), ("additional", "УДО участвовало"))),
    "network": ("Сетевые формы", (("form", "Вид"), ("name", "Наименование"), ("working", "Работает"))),
    "visits": ("Выезды", (("school_code", "Код ОО"), ("date", "Дата"), ("support", "Форма поддержки"))),
}
RMO_COUNTS = ("meetings", "schools", "preschools", "additional")
# «Вид» of a network form as written → the methodology's code (target kind `network`)
NETWORK_FORMS = {"тьюторское сообщество": "tutor_community", "стажировочная площадка": "internship_site"}
BLANK_ROWS = {"rmo": 10, "network": 40, "visits": 150}   # empty answer rows after the prefilled ones
_WIDTHS = {"rmo": [48, 16, 14, 14, 14], "network": [26, 60, 12], "visits": [12, 14, 60]}
_TITLES = {
    "rmo": ("Районные методические объединения (РМО): заседания и участники за учебный год",
            "Одна строка — одно направление РМО. Заседаний проведено и число участвовавших организаций — целые числа не меньше 0."),
    "network": ("Сетевые формы взаимодействия педагогов",
                "Одна строка — одно тьюторское сообщество или одна стажировочная площадка. «Работает» — да или нет."),
    "visits": ("Методические выезды в образовательные организации",
               "Одна строка — один выезд: код ОО из реестра (текстом, с ведущими нулями), дата (ДД.ММ.ГГГГ), форма поддержки."),
}


def sheet_names() -> tuple[str, ...]:
    return tuple(name for name, _ in SHEETS.values())


# --------------------------------------------------------------------------- template


def build_department_workbook(methodology: Methodology, academic_year: str) -> Any:
    """The blank department workbook (openpyxl): protected structure, answer cells open."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.protection import WorkbookProtection

    from .template import FIRST_ROW, _Styles, add_validation, answer_style, protect_sheet, write_header

    st = _Styles()
    wb = Workbook()
    wb.remove(wb.active)
    directions = list(methodology.department.rmo_directions)
    for key, (name, cols) in SHEETS.items():
        ws = wb.create_sheet(name)
        title, note = _TITLES[key]
        write_header(ws, st, f"{title}, {academic_year} учебный год", note, [h for _, h in cols], get_column_letter(len(cols)))
        checks = _validations(ws, key, academic_year, add_validation)
        prefilled = directions if key == "rmo" else []
        for i in range(len(prefilled) + BLANK_ROWS[key]):
            row = FIRST_ROW + i
            for j, (col, _) in enumerate(cols, start=1):
                c = ws.cell(row=row, column=j)
                if col == "direction" and i < len(prefilled):
                    c.value = prefilled[i]
                fmt = {"school_code": "@", "date": "DD.MM.YYYY"}.get(col)
                answer_style(c, st, locked=(col == "direction" and i < len(prefilled)), number_format=fmt)
                if col in checks:
                    checks[col].add(c.coordinate)
        for j, width in enumerate(_WIDTHS[key], start=1):
            ws.column_dimensions[get_column_letter(j)].width = width
        protect_sheet(ws)
    wb.security = WorkbookProtection(lockStructure=True)
    return wb


def _validations(ws: Any, key: str, academic_year: str, add: Any) -> dict[str, Any]:
    """The drop-downs and number checks of one sheet, by column key."""
    if key == "rmo":
        whole = add(ws, type="whole", operator="greaterThanOrEqual", formula1="0", error="Введите целое число не меньше 0.",
                    promptTitle="Число", prompt="Целое число не меньше 0.")
        return {c: whole for c in RMO_COUNTS}
    if key == "network":
        return {"form": add(ws, type="list", formula1='"' + ",".join(NETWORK_FORMS) + '"', promptTitle="Вид",
                            error="Выберите вид из списка: " + ", ".join(NETWORK_FORMS) + ".", prompt="Выберите из списка."),
                "working": add(ws, type="list", formula1=f'"{YES},{NO}"', error="Выберите «да» или «нет».",
                               promptTitle="да/нет", prompt="Выберите «да» или «нет».")}
    start, end = (int(x) for x in academic_year.split("-"))
    epoch = dt.date(1899, 12, 30)
    d0, d1 = (dt.date(start, 9, 1) - epoch).days, (dt.date(end, 12, 31) - epoch).days
    return {"date": add(ws, type="date", operator="between", formula1=str(d0), formula2=str(d1), promptTitle="Дата",
                        error=f"Введите дату с 01.09.{start} по 31.12.{end} в формате ДД.ММ.ГГГГ.",
                        prompt="Дата в формате ДД.ММ.ГГГГ.")}


def department_bytes(methodology: Methodology, academic_year: str, year: int) -> bytes:
    from .template import workbook_bytes

    return workbook_bytes(build_department_workbook(methodology, academic_year), dt.datetime(year, 3, 1))


def write_department_template(params: Any, out_dir: str | Path) -> Path:
    """`python -m pipeline template --municipal`: the blank department.xlsx of the year."""
    from ..config.methodology import load_methodology

    methodology = load_methodology(params.methodology)
    data = department_bytes(methodology, params.academic_year, params.year)
    return write_bytes_atomic(Path(out_dir) / DEPARTMENT_FILE, data)


# --------------------------------------------------------------------------- reading


def _header(rows: list[list[Any]], cols: tuple[tuple[str, str], ...]) -> tuple[int, dict[str, int]] | None:
    """The header row (0-based) and each column's index, found by the header labels."""
    wanted = {norm_label(h): k for k, h in cols}
    for r, row in enumerate(rows):
        found = {}
        for i, v in enumerate(row):
            k = wanted.get(norm_label(_text(v)))
            if k is not None and k not in found:
                found[k] = i
        if len(found) == len(cols):
            return r, found
    return None


def read_department_values(data: bytes, name: str = DEPARTMENT_FILE) -> list[tuple]:
    """Every cell of every non-empty item row: (field, sheet, cell, row, col, label, value,
    value_type, formula), as forms.csv holds them. FormError when it cannot be used."""
    opened = _check_container(data, name)
    try:
        sheets, real, formulas = _load_rows(data, name, opened, sheet_names())
    finally:
        if opened is not None:
            opened.close()
    out = []
    for key, (sheet, cols) in SHEETS.items():
        out += table_values(rows_of=sheets, real=real, formulas=formulas, name=name, sheet=sheet, cols=cols,
                            prefix=f"department.{key}",
                            hint="Заполните шаблон данных управления года, не меняя заголовки столбцов.")
    return out


def table_values(*, rows_of: dict, real: dict, formulas: dict, name: str, sheet: str,
                 cols: tuple[tuple[str, str], ...], prefix: str, hint: str) -> list[tuple]:
    """The cells of one table sheet of a department's workbook (department.xlsx, measures.xlsx):
    its header row found by the labels, then every non-empty row as forms.csv rows with field
    `<prefix>.<column key>`. FormError naming the sheet when the header is not there."""
    rows = rows_of[sheet]
    header = _header(rows, cols)
    if header is None:
        raise FormError(name, f"на листе «{sheet}» не найдена строка заголовков ({', '.join(h for _, h in cols)})",
                        sheet=real[sheet], rule="form.unrecognized", hint=hint)
    start, found = header
    heads = dict(cols)
    out = []
    for r0 in range(start + 1, len(rows)):
        row = rows[r0]
        cells = [(k, canonical(row[i] if i < len(row) else None)) for k, i in found.items()]
        if all(kind == "empty" for _, (_, kind) in cells):
            continue
        for k, (text, kind) in cells:
            addr = cell_address(r0 + 1, found[k] + 1)
            out.append((f"{prefix}.{k}", real[sheet], addr, r0 + 1, found[k] + 1, heads[k], text, kind,
                        formulas.get((real[sheet], addr), "")))
    return out
