"""results.xlsx — the year's tables for officials (internal: personal data is kept here).

One sheet per table (declared in SHEETS: name, table, columns with their kind and width). Each
sheet has a title row (the report's name and its order), a header row, and the table; panes
frozen under the header, an autofilter on it, number formats, column widths that fit the
header words. Every sheet is protected — cells locked, sorting, filtering and selecting
allowed, with `report.results_password` or none — and set up to print: A4 landscape, one
page wide, the title and header rows on every page (the school columns too where a sheet is
wider than a page), «Страница N из M» in the footer.

Nothing from a form can become a formula: every string is written as a string cell (strings
starting with = + - @ or a tab/CR also get the quote prefix, so Excel shows them as typed), and
control characters are removed. The file is deterministic: fixed document dates and zip entry
times.

XlsxWriter writes the workbook (styles, sheet settings, protection, print set-up, title and
header rows); the table rows, millions of cells at 10,000 schools, are made here as XML text
column by column and spliced into each sheet (benchmarks/excel_writers.py: XlsxWriter alone
takes ~19 s of CPU there, this ~3 s). The cells are those ``set_cell`` puts in an openpyxl sheet
(tests/test_excel.py compares the two).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import textwrap
import zipfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import pandas as pd
import xlsxwriter
from openpyxl.cell.cell import Cell
from xlsxwriter.utility import xl_col_to_name

from ..core.errors import StageError
from ..core.parallel import Forked
from ..core.russian import fmt_day
from ..io.storage import write_bytes_atomic
from ..core.contract import DECISION_KINDS
from ..core.levels import trend, zone_of
from ..core.values import text
from .labels import FILE_STATUS_LABEL, SEVERITY_LABEL, TARGET_STATUS_LABEL, rule_name
from .tables import school_list, _names, criteria_table, indicator_names, municipal_targets, school_table, staff_denominators

if TYPE_CHECKING:  # pragma: no cover
    from .context import ReportContext

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = "1D4E89"
HEADER_FONT = "FFFFFF"
ZONE_FILLS = {"зелёная": "E4F4EA", "жёлтая": "FDF2D5", "красная": "FBE5E4"}
FORMATS = {"pct": "0.0", "score": "0.0", "int": "0", "text": "@", "date": "yyyy-mm-dd"}
NUMERIC = ("pct", "score", "int")
WRAP_WIDTH = 40  # text columns this wide or wider wrap their text (top-aligned)
SHARED_STRINGS = "xl/sharedStrings.xml"
MAX_TEXT = 32767  # characters a cell holds in Excel
# print set-up: A4 (paper 9) landscape, one page wide; a sheet wider than this many characters
# of column width at 100 % would not fit a page, so its school columns repeat on the pages
# to the right when someone prints it unscaled
PAPER_A4 = 9
PAGE_WIDTH_CHARS = 130
FOOTER = "&CСтраница &P из &N"
LINE_HEIGHT = 15  # points per line of the 11-point header text
TITLE_LINE_HEIGHT = 18  # points per line of the 12-point title
FILTER_BUTTON = 3  # characters of width the header's filter button and bold type take

# (column in the table, Russian header, kind, width)
Column = tuple[str, str, str, int]


@dataclass(frozen=True)
class Sheet:
    """One sheet of results.xlsx: its name, the table it shows (a key of results_tables), its
    columns, and how many leading columns name the school (repeated on the pages to the right
    when the sheet is wider than a page). Adding a sheet is adding one of these to SHEETS and
    its table to results_tables."""

    name: str
    table: str
    columns: tuple[Column, ...]
    school_columns: int = 0


SHEETS: tuple[Sheet, ...] = (
    Sheet("Результаты", "scores", (
        ("school_code", "Код ОО", "text", 9), ("school_name", "Наименование ОО", "text", 38),
        ("school_type", "Тип ОО", "text", 10), ("cluster", "Кластер", "text", 10),
        ("submitted", "Форма принята", "text", 9), ("checklist_points", "Баллы самооценки", "int", 10),
        ("checklist_max", "Максимум", "int", 9), ("checklist_pct", "Самооценка, %", "pct", 11),
        ("activity_index", "Индекс активности", "score", 11), ("total_score", "Итоговый балл", "score", 10),
        ("rank_in_cluster", "Место в кластере", "int", 9), ("level", "Уровень", "text", 11),
        ("zone", "Зона", "text", 10), ("prev_total", "Итог прошлого года", "score", 11),
        ("delta", "Изменение", "score", 10), ("trend", "Тренд", "text", 8),
    ), school_columns=2),
    Sheet("Критерии", "criteria", (
        ("school_code", "Код ОО", "text", 9), ("school_name", "Наименование ОО", "text", 36),
        ("cluster", "Кластер", "text", 10), ("criterion", "Критерий", "text", 9),
        ("criterion_name", "Наименование критерия", "text", 50), ("points", "Баллы", "int", 8),
        ("max_points", "Максимум", "int", 9), ("pct", "Выполнение, %", "pct", 11),
        ("zone", "Зона", "text", 10), ("cluster_mean", "Среднее по кластеру, %", "pct", 12),
        ("prev_pct", "Прошлый год, %", "pct", 11),
    ), school_columns=2),
    Sheet("Целевые показатели", "targets", (
        ("level", "Уровень", "text", 14), ("school_code", "Код ОО", "text", 9),
        ("school_name", "Наименование ОО", "text", 36), ("target", "Код", "text", 7),
        ("target_name", "Целевой показатель", "text", 55), ("numerator", "Числитель", "int", 10),
        ("denominator", "Знаменатель", "int", 11), ("value", "Значение", "pct", 10),
        ("target_value", "Целевое значение", "pct", 10), ("status", "Итог", "text", 16),
    ), school_columns=3),
    Sheet("Рекомендации", "recommendations", (
        ("recommendation_id", "Идентификатор", "text", 14), ("school_code", "Код ОО", "text", 9),
        ("school_name", "Наименование ОО", "text", 34), ("indicator_code", "Показатель", "text", 10),
        ("indicator_name", "Наименование показателя", "text", 40), ("priority", "Приоритет", "text", 11),
        ("text", "Рекомендация", "text", 80), ("reason", "Основание", "text", 30),
    ), school_columns=3),
    Sheet("Решения", "decisions", (
        ("decision_id", "Идентификатор", "text", 16), ("kind_name", "Вид", "text", 30),
        ("topic", "Тема / основание", "text", 70), ("schools", "ОО (коды)", "text", 20),
        ("school_names", "ОО", "text", 50), ("responsible", "Ответственные", "text", 34), ("due", "Срок", "text", 16),
    )),
    # next year's roadmap in seed 004's form (roadmap.csv: one row per measure)
    Sheet("Дорожная карта", "roadmap", (
        ("number", "№ п/п", "int", 8), ("title", "Наименование мероприятия", "text", 60),
        ("due", "Срок исполнения (месяц, год)", "text", 16), ("indicator", "Индикативные показатели", "text", 60),
        ("executors", "Исполнители", "text", 34), ("school_code", "Код ОО", "text", 9),
        ("decision_id", "Идентификатор", "text", 16),
    )),
    Sheet("Анализ мер", "followup", (
        ("recommendation_id", "Рекомендация прошлого года", "text", 16), ("school_code", "Код ОО", "text", 9),
        ("school_name", "Наименование ОО", "text", 34), ("indicator_code", "Показатель", "text", 10),
        ("indicator_name", "Наименование показателя", "text", 40), ("status", "Результат", "text", 16),
    ), school_columns=3),
    Sheet("Замечания к данным", "issues", (
        ("school_code", "Код ОО", "text", 9), ("file", "Файл", "text", 28), ("sheet", "Лист", "text", 12),
        ("cell", "Ячейка", "text", 8), ("field", "Поле", "text", 12), ("value", "Значение", "text", 24),
        ("rule", "Правило", "text", 16), ("rule_name", "Что проверяется", "text", 30), ("severity", "Вид", "text", 14),
        ("message", "Сообщение", "text", 60),
        ("action", "Принятые меры", "text", 30),
    ), school_columns=2),
    Sheet("Файлы", "files", (
        ("file", "Файл", "text", 34), ("status", "Статус", "text", 20), ("reason", "Причина", "text", 50),
        ("school_code", "Код ОО", "text", 9), ("filled_date", "Дата заполнения", "text", 14),
        ("size_bytes", "Размер, байт", "int", 12), ("sha256", "SHA-256", "text", 66),
    ), school_columns=1),
    Sheet("Сведения об ОО", "profile", (
        ("school_code", "Код ОО", "text", 9), ("school_name", "Наименование ОО", "text", 36),
        ("school_type", "Тип ОО", "text", 10), ("submitted", "Форма принята", "text", 9),
        ("pupils", "Обучающихся", "int", 11), ("innovation_site", "Инновационная площадка", "text", 12),
        ("low_results", "ШНОР", "text", 8), ("low_results_support", "Поддержка ШНОР получена", "text", 12),
        ("staffing_monitoring", "Мониторинг кадровых потребностей", "text", 14),
        ("responsible", "Ответственный", "text", 30), ("filled_date", "Дата заполнения", "text", 14),
        ("file", "Файл", "text", 28),
    ), school_columns=2),
)


def sheet_columns(sheet: Sheet, ctx: "ReportContext") -> tuple[Column, ...]:
    """A sheet's columns for this year: the results sheet adds every share of the
    methodology, in %."""
    if sheet.table == "scores":
        return sheet.columns + tuple((s.code, f"{s.code}, %", "pct", 8) for s in ctx.methodology.shares)
    return sheet.columns


def clean_text(value: str) -> str:
    """A string safe for a cell: control characters (other than tab, LF, CR) removed."""
    return CONTROL.sub("", value)


def cell_value(value: Any, kind: str = "text") -> tuple[Any, str | None]:
    """What a cell holds for a value of a column kind, and its number format: ``(None, None)``
    for an empty cell; a number with the kind's format (numeric kinds only); otherwise a
    string (booleans «да»/«нет», control characters removed). NaN and ±inf are empty cells:
    Excel has no infinity, and an int column cannot round it."""
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None, None
    if isinstance(value, bool):
        return ("да" if value else "нет"), None
    if kind in NUMERIC and isinstance(value, (int, float)):
        return (float(value) if kind != "int" else int(round(float(value)))), FORMATS[kind]
    if isinstance(value, (np.datetime64, np.timedelta64)):  # as pandas hands them out
        return cell_value(pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value), kind)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return cell_value(value.item(), kind)
    return clean_text(str(value)), None


def set_cell(cell: Cell, value: Any, kind: str = "text") -> None:
    """Write a value so that it can never become a formula."""
    v, number_format = cell_value(value, kind)
    cell.value = v
    if isinstance(v, str):
        cell.data_type = "s"  # never "f" (nor "e"), whatever the text
        if v.startswith(FORMULA_START):
            cell.quotePrefix = True
    elif number_format is not None:
        cell.number_format = number_format


def _as_number(v: Any) -> Any:
    """A numeric column's value as a number where it reads as one; None for NaN and ±inf
    (also written as text: «inf», «1e999»), which no cell can hold as a number."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return None if isinstance(v, float) and not math.isfinite(v) else v
    try:
        f = float(str(v).strip().replace(",", "."))
    except ValueError:
        return v
    return None if not math.isfinite(f) else f


