"""results.xlsx: every sheet, Russian headers, frozen header row, filters, number formats;
nothing from a form becomes a formula; the bytes are reproducible."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter


from pipeline.config.params import load_params
from report_data import HOSTILE_FORMULA, HOSTILE_SCRIPT, RESPONSIBLE, write_history
from pipeline.core import values as core_values
from pipeline.report import context as report_context
from pipeline.report import excel

SHEETS = ["Результаты", "Критерии", "Целевые показатели", "Рекомендации", "Решения", "Анализ мер",
          "Замечания к данным", "Файлы", "Сведения об ОО"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("excel")
    return report_context.build_context(load_params(write_history(folder, hostile=True), check_files=False))


@pytest.fixture(scope="module")
def workbook(ctx, tmp_path_factory):
    path = excel.write_results(ctx, tmp_path_factory.mktemp("xlsx") / "results.xlsx")
    return openpyxl.load_workbook(path)


def cells(ws):
    return [c for row in ws.iter_rows() for c in row]


def test_sheets_headers_and_layout(workbook):
    assert workbook.sheetnames == SHEETS
    for ws in workbook.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        headers = [c.value for c in ws[1]]
        assert all(isinstance(h, str) and h for h in headers), ws.title
        assert all(any("а" <= ch.lower() <= "я" or ch in "ё" for ch in h) or h == "SHA-256" or h.endswith(", %") for h in headers), headers
        assert ws.column_dimensions["A"].width >= 7


def test_every_school_and_table_is_there(workbook, ctx):
    res = workbook["Результаты"]
    codes = [r[0].value for r in res.iter_rows(min_row=2)]
    assert codes == sorted(core_values.text(c) for c in ctx.data["scores.csv"]["school_code"])
    assert all(isinstance(c, str) for c in codes)  # leading zeros kept
    assert workbook["Рекомендации"].max_row - 1 == len(ctx.data["recommendations.csv"])
    assert workbook["Анализ мер"].max_row - 1 == len(ctx.data["followup.csv"])
    assert workbook["Замечания к данным"].max_row - 1 == len(ctx.data["issues.csv"])
    levels = {c.value for c in workbook["Целевые показатели"]["A"][1:]}
    assert levels == {"ОО", "муниципалитет"}


def test_numbers_are_numbers_with_formats(workbook):
    ws = workbook["Результаты"]
    header = [c.value for c in ws[1]]
    col = header.index("Итоговый балл")
    row = next(r for r in ws.iter_rows(min_row=2) if r[col].value is not None)
    assert isinstance(row[col].value, float) and row[col].number_format == "0.0"
    rank = row[header.index("Место в кластере")]
    assert isinstance(rank.value, int) and rank.number_format == "0"
    zone = row[header.index("Зона")]
    assert zone.value in ("зелёная", "жёлтая", "красная") and zone.fill.fgColor.rgb.endswith(excel.ZONE_FILLS[zone.value])


def test_nothing_from_a_form_becomes_a_formula(workbook):
    found = []
    for ws in workbook.worksheets:
        for c in cells(ws):
            assert c.data_type != "f", (ws.title, c.coordinate, c.value)
            if c.value == HOSTILE_FORMULA:
                found.append(c)
    assert found, "the hostile string is kept as text"
    assert all(c.data_type == "s" and c.quotePrefix for c in found)
    texts = {c.value for ws in workbook.worksheets for c in cells(ws)}
    assert any(isinstance(t, str) and HOSTILE_SCRIPT in t for t in texts)


def test_internal_workbook_keeps_personal_data(workbook):
    assert RESPONSIBLE in {c.value for c in cells(workbook["Сведения об ОО"])}


@pytest.mark.parametrize("value", ["=1+1", "+7", "-2", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\",\"y\")"])
def test_set_cell_never_writes_a_formula(tmp_path, value):
    wb = openpyxl.Workbook()
    excel.set_cell(wb.active["A1"], value)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    c = openpyxl.load_workbook(path).active["A1"]
    # a raw CR reads back as LF; with lxml openpyxl writes it as &#13; and it stays CR
    assert c.data_type == "s" and c.value in (value, value.replace("\r", "\n")) and c.quotePrefix


def test_control_characters_are_removed(tmp_path):
    wb = openpyxl.Workbook()
    excel.set_cell(wb.active["A1"], "Приказ\x00 № 1\x07\x1b")
    excel.set_cell(wb.active["A2"], True)
    excel.set_cell(wb.active["A3"], float("nan"))
    path = tmp_path / "t.xlsx"
    wb.save(path)
    ws = openpyxl.load_workbook(path).active
    assert ws["A1"].value == "Приказ № 1"
    assert ws["A2"].value == "да"
    assert ws["A3"].value is None


def test_bytes_are_reproducible(ctx):
    assert excel.workbook_bytes(ctx) == excel.workbook_bytes(ctx)


def test_saving_time_is_not_in_the_file(ctx, monkeypatch):
    """openpyxl stamps the time of saving into docProps/core.xml; the file must not carry it."""
    import datetime as dt
    import io
    import zipfile

    import openpyxl.writer.excel as writer

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=tz)

    first = excel.workbook_bytes(ctx)
    monkeypatch.setattr(writer.datetime, "datetime", Later)
    second = excel.workbook_bytes(ctx)
    assert first == second
    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml").decode()
    assert "2031" not in core and str(ctx.params.header.order_date) in core


# --------------------------------------------------------------------------------------------
# the streamed (write-only) sheets hold exactly what set_cell puts in a regular sheet
# --------------------------------------------------------------------------------------------

ODD_COLUMNS = [("code", "Код ОО", "text", 9), ("wide", "Текст", "text", 40), ("zone", "Зона", "text", 10),
               ("n", "Баллы", "int", 8), ("pct", "Выполнение, %", "pct", 11), ("score", "Балл", "score", 10)]
ODD_VALUES = [None, float("nan"), pd.NA, True, False, np.True_, np.int64(7), np.float64(2.345), 3, 4.75, 4.5, -0.0,
              "", " ", "  с пробелами ", "=1+1", "=", "+7", "-2", "@SUM(A1)", "\t=1", "\r=1", "#N/A", "#DIV/0!",
              "12,5", " 8 ", "abc", "1e3", "зелёная", "жёлтая", "красная", "Приказ\x00 № 1\x07\x1b",
              "строка\nвторая", "<b>&amp;</b>", pd.Timestamp("2026-03-01"), dt.date(2026, 3, 1), "0101", 0.1 + 0.2]


def _reference_sheet(ws, columns, df):
    """The rows as the regular-sheet writer wrote them before: set_cell per cell, then the
    alignment of wide text columns and the zone fill."""
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, rec in enumerate(df.to_dict("records"), start=2):
        for j, (name, _, kind, width) in enumerate(columns, start=1):
            cell = ws.cell(row=i, column=j)
            value = rec.get(name)
            excel.set_cell(cell, excel._as_number(value) if kind in excel.NUMERIC else value, kind)
            if kind == "text" and width >= 40:
                cell.alignment = wrap
            if name == "zone" and cell.value in excel.ZONE_FILLS:
                cell.fill = PatternFill("solid", fgColor=excel.ZONE_FILLS[cell.value])


def _described(path):
    ws = openpyxl.load_workbook(path).worksheets[0]
    return {c.coordinate: (c.value, type(c.value), c.data_type, c.number_format, c.quotePrefix, c.font.b,
                           c.fill.fill_type, c.fill.fgColor.rgb, c.alignment.wrap_text, c.alignment.vertical)
            for row in ws.iter_rows(min_row=2) for c in row}


@pytest.mark.parametrize("column_dtype", ["object", "typed"])
def test_streamed_cells_match_set_cell(tmp_path, column_dtype):
    frame = pd.DataFrame({name: ODD_VALUES for name, *_ in ODD_COLUMNS}, dtype=object)
    if column_dtype == "typed":  # what CSV reading gives: numeric and string columns
        frame = frame.assign(n=[1.0, None, 3.0] * 12 + [4.0, 5.0], pct=range(len(ODD_VALUES)),
                             score=np.linspace(0, 100, len(ODD_VALUES)), code=[f"{i:04d}" for i in range(len(ODD_VALUES))])
        frame["wide"] = frame["wide"].astype("str")
    frame = frame.drop(columns="score").assign(score=frame["score"])  # column order differs from the sheet's
    columns = ODD_COLUMNS + [("missing", "Нет в таблице", "text", 50)]

    wb = openpyxl.Workbook(write_only=True)
    excel._write_sheet(wb, "Лист", columns, frame)
    wb.save(tmp_path / "streamed.xlsx")
    ref = openpyxl.Workbook()
    _reference_sheet(ref.active, columns, frame)
    ref.save(tmp_path / "reference.xlsx")

    streamed, reference = _described(tmp_path / "streamed.xlsx"), _described(tmp_path / "reference.xlsx")
    assert streamed == reference
    # and the cases that matter are really there
    kinds = {(v[0], v[2], v[4]) for v in streamed.values()}
    assert ("=1+1", "s", True) in kinds and ("#N/A", "s", False) in kinds and ("да", "s", False) in kinds
    assert ("Приказ № 1", "s", False) in kinds
    assert any(v[1] is float and v[3] == "0.0" for v in streamed.values())
    assert any(v[1] is int and v[3] == "0" for v in streamed.values())
    if column_dtype == "object":
        assert any(v[0] == 12.5 and v[3] == "0.0" for v in streamed.values())  # "12,5" in a numeric column
    assert any(v[0] is None and v[8] for v in streamed.values())  # an empty wide cell keeps its wrap


def test_layout_as_read_back(workbook, ctx, tmp_path):
    shares = [(s.code, f"{s.code}, %", "pct", 8) for s in ctx.methodology.shares]
    for ws, (title, (_, columns)) in zip(workbook.worksheets, excel.SHEETS.items()):
        columns = columns + shares if title == "Результаты" else columns
        assert [c.value for c in ws[1]] == [c[1] for c in columns], title
        assert ws.row_dimensions[1].height == 32
        assert ws.auto_filter.ref == f"A1:{get_column_letter(len(columns))}{ws.max_row}", title
        for j, (name, header, kind, width) in enumerate(columns, start=1):
            letter = get_column_letter(j)
            assert ws.column_dimensions[letter].width == width, (title, header)
            head = ws[f"{letter}1"]
            assert head.font.b and head.font.color.rgb.endswith("FFFFFF") and head.fill.fgColor.rgb.endswith("1D4E89")
            assert head.alignment.wrap_text and head.alignment.vertical == "center"
            body = [r[0] for r in ws.iter_rows(min_row=2, min_col=j, max_col=j)]
            numbers = [c for c in body if isinstance(c.value, (int, float))]
            assert all(c.number_format == excel.FORMATS[kind] for c in numbers), (title, header)
            if kind == "text":
                assert not numbers, (title, header)
                assert all(bool(c.alignment.wrap_text) == (width >= 40) for c in body), (title, header)
    # a streamed sheet still states its size (readers in read-only mode rely on it)
    path = excel.write_results(ctx, tmp_path / "results.xlsx")
    ro = openpyxl.load_workbook(path, read_only=True)
    assert [ro[t].calculate_dimension() for t in ro.sheetnames] == [ws.auto_filter.ref for ws in workbook.worksheets]
    ro.close()


def test_results_written_in_background_equal_the_direct_write(tmp_path, ctx):
    """The forked writer produces the same bytes as write_results, and reports failures."""
    direct = excel.write_results(ctx, tmp_path / "direct.xlsx")
    job = excel.start_results(ctx, tmp_path / "background.xlsx")
    assert job.result() == tmp_path / "background.xlsx"
    assert (tmp_path / "background.xlsx").read_bytes() == direct.read_bytes()

    from pipeline.core.errors import PipelineError

    (tmp_path / "blocker").write_text("a file where a folder should be")
    failing = excel.start_results(ctx, tmp_path / "blocker" / "results.xlsx")
    with pytest.raises(PipelineError, match="не записана"):
        failing.result()


@pytest.mark.parametrize("column_dtype", ["float64", "object", "Float64"])
def test_infinite_and_missing_numbers_are_empty_cells(tmp_path, column_dtype):
    """inf, −inf and NaN in int-, float- and text-kind columns never crash the writer (Excel has
    no infinity): each is an empty cell, in the streamed sheet and through set_cell alike."""
    odd = [float("inf"), float("-inf"), float("nan"), np.float64("inf"), np.float64("-inf"), 7.0]
    columns = [("n", "Баллы", "int", 8), ("pct", "Выполнение, %", "pct", 11), ("score", "Балл", "score", 10),
               ("t", "Текст", "text", 12), ("w", "Широкий текст", "text", 40)]
    frame = pd.DataFrame({name: pd.array(odd, dtype=column_dtype) if column_dtype != "object" else pd.Series(odd, dtype=object)
                          for name, *_ in columns})
    frame["s"] = ["inf", "-inf", "Infinity", "nan", "1e999", "8"]
    columns.append(("s", "Число текстом", "int", 8))

    wb = openpyxl.Workbook(write_only=True)
    excel._write_sheet(wb, "Лист", columns, frame)
    wb.save(tmp_path / "streamed.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "streamed.xlsx").worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_col=len(columns))]
    assert [r[:3] for r in rows[:5]] == [[None, None, None]] * 5
    assert rows[5][:3] == [7, 7.0, 7.0] and type(rows[5][0]) is int
    assert all(r[3] is None and r[4] is None for r in rows[:5])
    assert [r[5] for r in rows] == [None, None, None, None, None, 8]

    ref = openpyxl.Workbook()
    for v in odd[:5]:
        for kind in ("int", "pct", "score", "text"):
            assert excel.cell_value(v, kind) == (None, None)
            excel.set_cell(ref.active["A1"], v, kind)
            assert ref.active["A1"].value is None
    ref.save(tmp_path / "reference.xlsx")
