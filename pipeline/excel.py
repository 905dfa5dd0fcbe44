"""results.xlsx — the year's tables for officials (internal: personal data is kept here).

One sheet per table with Russian headers, column widths, a frozen header row, number formats
and an autofilter. Nothing from a form can become a formula: every string is written as a
string cell (strings starting with = + - @ or a tab/CR also get the quote prefix, so Excel
shows them as typed), and control characters are removed. The file is deterministic: fixed
document dates and zip entry times.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .storage import write_bytes_atomic

if TYPE_CHECKING:  # pragma: no cover
    from .report import ReportContext

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="1D4E89")
HEADER_FONT = Font(bold=True, color="FFFFFF")
ZONE_FILLS = {"зелёная": "E4F4EA", "жёлтая": "FDF2D5", "красная": "FBE5E4"}
FORMATS = {"pct": "0.0", "score": "0.0", "int": "0", "text": "@", "date": "yyyy-mm-dd"}

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


def set_cell(cell: Cell, value: Any, kind: str = "text") -> None:
    """Write a value so that it can never become a formula."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
        return
    if isinstance(value, bool):
        cell.value = "да" if value else "нет"
        cell.data_type = "s"
        return
    if kind in ("pct", "score", "int") and isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = float(value) if kind != "int" else int(round(float(value)))
        cell.number_format = FORMATS[kind]
        return
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return set_cell(cell, value.item(), kind)
    s = clean_text(str(value))
    cell.value = s
    cell.data_type = "s"  # never "f", whatever the first character
    if s.startswith(FORMULA_START):
        cell.quotePrefix = True


def _frame_rows(df: pd.DataFrame, columns: Sequence[Column]) -> list[list[Any]]:
    rows = []
    for rec in df.to_dict("records"):
        rows.append([rec.get(c[0]) for c in columns])
    return rows


def _write_sheet(wb: Workbook, title: str, columns: Sequence[Column], df: pd.DataFrame) -> None:
    ws = wb.create_sheet(title)
    for j, (_, header, _, width) in enumerate(columns, start=1):
        c = ws.cell(row=1, column=j)
        set_cell(c, header)
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = width
    zone_col = next((j for j, c in enumerate(columns, start=1) if c[0] == "zone"), None)
    # style objects made once per sheet, not once per cell (10,000 schools: 2 million cells)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    fills = {z: PatternFill("solid", fgColor=colour) for z, colour in ZONE_FILLS.items()}
    plan = [(j, kind, kind in ("pct", "score", "int"), kind == "text" and width >= 40)
            for j, (_, _, kind, width) in enumerate(columns, start=1)]
    for i, row in enumerate(_frame_rows(df, columns), start=2):
        for (j, kind, numeric, wrapped), value in zip(plan, row):
            cell = ws.cell(row=i, column=j)
            set_cell(cell, _as_number(value) if numeric else value, kind)
            if wrapped:
                cell.alignment = wrap_top
        if zone_col:
            zone_cell = ws.cell(row=i, column=zone_col)
            if zone_cell.value in fills:
                zone_cell.fill = fills[zone_cell.value]
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    ws.auto_filter.ref = f"A1:{last}{max(ws.max_row, 1)}"


def _as_number(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return None if isinstance(v, float) and math.isnan(v) else v
    try:
        f = float(str(v).strip().replace(",", "."))
    except ValueError:
        return v
    return None if math.isnan(f) else f


def results_tables(ctx: "ReportContext") -> dict[str, pd.DataFrame]:
    """The tables of results.xlsx, by the key used in SHEETS."""
    from . import report

    d = ctx.data
    names = report._names(ctx)
    ind = report.indicator_names(ctx.methodology)
    st = report.school_table(ctx).sort_values("school_code", kind="mergesort")
    thr = ctx.params.report.trend_threshold
    st = st.assign(trend=[report.trend(x, thr)[0] for x in st["delta"]])
    shares = report.staff_denominators(ctx)
    if not shares.empty:
        keep = ["school_code"] + [s.code for s in ctx.methodology.shares]
        st = st.drop(columns=[c for c in keep[1:] if c in st.columns]).merge(shares[keep], on="school_code", how="left")
    cr = report.criteria_table(ctx).assign(
        school_name=lambda x: x["school_code"].map(names),
        criterion_name=lambda x: x["criterion"].map(ind),
        zone=lambda x: [report.zone_of(v, ctx.params) for v in x["pct"]],
    )
    ts = d["targets_school.csv"].copy()
    ts["school_code"] = ts["school_code"].map(report.text)
    ts = ts.assign(level="ОО", school_name=ts["school_code"].map(names), target_name=ts["target"].map(ind),
                   status=ts["status"].map(lambda s: report.TARGET_STATUS_LABEL.get(report.text(s), report.text(s))))
    tm = report.municipal_targets(ctx).assign(
        level="муниципалитет", school_code="", school_name="", target_name=lambda x: x["name"],
        status=lambda x: x["met"].map(lambda m: "н/д" if m is None else ("достигнут" if m else "не достигнут")))
    targets = pd.concat([tm, ts], ignore_index=True)
    recs = d["recommendations.csv"].copy()
    recs = recs.assign(school_name=recs["school_code"].map(lambda c: names.get(report.text(c), "")),
                       indicator_name=recs["indicator_code"].map(lambda c: ind.get(report.text(c), "")))
    dec = d["decisions.csv"].copy()
    dec = dec.assign(kind_name=dec["kind"].map(lambda k: report.DECISION_KINDS.get(report.text(k), report.text(k))),
                     school_names=dec["schools"].map(lambda s: report._school_list(s, names)))
    fu = d["followup.csv"].copy()
    fu = fu.assign(school_name=fu["school_code"].map(lambda c: names.get(report.text(c), "")),
                   indicator_name=fu["indicator_code"].map(lambda c: ind.get(report.text(c), "")))
    files = d["files.csv"].copy()
    files = files.assign(status=files["status"].map(lambda s: report.FILE_STATUS_LABEL.get(report.text(s), report.text(s))))
    issues = d["issues.csv"].copy()
    issues = issues.assign(severity=issues["severity"].map(lambda s: report.SEVERITY_LABEL.get(report.text(s), report.text(s))),
                           rule_name=issues["rule"].map(report.rule_name))
    return {"scores": st, "criteria": cr, "targets": targets, "recommendations": recs, "decisions": dec,
            "followup": fu, "issues": issues, "files": files, "profile": d["profile.csv"]}


def workbook_bytes(ctx: "ReportContext") -> bytes:
    """results.xlsx as bytes (deterministic)."""
    import datetime as dt

    tables = results_tables(ctx)
    wb = Workbook()
    wb.remove(wb.active)
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
    wb.save(buf)
    return _normalise_zip(buf.getvalue(), (stamp.year, stamp.month, stamp.day, 0, 0, 0))


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _normalise_zip(data: bytes, date_time: tuple[int, int, int, int, int, int]) -> bytes:
    """The same zip with fixed entry times and a fixed «modified» date (openpyxl stamps the
    time of saving), so equal content gives equal bytes."""
    stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % date_time
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _MODIFIED.sub(lambda m: m.group(1) + stamp.encode() + m.group(2), body)
            zi = zipfile.ZipInfo(info.filename, date_time=date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def write_results(ctx: "ReportContext", path: str | Path) -> Path:
    """Write results.xlsx atomically; return its path."""
    return write_bytes_atomic(Path(path), workbook_bytes(ctx))