def _column_values(df: pd.DataFrame, name: str) -> pd.Series | None:
    """A column of the table (None where the table lacks it: an empty column)."""
    if name not in df.columns:
        return None
    s = df[name]
    if isinstance(s, pd.DataFrame):  # a repeated column name: the last one, as to_dict does
        s = s.iloc[:, -1]
    return s


# --- the cells as XML --------------------------------------------------------------------------

_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))  # a raw CR would read back as LF


def _escape(v: str) -> str:
    for a, b in _ESCAPES:
        if a in v:
            v = v.replace(a, b)
    return v



def format_properties(key: tuple) -> dict[str, Any]:
    """XlsxWriter's format properties of a cell style (number format, quote prefix, wrap, fill)."""
    number_format, quote, wrap, fill = key
    props: dict[str, Any] = {}
    if number_format:
        props["num_format"] = number_format
    if quote:
        props["quote_prefix"] = True
    if wrap:
        props.update(text_wrap=True, valign="top")
    if fill:
        props.update(pattern=1, bg_color="#" + fill)
    return props

class _Styles:
    """The cell formats of the table rows, made in the XlsxWriter workbook before it is closed
    (every combination a cell can need), and their indices for the rows' XML."""

    def __init__(self, wb: Any) -> None:
        self.index: dict[tuple, str] = {(None, False, False, None): ""}
        for number_format in dict.fromkeys(FORMATS[k] for k in NUMERIC):  # in a fixed order
            self._make(wb, (number_format, False, False, None))
        for quote in (False, True):
            for wrap in (False, True):
                for fill in (None, *ZONE_FILLS.values()):
                    if quote or wrap or fill:
                        self._make(wb, (None, quote, wrap, fill))

    def _make(self, wb: Any, key: tuple) -> None:
        # XlsxWriter numbers a format when a cell of its own uses it; these cells are ours
        self.index[key] = f' s="{wb.add_format(format_properties(key))._get_xf_index()}"'

    def get(self, number_format: str | None = None, quote: bool = False, wrap: bool = False,
            fill: str | None = None) -> str:
        return self.index[(number_format, quote, wrap, fill)]


