"""results.xlsx — the year's tables for officials (internal: personal data is kept here).

One sheet per table with Russian headers, column widths, a frozen header row, number formats
and an autofilter. Nothing from a form can become a formula: every string is written as a
string cell (strings starting with = + - @ or a tab/CR also get the quote prefix, so Excel
shows them as typed), and control characters are removed. The file is deterministic: fixed
document dates and zip entry times.

The sheets are written in openpyxl's write-only mode: rows are streamed to the sheet files
instead of being kept as millions of cells, and each cell style (number format, quote prefix,
wrap, zone fill) is made once per sheet and shared. The cells, styles and bytes are those the
regular mode wrote cell by cell with ``set_cell`` (tests/test_excel.py compares the two).
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from ..core.errors import StageError
from ..core.parallel import Forked
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
HEADER_FILL = PatternFill("solid", fgColor="1D4E89")
HEADER_FONT = Font(bold=True, color="FFFFFF")
ZONE_FILLS = {"зелёная": "E4F4EA", "жёлтая": "FDF2D5", "красная": "FBE5E4"}
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")  # text columns 40 wide or more
FORMATS = {"pct": "0.0", "score": "0.0", "int": "0", "text": "@", "date": "yyyy-mm-dd"}
NUMERIC = ("pct", "score", "int")

# (column in the table, Russian header, kind, width)
Column = tuple[str, str, str, int]

SHEETS: dict[str, tuple[str, list[Column]]] = {
    "Результаты": ("scores", [
        ("school_code", "Код ОО", "text", 9), ("school_name", "Наименование ОО", "text", 38),
        ("school_type", "Тип ОО", "text", 10), ("cluster", "Кластер", "text", 10),
        ("submitted", "Форма принята", "text", 9), ("checklist_points", "Баллы самооценки", "int", 10),
        ("checklist_max", "Максимум", "int", 9), ("checklist_pct", "Самооценка, %", "pct", 11),
        ("activity_index", "Индекс активности", "score", 11), ("total_score", "Итоговый балл", "score", 10),
        ("rank_in_cluster", "Место в кластере", "int", 9), ("level", "Уровень", "text", 11),
        ("zone", "Зона", "text", 10), ("prev_total", "Итог прошлого года", "score", 11),
        ("delta", "Изменение", "score", 10), ("trend", "Тренд", "text", 8),
    ]),
    "Критерии": ("criteria", [
        ("school_code", "Код ОО", "text", 9), ("school_name", "Наименование ОО", "text", 36),
        ("cluster", "Кластер", "text", 10), ("criterion", "Критерий", "text", 9),
        ("criterion_name", "Наименование критерия", "text", 50), ("points", "Баллы", "int", 8),
        ("max_points", "Максимум", "int", 9), ("pct", "Выполнение, %", "pct", 11),
        ("zone", "Зона", "text", 10), ("cluster_mean", "Среднее по кластеру, %", "pct", 12),
        ("prev_pct", "Прошлый год, %", "pct", 11),
    ]),
    "Целевые показатели": ("targets", [
        ("level", "Уровень", "text", 14), ("school_code", "Код ОО", "text", 9),
        ("school_name", "Наименование ОО", "text", 36), ("target", "Код", "text", 7),
        ("target_name", "Целевой показатель", "text", 55), ("numerator", "Числитель", "int", 10),
        ("denominator", "Знаменатель", "int", 11), ("value", "Значение", "pct", 10),
        ("target_value", "Целевое значение", "pct", 10), ("status", "Итог", "text", 16),
    ]),
    "Рекомендации": ("recommendations", [
        ("recommendation_id", "Идентификатор", "text", 14), ("school_code", "Код ОО", "text", 9),
        ("school_name", "Наименование ОО", "text", 34), ("indicator_code", "Показатель", "text", 10),
        ("indicator_name", "Наименование показателя", "text", 40), ("priority", "Приоритет", "text", 11),
        ("text", "Рекомендация", "text", 80), ("reason", "Основание", "text", 30),
    ]),
    "Решения": ("decisions", [
        ("decision_id", "Идентификатор", "text", 16), ("kind_name", "Вид", "text", 30),
        ("topic", "Тема / основание", "text", 70), ("schools", "ОО (коды)", "text", 20),
        ("school_names", "ОО", "text", 50), ("responsible", "Ответственные", "text", 34), ("due", "Срок", "text", 16),
    ]),
    "Анализ мер": ("followup", [
        ("recommendation_id", "Рекомендация прошлого года", "text", 16), ("school_code", "Код ОО", "text", 9),
        ("school_name", "Наименование ОО", "text", 34), ("indicator_code", "Показатель", "text", 10),
        ("indicator_name", "Наименование показателя", "text", 40), ("status", "Результат", "text", 16),
    ]),
    "Замечания к данным": ("issues", [
        ("school_code", "Код ОО", "text", 9), ("file", "Файл", "text", 28), ("sheet", "Лист", "text", 12),
        ("cell", "Ячейка", "text", 8), ("field", "Поле", "text", 12), ("value", "Значение", "text", 24),
        ("rule", "Правило", "text", 16), ("rule_name", "Что проверяется", "text", 30), ("severity", "Вид", "text", 14),
        ("message", "Сообщение", "text", 60),
        ("action", "Принятые меры", "text", 30),
    ]),
    "Файлы": ("files", [
        ("file", "Файл", "text", 34), ("status", "Статус", "text", 20), ("reason", "Причина", "text", 50),
        ("school_code", "Код ОО", "text", 9), ("filled_date", "Дата заполнения", "text", 14),
        ("size_bytes", "Размер, байт", "int", 12), ("sha256", "SHA-256", "text", 66),
    ]),
    "Сведения об ОО": ("profile", [
        ("school_code", "Код ОО", "text", 9), ("school_name", "Наименование ОО", "text", 36),
        ("school_type", "Тип ОО", "text", 10), ("submitted", "Форма принята", "text", 9),
        ("pupils", "Обучающихся", "int", 11), ("innovation_site", "Инновационная площадка", "text", 12),
        ("low_results", "ШНОР", "text", 8), ("low_results_support", "Поддержка ШНОР получена", "text", 12),
        ("staffing_monitoring", "Мониторинг кадровых потребностей", "text", 14),
        ("responsible", "Ответственный", "text", 30), ("filled_date", "Дата заполнения", "text", 14),
        ("file", "Файл", "text", 28),
    ]),
}


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


def _column_values(df: pd.DataFrame, name: str) -> list[Any]:
    """A column as a list of Python values (what ``to_dict("records")`` gives; a missing
    column is all None)."""
    if name not in df.columns:
        return [None] * len(df)
    s = df[name]
    if isinstance(s, pd.DataFrame):  # a repeated column name: the last one, as to_dict does
        s = s.iloc[:, -1]
    return s.tolist()


class _Styles:
    """Cell styles of one write-only sheet, each made once on a template cell and then shared
    by every cell that has it (the StyleArray, i.e. indices into the workbook's fonts, fills,
    alignments and number formats; openpyxl only reads it when saving)."""

    def __init__(self, ws: Any):
        self.ws = ws
        self.made: dict[tuple, Any] = {}

    def get(self, number_format: str | None = None, quote: bool = False, wrap: bool = False,
            fill: str | None = None) -> Any:
        key = (number_format, quote, wrap, fill)
        style = self.made.get(key)
        if style is None:
            c = WriteOnlyCell(self.ws)
            if number_format is not None:
                c.number_format = number_format
            if quote:
                c.quotePrefix = True
            if wrap:
                c.alignment = WRAP_TOP
            if fill is not None:
                c.fill = PatternFill("solid", fgColor=fill)
            style = self.made[key] = c._style
        return style


def _column_cells(ws: Any, styles: _Styles, values: list[Any], kind: str, wrap: bool, zone: bool) -> list[Any]:
    """One column's cells for ``ws.append``, as ``set_cell`` (plus the column's alignment and
    the zone fill) would make them: None (no cell), a plain string or a Cell.

    openpyxl binds a plain string as a string unless it looks like a formula or an error code,
    so those, and every styled value, are Cells with the type forced to string."""
    numeric = kind in NUMERIC
    number_style = styles.get(FORMATS[kind]) if numeric else None
    wrapped = styles.get(wrap=True) if wrap else None
    out: list[Any] = []
    add = out.append
    for value in values:
        t = type(value)
        if t is str and not numeric:  # the common cases first, as cell_value has them
            v: Any = CONTROL.sub("", value)
        elif t is float and numeric:
            v = None if not math.isfinite(value) else (value if kind != "int" else int(round(value)))
        else:
            v, _ = cell_value(_as_number(value) if numeric else value, kind)
        if v is None:
            if wrapped is None:
                add(None)
            else:  # an empty cell still carries the column's alignment
                c = WriteOnlyCell(ws)
                c._style = wrapped
                add(c)
        elif type(v) is not str:  # a number of a numeric column
            c = WriteOnlyCell(ws, v)
            c._style = number_style
            add(c)
        else:
            quote = v.startswith(FORMULA_START)
            fill = ZONE_FILLS.get(v) if zone else None
            if quote or wrap or fill is not None:
                c = WriteOnlyCell(ws, v)
                c.data_type = "s"
                c._style = styles.get(None, quote, wrap, fill)
                add(c)
            elif v in ERROR_CODES or v.startswith("="):
                c = WriteOnlyCell(ws, v)
                c.data_type = "s"
                add(c)
            else:
                add(v)
    return out


def _write_sheet(wb: Workbook, title: str, columns: Sequence[Column], df: pd.DataFrame) -> None:
    ws = wb.create_sheet(title)
    # everything above the rows goes before the first row (a write-only sheet streams)
    for j, (_, _, _, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"
    ref = f"A1:{get_column_letter(len(columns))}{len(df) + 1}"
    ws.auto_filter.ref = ref
    ws.calculate_dimension = lambda: ref  # the <dimension> element a regular sheet has
    header = []
    for _, name, _, _ in columns:
        c = WriteOnlyCell(ws)
        set_cell(c, name)
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = HEADER_ALIGNMENT
        header.append(c)
    ws.append(header)
    styles = _Styles(ws)
    cells = [_column_cells(ws, styles, _column_values(df, name), kind, kind == "text" and width >= 40, name == "zone")
             for name, _, kind, width in columns]
    for row in zip(*cells):
        ws.append(row)


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
        school_name=lambda x: x["school_code"].map(names),
        criterion_name=lambda x: x["criterion"].map(ind),
        zone=lambda x: [zone_of(v, ctx.params) for v in x["pct"]],
    )
    ts = d["targets_school.csv"].copy()
    ts["school_code"] = ts["school_code"].map(text)
    ts = ts.assign(level="ОО", school_name=ts["school_code"].map(names), target_name=ts["target"].map(ind),
                   status=ts["status"].map(lambda s: TARGET_STATUS_LABEL.get(text(s), text(s))))
    tm = municipal_targets(ctx).assign(
        level="муниципалитет", school_code="", school_name="", target_name=lambda x: x["name"],
        status=lambda x: [("нет данных" if n else "н/д") if m is None else ("достигнут" if m else "не достигнут")
                          for m, n in zip(x["met"], x["note"])])
    targets = pd.concat([tm, ts], ignore_index=True)
    recs = d["recommendations.csv"].copy()
    recs = recs.assign(school_name=recs["school_code"].map(lambda c: names.get(text(c), "")),
                       indicator_name=recs["indicator_code"].map(lambda c: ind.get(text(c), "")))
    dec = d["decisions.csv"].copy()
    dec = dec.assign(kind_name=dec["kind"].map(lambda k: DECISION_KINDS.get(text(k), text(k))),
                     school_names=dec["schools"].map(lambda s: school_list(s, names)))
    fu = d["followup.csv"].copy()
    fu = fu.assign(school_name=fu["school_code"].map(lambda c: names.get(text(c), "")),
                   indicator_name=fu["indicator_code"].map(lambda c: ind.get(text(c), "")))
    files = d["files.csv"].copy()
    files = files.assign(status=files["status"].map(lambda s: FILE_STATUS_LABEL.get(text(s), text(s))))
    issues = d["issues.csv"].copy()
    issues = issues.assign(severity=issues["severity"].map(lambda s: SEVERITY_LABEL.get(text(s), text(s))),
                           rule_name=issues["rule"].map(rule_name))
    return {"scores": st, "criteria": cr, "targets": targets, "recommendations": recs, "decisions": dec,
            "followup": fu, "issues": issues, "files": files, "profile": d["profile.csv"]}


def workbook_bytes(ctx: "ReportContext") -> bytes:
    """results.xlsx as bytes (deterministic)."""
    import datetime as dt

    tables = results_tables(ctx)
    wb = Workbook(write_only=True)  # rows are streamed to the sheet files, not kept as cells
    for title, (key, columns) in SHEETS.items():
        if key == "scores":  # every share of the methodology, in %
            columns = columns + [(s.code, f"{s.code}, %", "pct", 8) for s in ctx.methodology.shares]
        _write_sheet(wb, title, columns, tables[key])
    stamp = dt.datetime.combine(ctx.params.header.order_date, dt.time(0, 0))
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "pipeline"
    wb.properties.title = ctx.params.header.title
    buf = io.BytesIO()
    # what Workbook.save does, into a zip with fixed entry times (Workbook.save would also stamp
    # the time of saving as «modified»); the sheets are streamed from openpyxl's files
    with _FixedZip(buf, (stamp.year, stamp.month, stamp.day, 0, 0, 0)) as archive:
        ExcelWriter(wb, archive).save()
    return buf.getvalue()


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


class _FixedZip(zipfile.ZipFile):
    """A deflated zip whose entries all carry one date and mode, and whose «modified» document
    date is that date, so equal content gives equal bytes. openpyxl's ExcelWriter adds parts
    with ``writestr`` and the write-only sheets (files it wrote) with ``write``."""

    def __init__(self, file: Any, date_time: tuple[int, int, int, int, int, int]):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.date_time = date_time

    def _info(self, name: str, size: int) -> zipfile.ZipInfo:
        zi = zipfile.ZipInfo(name, date_time=self.date_time)
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.external_attr = 0o644 << 16
        zi.file_size = size  # decides zip64 as writestr does
        return zi

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        if isinstance(data, str):
            data = data.encode("utf-8")
        if name == "docProps/core.xml":
            stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % self.date_time
            data = _MODIFIED.sub(lambda m: m.group(1) + stamp.encode() + m.group(2), data)
        super().writestr(self._info(name, len(data)), data)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        name = arcname if arcname is not None else os.path.basename(filename)
        with open(filename, "rb") as src, self.open(self._info(name, os.path.getsize(filename)), "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)  # streamed: a sheet's XML is never all in memory


def write_results(ctx: "ReportContext", path: str | Path) -> Path:
    """Write results.xlsx atomically; return its path."""
    return write_bytes_atomic(Path(path), workbook_bytes(ctx))


class ResultsJob:
    """results.xlsx written by a forked process while the report goes on in this one.

    Writing the workbook is single-threaded work (tens of seconds of CPU at 10,000 schools);
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
