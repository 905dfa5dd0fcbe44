"""results.xlsx: every sheet, Russian headers, frozen header row, filters, number formats;
nothing from a form becomes a formula; the bytes are reproducible."""

from __future__ import annotations

import openpyxl
import pytest

from pipeline import excel, report
from pipeline.params import load_params
from report_data import HOSTILE_FORMULA, HOSTILE_SCRIPT, RESPONSIBLE, write_history

SHEETS = ["Результаты", "Критерии", "Целевые показатели", "Рекомендации", "Решения", "Анализ мер",
          "Замечания к данным", "Файлы", "Сведения об ОО"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("excel")
    return report.build_context(load_params(write_history(folder, hostile=True), check_files=False))


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
    assert codes == sorted(report.text(c) for c in ctx.data["scores.csv"]["school_code"])
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
    assert c.data_type == "s" and c.value == value.replace("\r", "\n") and c.quotePrefix  # XML reads CR as LF


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