def _number_xml(v: float | int, style: str) -> str:
    """A number cell after its address: 16 significant digits, as openpyxl wrote them (70.0
    reads back as 70)."""
    return f"{style}><v>{v:.16g}</v></c>"


class _Strings:
    """The shared strings of the workbook: XlsxWriter's (title, headers) first, then every
    distinct text of the rows, each stored once (the rows hold its number)."""

    def __init__(self, first: int) -> None:
        self.index: dict[str, int] = {}
        self.first = first
        self.count = 0  # string cells, for the table's «count»

    def get(self, v: str) -> int:
        i = self.index.get(v)
        if i is None:
            i = self.index[v] = self.first + len(self.index)
        return i

    def xml(self) -> Iterator[str]:
        for v in self.index:
            space = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
            yield f"<si><t{space}>{_escape(v)}</t></si>"


def _string_xml(v: str, styles: _Styles, strings: _Strings, wrap: bool, zone: bool) -> str:
    """The rest of a string cell after its address: style, type and the text's number in the
    shared strings (never a formula)."""
    v = v[:MAX_TEXT]
    style = styles.get(None, v.startswith(FORMULA_START), wrap, ZONE_FILLS.get(v) if zone else None)
    return f'{style} t="s"><v>{strings.get(v)}</v></c>'


