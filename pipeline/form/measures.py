"""The record of the roadmap's measures (measures.xlsx): written with a year's roadmap by the
report stage (pipeline/report/measures_form.py), filled by the department during the next
school year, and put into the NEXT year's raw folder, where ingest reads it like the
department's workbook (its cells into forms.csv, field `measures.<column key>`) and the clean
stage checks it (pipeline/stages/clean/measures.py).

One sheet: a header row found by its labels (never by a fixed address), one row per measure:
its id, name, month, executors and school locked; four columns to fill.
"""

from __future__ import annotations

from .department import table_values
from .package import _check_container, _load_rows

MEASURES_FILE = "measures.xlsx"
SHEET = "Меры"
# (column key, header label); the first five are written by the pipeline and locked
COLUMNS: tuple[tuple[str, str], ...] = (
    ("decision_id", "Код меры"), ("title", "Наименование мероприятия"), ("due", "Срок исполнения"),
    ("executors", "Исполнители"), ("school_code", "Код ОО"),
    ("done", "Выполнено (да/нет)"), ("date", "Дата"), ("document", "Документ или ссылка"),
    ("participants", "Участники (коды ОО через ;)"),
)
INPUTS = ("done", "date", "document", "participants")   # the columns the department fills
READ = ("decision_id",) + INPUTS                          # what the reader keeps


def read_measures_values(data: bytes, name: str = MEASURES_FILE) -> list[tuple]:
    """Every cell to read of every row with a measure id: (field, sheet, cell, row, col, label,
    value, value_type, formula), as forms.csv holds them. FormError when it cannot be used."""
    opened = _check_container(data, name)
    try:
        sheets, real, formulas = _load_rows(data, name, opened, (SHEET,))
    finally:
        if opened is not None:
            opened.close()
    return table_values(rows_of=sheets, real=real, formulas=formulas, name=name, sheet=SHEET,
                        cols=tuple(c for c in COLUMNS if c[0] in READ), prefix="measures",
                        hint="Заполняйте файл measures.xlsx, записанный вместе с дорожной картой, не меняя заголовки столбцов.")


def instructions(academic_year: str) -> str:
    """The sheet's instruction: what to fill and where the file goes."""
    start, end = academic_year.split("-")
    return (f"Заполните жёлтые ячейки по каждой мере: «Выполнено» — да или нет; «Дата» — когда мера выполнена "
            f"(ДД.ММ.ГГГГ, с 01.07.{start} по 30.06.{end}); «Документ или ссылка» — протокол, приказ, справка или "
            "адрес страницы; «Участники» — коды ОО из реестра через «;» (для семинара — школы, чьи педагоги участвовали). "
            "Строку меры, о которой сведений нет, оставьте пустой. Код меры и её описание не меняйте. "
            f"Заполненный файл положите в папку сырых данных года {end} под именем {MEASURES_FILE}.")


def sheet_title(academic_year: str) -> str:
    return f"Выполнение мер дорожной карты на {academic_year} учебный год"