def _column_codes(s: pd.Series | None, n: int, kind: str, styles: _Styles, strings: _Strings,
                  wrap: bool, zone: bool) -> tuple[np.ndarray, list[str], list[str]]:
    """One column as (code per row, XML per code, text per code): what follows the cell
    address for each distinct value, as ``set_cell`` would write it; code -1 is an empty cell.

    Typed columns (numbers of a numeric kind, text of a text kind, as read from CSV) are
    encoded by distinct value; anything else value by value through cell_value."""
    if s is None:
        return np.full(n, -1, dtype=np.int64), [], []
    numeric = kind in NUMERIC
    if numeric and s.dtype.kind in "fiu":
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(x)
        if kind == "int":
            x = np.rint(x)
        codes, uniques = pd.factorize(np.where(finite, x, 0).view(np.int64))  # by bits: -0.0 is not 0.0
        style = styles.get(FORMATS[kind])
        values = uniques.view(np.float64).tolist()
        frags = [_number_xml(int(v) if kind == "int" else v, style) for v in values]
        codes = np.where(finite, codes, -1)
        return codes, frags, [""] * len(frags)
    if not numeric and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
        texts = [str(u) for u in uniques]
        if CONTROL.search("".join(texts)):
            texts = [CONTROL.sub("", t) for t in texts]
        codes = np.asarray(codes, dtype=np.int64)
        if "" in texts:  # an empty text is an empty cell
            codes[codes == texts.index("")] = -1
        return codes, [_string_xml(t, styles, strings, wrap, zone) for t in texts], texts
    # anything else: value by value, as cell_value has it
    seen: dict[tuple, int] = {}
    frags: list[str] = []
    shown: list[Any] = []
    codes = np.empty(n, dtype=np.int64)
    for i, value in enumerate(s.tolist()):
        v, _ = cell_value(_as_number(value) if numeric else value, kind)
        if v is None or v == "":  # an empty text is an empty cell
            codes[i] = -1
            continue
        key = (type(v), v, math.copysign(1, v) if isinstance(v, float) else 0)
        code = seen.get(key)
        if code is None:
            code = seen[key] = len(frags)
            shown.append(v)
            frags.append(_number_xml(v, styles.get(FORMATS[kind])) if not isinstance(v, str)
                         else _string_xml(v, styles, strings, wrap, zone))
        codes[i] = code
    return codes, frags, [f if isinstance(f, str) else "" for f in shown]


def _rows_xml(columns: Sequence[Column], df: pd.DataFrame, styles: _Styles, strings: _Strings,
              first_row: int, chunk: int = 20000) -> Iterator[bytes]:
    """The table's rows as <row> elements, numbered from first_row, in chunks of UTF-8.

    Each cell is its address joined to the XML of its value (made once per distinct value of
    its column); the joining runs in numpy over object arrays, not cell by cell in Python."""
    n = len(df)
    if n == 0:
        return
    lines = np.ones(n, dtype=np.int64)
    encoded = []  # per column: its letter's cell start, its codes, the XML per code
    for j, (name, head, kind, width) in enumerate(columns):
        wrap = kind == "text" and width >= WRAP_WIDTH
        codes, frags, texts = _column_codes(_column_values(df, name), n, kind, styles, strings, wrap, name == "zone")
        if wrap:  # the row as tall as its longest wrapped text (no program sizes it on opening)
            wide = column_width(head, width)
            lines = np.maximum(lines, np.array([text_lines(t, wide) for t in texts] + [1])[codes])
        empty = styles.get(wrap=True) + "/>" if wrap else ""  # an empty wide cell keeps its alignment
        table = np.array(frags + [empty], dtype=object)  # code -1 → the last
        is_string = np.array([' t="s"' in f for f in frags] + [False])
        strings.count += int(np.count_nonzero(is_string[codes]))
        encoded.append((f'<c r="{xl_col_to_name(j)}', codes, table, wrap))
    # the cells are joined a chunk of rows at a time, so that no sheet is all in memory as text
    for start in range(0, n, chunk):
        rows = range(first_row + start, first_row + min(n, start + chunk))
        matrix = np.empty((len(rows), len(columns) + 2), dtype=object)
        numbers = np.array([f'{r}"' for r in rows], dtype=object)
        for j, (begin, codes, table, wrap) in enumerate(encoded, start=1):
            part = codes[start:start + chunk]
            cells = (begin + numbers) + table[part]
            if not wrap:
                cells[part < 0] = ""
            matrix[:, j] = cells
        matrix[:, 0] = [f'<row r="{r}" ht="{k * LINE_HEIGHT}" customHeight="1">' if k > 1 else f'<row r="{r}">'
                        for r, k in zip(rows, lines[start:start + chunk].tolist())]
        matrix[:, -1] = "</row>"
        yield "".join(matrix.ravel().tolist()).encode("utf-8")


# --- the workbook ------------------------------------------------------------------------------

def column_width(header: str, width: int) -> int:
    """The declared width, widened so that the header's longest word fits on one line beside
    the filter button (no «Максиму м»)."""
    return max(width, max((len(w) for w in header.split()), default=0) + FILTER_BUTTON)


def text_lines(text: str, width: float) -> int:
    """Lines a text takes wrapped at word boundaries in a column of this width (its own line
    breaks kept, a word longer than the column broken)."""
    cap = max(1, int(width) - 2)
    total = 0
    for part in text.split("\n"):
        lines, used = 1, 0
        for word in part.split():
            size = len(word)
            if used and used + 1 + size <= cap:
                used += 1 + size
                continue
            if used:
                lines += 1
            lines += (size - 1) // cap if size > cap else 0
            used = size - (size - 1) // cap * cap if size > cap else size
        total += lines
    return max(1, total)


def header_height(columns: Sequence[Column]) -> int:
    """The header row's height in points: the most lines a header wraps to (two at least)."""
    lines = max((len(textwrap.wrap(head, max(1, column_width(head, width) - FILTER_BUTTON + 1), break_long_words=False))
                 for _, head, _, width in columns), default=1)
    return max(2, lines) * LINE_HEIGHT + 2


def title_line(ctx: "ReportContext") -> str:
    """The title row: the report's name and its order."""
    hd = ctx.params.header
    return f"{hd.title} (приказ {hd.order_number} от {fmt_day(hd.order_date)})"


class _ZipWriter:
    """The zip's entries written, in order, by a second thread: compressing a part (zlib lets
    other threads run meanwhile) overlaps with making the next one. At most two operations
    wait; a failure is raised at the next operation or at the end."""

    def __init__(self, dst: zipfile.ZipFile) -> None:
        self.dst = dst
        self.pool = ThreadPoolExecutor(1)
        self.waiting: deque[Future] = deque()
        self.fh: Any = None

    def _do(self, fn: Any, *args: Any) -> None:
        while len(self.waiting) >= 2:
            self.waiting.popleft().result()
        self.waiting.append(self.pool.submit(fn, *args))

    def _open(self, info: zipfile.ZipInfo, zip64: bool) -> None:
        self.fh = self.dst.open(info, "w", force_zip64=zip64)

    def open(self, info: zipfile.ZipInfo, zip64: bool) -> None:
        self._do(self._open, info, zip64)

    def write(self, data: bytes) -> None:
        self._do(lambda: self.fh.write(data))

    def close_entry(self) -> None:
        self._do(lambda: self.fh.close())

    def writestr(self, info: zipfile.ZipInfo, data: bytes) -> None:
        self._do(self.dst.writestr, info, data)

    def __enter__(self) -> "_ZipWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            while self.waiting:
                self.waiting.popleft().result()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class SheetData:
    """One sheet to write: name, columns, rows, leading columns that name the school."""

    name: str
    columns: tuple[Column, ...]
    table: pd.DataFrame
    school_columns: int = 0


def build_workbook(sheets: Sequence[SheetData], title: str, password: str | None, stamp: dt.datetime,
                   compresslevel: int = 1) -> bytes:
    """The workbook as bytes: XlsxWriter writes each sheet's settings, title and header; the
    rows are spliced into its sheet XML (see _rows_xml); the zip is written again with fixed
    entry times, so equal content gives equal bytes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": title, "author": "pipeline", "created": stamp})
    title_format = wb.add_format({"bold": True, "font_size": 12, "text_wrap": True, "valign": "top"})
    header_format = wb.add_format({"bold": True, "font_color": "#" + HEADER_FONT, "pattern": 1,
                                   "bg_color": "#" + HEADER_FILL, "text_wrap": True, "valign": "vcenter"})
    styles = _Styles(wb)
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        columns, last = sheet.columns, len(sheet.columns) - 1
        widths = [column_width(head, width) for _, head, _, width in columns]
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        # row 1: the title, across the table; row 2: the header; then the rows
        if last > 0:
            ws.merge_range(0, 0, 0, last, title, title_format)
        else:
            ws.write_string(0, 0, title, title_format)
        title_lines = len(textwrap.wrap(title, max(10, int(sum(widths) / 1.25))))
        ws.set_row(0, title_lines * TITLE_LINE_HEIGHT + 4)
        for j, (_, head, _, _) in enumerate(columns):
            ws.write_string(1, j, head, header_format)
        ws.set_row(1, header_height(columns))
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, 1 + len(sheet.table), last)
        ws.protect(password or "", {"sort": True, "autofilter": True, "format_columns": True, "format_rows": True,
                                    "select_locked_cells": True, "select_unlocked_cells": True})
        ws.set_paper(PAPER_A4)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        ws.repeat_rows(0, 1)
        if sheet.school_columns and sum(widths) > PAGE_WIDTH_CHARS:
            ws.repeat_columns(0, sheet.school_columns - 1)
        ws.set_footer(FOOTER)
    wb.close()

    date_time = (stamp.year, stamp.month, stamp.day, 0, 0, 0)
    sheet_files = {f"xl/worksheets/sheet{i}.xml": sheet for i, sheet in enumerate(sheets, start=1)}
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                                                      compresslevel=compresslevel) as dst, _ZipWriter(dst) as zw:
        def entry(name: str) -> zipfile.ZipInfo:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            return info

        shared = src.read(SHARED_STRINGS)
        own = re.search(rb'uniqueCount="(\d+)"', shared)
        strings = _Strings(int(own.group(1)) if own else 0)
        for info in src.infolist():
            if info.filename == SHARED_STRINGS:
                continue  # written last, with the rows' strings
            data = src.read(info.filename)
            sheet = sheet_files.get(info.filename)
            if sheet is None:
                zw.writestr(entry(info.filename), data)
                continue
            head, tail = data.split(b"</sheetData>", 1)
            ref = f"A1:{xl_col_to_name(len(sheet.columns) - 1)}{len(sheet.table) + 2}"
            head = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), head, count=1)
            rows = _rows_xml(sheet.columns, sheet.table, styles, strings, first_row=3)
            first = next(rows, b"")  # made while the previous sheet is still being compressed
            zw.open(entry(info.filename), zip64=len(sheet.table) > 100000)
            zw.write(head + first)
            for part in rows:
                zw.write(part)
            zw.write(b"</sheetData>" + tail)
            zw.close_entry()
        head, tail = shared.split(b"</sst>", 1)
        count = re.search(rb' count="(\d+)"', head)
        total = (int(count.group(1)) if count else 0) + strings.count
        head = re.sub(rb'count="\d+" uniqueCount="\d+"',
                      f'count="{total}" uniqueCount="{strings.first + len(strings.index)}"'.encode(), head, count=1)
        zw.open(entry(SHARED_STRINGS), zip64=True)
        zw.write(head)
        batch: list[str] = []
        for si in strings.xml():
            batch.append(si)
            if len(batch) == 20000:
                zw.write("".join(batch).encode("utf-8"))
                batch = []
        zw.write("".join(batch).encode("utf-8") + b"</sst>" + tail)
        zw.close_entry()
    return out.getvalue()


def _each(s: pd.Series, f: Any) -> list[Any]:
    """f of every value of a column, computed once per distinct value (the columns repeat
    school codes, indicators and statuses thousands of times)."""
    values = s.tolist()
    memo: dict[tuple, Any] = {}
    out = []
    for v in values:
        key = (type(v), v)
        if key in memo:
            out.append(memo[key])
        else:
            out.append(memo.setdefault(key, f(v)))
    return out


def results_tables(ctx: "ReportContext") -> dict[str, pd.DataFrame]:
    """The tables of results.xlsx, by the key used in SHEETS."""

    d = ctx.data
    names = _names(ctx)
    ind = indicator_names(ctx.methodology)
    st = school_table(ctx).sort_values("school_code", kind="mergesort")
    thr = ctx.params.report.trend_threshold
    st = st.assign(trend=[trend(x, thr)[0] for x in st["delta"]])
    shares = staff_denominators(ctx)
    if not shares.empty:
        keep = ["school_code"] + [s.code for s in ctx.methodology.shares]
        st = st.drop(columns=[c for c in keep[1:] if c in st.columns]).merge(shares[keep], on="school_code", how="left")
    cr = criteria_table(ctx).assign(
        school_name=lambda x: _each(x["school_code"], lambda c: names.get(c)),
        criterion_name=lambda x: _each(x["criterion"], lambda c: ind.get(c)),
        zone=lambda x: [zone_of(v, ctx.params) for v in x["pct"]],
    )
    ts = d["targets_school.csv"].copy()
    ts["school_code"] = _each(ts["school_code"], text)
    ts = ts.assign(level="ОО", school_name=_each(ts["school_code"], lambda c: names.get(c)),
                   target_name=_each(ts["target"], lambda c: ind.get(c)),
                   status=_each(ts["status"], lambda s: TARGET_STATUS_LABEL.get(text(s), text(s))))
    tm = municipal_targets(ctx).assign(
        level="муниципалитет", school_code="", school_name="", target_name=lambda x: x["name"],
        status=lambda x: [("нет данных" if n else "н/д") if m is None else ("достигнут" if m else "не достигнут")
                          for m, n in zip(x["met"], x["note"])])
    targets = pd.concat([tm, ts], ignore_index=True)
    recs = d["recommendations.csv"].copy()
    recs = recs.assign(school_name=_each(recs["school_code"], lambda c: names.get(text(c), "")),
                       indicator_name=_each(recs["indicator_code"], lambda c: ind.get(text(c), "")))
    dec = d["decisions.csv"].copy()
    dec = dec.assign(kind_name=_each(dec["kind"], lambda k: DECISION_KINDS.get(text(k), text(k))),
                     school_names=_each(dec["schools"], lambda s: school_list(s, names)))
    fu = d["followup.csv"].copy()
    fu = fu.assign(school_name=_each(fu["school_code"], lambda c: names.get(text(c), "")),
                   indicator_name=_each(fu["indicator_code"], lambda c: ind.get(text(c), "")))
    files = d["files.csv"].copy()
    files = files.assign(status=_each(files["status"], lambda s: FILE_STATUS_LABEL.get(text(s), text(s))))
    issues = d["issues.csv"].copy()
    issues = issues.assign(severity=_each(issues["severity"], lambda s: SEVERITY_LABEL.get(text(s), text(s))),
                           rule_name=_each(issues["rule"], rule_name))
    return {"scores": st, "criteria": cr, "targets": targets, "recommendations": recs, "decisions": dec,
            "roadmap": d["roadmap.csv"], "followup": fu, "issues": issues, "files": files, "profile": d["profile.csv"]}


def workbook_bytes(ctx: "ReportContext") -> bytes:
    """results.xlsx as bytes (deterministic)."""
    tables = results_tables(ctx)
    sheets = [SheetData(s.name, sheet_columns(s, ctx), tables[s.table], s.school_columns) for s in SHEETS]
    stamp = dt.datetime.combine(ctx.params.header.order_date, dt.time(0, 0))
    return build_workbook(sheets, title_line(ctx), ctx.params.report.results_password, stamp)


def write_results(ctx: "ReportContext", path: str | Path) -> Path:
    """Write results.xlsx atomically; return its path."""
    return write_bytes_atomic(Path(path), workbook_bytes(ctx))


class ResultsJob:
    """results.xlsx written by a forked process while the report goes on in this one.

    Writing the workbook is a few seconds of CPU at 10,000 schools (benchmarks/excel_writers.py);
    the report's sections and school pages do not need it, so on a machine with two cores it
    costs almost no wall time (pipeline.core.parallel.Forked; without fork it is written when
    result() is asked for). The file is the same either way.
    """

    def __init__(self, ctx: "ReportContext", path: str | Path) -> None:
        self.path = Path(path)
        self._job = Forked(_write_shared, (ctx, self.path))

    def result(self) -> Path:
        """Wait for the workbook; its path, or StageError saying why it was not written."""
        try:
            return self._job.result()
        except Exception as exc:  # noqa: BLE001 - the child's failure, reported as the stage's
            raise StageError("report", f"таблица результатов {self.path} не записана: {exc}",
                             "Исправьте причину и запустите этап отчёта снова (--force).") from None


def _write_shared(job: tuple["ReportContext", Path]) -> Path:
    ctx, path = job
    return write_results(ctx, path)


def start_results(ctx: "ReportContext", path: str | Path) -> ResultsJob:
    """Begin writing results.xlsx (see ResultsJob); call .result() before the stage ends."""
    return ResultsJob(ctx, path)
