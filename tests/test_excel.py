"""results.xlsx: every sheet, a title row, Russian headers, frozen panes, filters, number
formats; every sheet protected (sorting and filtering allowed, the password of the params or
none) and set up to print (A4 landscape, one page wide, title rows and school columns repeated,
page numbers); nothing from a form becomes a formula; the bytes are reproducible. LibreOffice
prints it: the PDF's pages are checked and counted."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import textwrap

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

SHEETS = ["Результаты", "Критерии", "Целевые показатели", "Рекомендации", "Решения", "Дорожная карта", "Анализ мер",
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
        assert ws.freeze_panes == "A3", ws.title  # below the title and the header
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A2:"), ws.title
        headers = [c.value for c in ws[2]]
        assert all(isinstance(h, str) and h for h in headers), ws.title
        assert all(any("а" <= ch.lower() <= "я" or ch in "ё" for ch in h) or h == "SHA-256" or h.endswith(", %") for h in headers), headers
        assert ws.column_dimensions["A"].width >= 7


def test_every_school_and_table_is_there(workbook, ctx):
    res = workbook["Результаты"]
    codes = [r[0].value for r in res.iter_rows(min_row=3)]
    assert codes == sorted(core_values.text(c) for c in ctx.data["scores.csv"]["school_code"])
    assert all(isinstance(c, str) for c in codes)  # leading zeros kept
    assert workbook["Рекомендации"].max_row - 2 == len(ctx.data["recommendations.csv"])
    assert workbook["Анализ мер"].max_row - 2 == len(ctx.data["followup.csv"])
    assert workbook["Замечания к данным"].max_row - 2 == len(ctx.data["issues.csv"])
    levels = {c.value for c in workbook["Целевые показатели"]["A"][2:]}
    assert levels == {"ОО", "муниципалитет"}


def test_numbers_are_numbers_with_formats(workbook):
    ws = workbook["Результаты"]
    header = [c.value for c in ws[2]]
    col = header.index("Итоговый балл")
    row = next(r for r in ws.iter_rows(min_row=3) if r[col].value is not None)
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


def test_bytes_do_not_depend_on_the_process(tmp_path):
    """The same workbook from two processes with different string hashing: equal bytes (no
    order taken from a set)."""
    import hashlib
    import os
    import sys

    code = ("import datetime as dt, hashlib, pandas as pd; from pipeline.report import excel; "
            "f = pd.DataFrame({'a': ['x', '=1', 'зелёная'], 'n': [1.5, None, 3.0], 'z': ['красная', 'жёлтая', 'y']}); "
            "cols = (('a', 'Текст', 'text', 40), ('n', 'Балл', 'pct', 9), ('z', 'Зона', 'text', 10)); "
            "print(hashlib.sha256(excel.build_workbook([excel.SheetData('Лист', cols, f, 1)], 'Заголовок', None, "
            "dt.datetime(2026, 6, 15))).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(digests) == 1 and len(next(iter(digests)).strip()) == len(hashlib.sha256().hexdigest())


def test_saving_time_is_not_in_the_file(ctx, monkeypatch):
    """A writer stamps the time of saving into docProps/core.xml unless told a date; the file
    must not carry it, nor in its zip entries."""
    import datetime as dt
    import io
    import zipfile

    import xlsxwriter.core as core_part

    class AnyDatetime(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, dt.datetime)

    class Later(dt.datetime, metaclass=AnyDatetime):  # the clock moved on; dates stay dates
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=tz)

    first = excel.workbook_bytes(ctx)
    monkeypatch.setattr(core_part, "datetime", Later)
    second = excel.workbook_bytes(ctx)
    assert first == second
    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml").decode()
    assert "2031" not in core and str(ctx.params.header.order_date) in core
    dates = {i.date_time for i in zipfile.ZipFile(io.BytesIO(first)).infolist()}
    assert dates == {ctx.params.header.order_date.timetuple()[:3] + (0, 0, 0)}


# --------------------------------------------------------------------------------------------
# the rows made as XML hold exactly what set_cell puts in an openpyxl sheet
# --------------------------------------------------------------------------------------------

ODD_COLUMNS = [("code", "Код ОО", "text", 9), ("wide", "Текст", "text", 40), ("zone", "Зона", "text", 10),
               ("n", "Баллы", "int", 8), ("pct", "Выполнение, %", "pct", 11), ("score", "Балл", "score", 10)]
ODD_VALUES = [None, float("nan"), pd.NA, True, False, np.True_, np.int64(7), np.float64(2.345), 3, 4.75, 4.5, -0.0,
              "", " ", "  с пробелами ", "=1+1", "=", "+7", "-2", "@SUM(A1)", "\t=1", "\r=1", "#N/A", "#DIV/0!",
              "12,5", " 8 ", "abc", "1e3", "зелёная", "жёлтая", "красная", "Приказ\x00 № 1\x07\x1b",
              "строка\nвторая", "<b>&amp;</b>", pd.Timestamp("2026-03-01"), dt.date(2026, 3, 1), "0101", 0.1 + 0.2]
STAMP = dt.datetime(2026, 6, 15)


def _write(path, columns, frame, password=None):
    path.write_bytes(excel.build_workbook([excel.SheetData("Лист", tuple(columns), frame)], "Заголовок", password, STAMP))
    return path


def _reference_sheet(ws, columns, df):
    """The rows as the openpyxl writer wrote them before, from row 3: set_cell per cell, then
    the alignment of wide text columns and the zone fill."""
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, rec in enumerate(df.to_dict("records"), start=3):
        for j, (name, _, kind, width) in enumerate(columns, start=1):
            cell = ws.cell(row=i, column=j)
            value = rec.get(name)
            excel.set_cell(cell, excel._as_number(value) if kind in excel.NUMERIC else value, kind)
            if kind == "text" and width >= 40:
                cell.alignment = wrap
            if name == "zone" and cell.value in excel.ZONE_FILLS:
                cell.fill = PatternFill("solid", fgColor=excel.ZONE_FILLS[cell.value])


def _described(path):
    """Every cell below the header as a person sees it (an empty cell's type is no matter)."""
    ws = openpyxl.load_workbook(path).worksheets[0]
    # openpyxl writes a carriage return raw with the standard library's XML writer (the package
    # keeps it, OPENPYXL_LXML=False) and XML reading turns it into a line feed, where the streamed
    # writer keeps it as &#13;: the two are compared with CR read as LF
    def value(v):
        return v.replace("\r", "\n") if isinstance(v, str) else v

    return {c.coordinate: (value(c.value), type(c.value), c.data_type if c.value is not None else None, c.number_format,
                           c.quotePrefix, c.font.b, c.fill.fill_type, str(c.fill.fgColor.rgb)[-6:], c.alignment.wrap_text,
                           c.alignment.vertical)
            for row in ws.iter_rows(min_row=3) for c in row}


@pytest.mark.parametrize("column_dtype", ["object", "typed"])
def test_rows_match_set_cell(tmp_path, column_dtype):
    frame = pd.DataFrame({name: ODD_VALUES for name, *_ in ODD_COLUMNS}, dtype=object)
    if column_dtype == "typed":  # what CSV reading gives: numeric and string columns
        frame = frame.assign(n=[1.0, None, 3.0] * 12 + [4.0, 5.0], pct=range(len(ODD_VALUES)),
                             score=np.linspace(0, 100, len(ODD_VALUES)), code=[f"{i:04d}" for i in range(len(ODD_VALUES))])
        frame["wide"] = frame["wide"].astype("str")
    frame = frame.drop(columns="score").assign(score=frame["score"])  # column order differs from the sheet's
    columns = ODD_COLUMNS + [("missing", "Нет в таблице", "text", 50)]

    _write(tmp_path / "streamed.xlsx", columns, frame)
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


def widths(ws):
    """Column letter → width as written (a <col> may cover several columns)."""
    out = {}
    for dim in ws.column_dimensions.values():
        if dim.min and dim.width:
            for j in range(dim.min, dim.max + 1):
                out[get_column_letter(j)] = dim.width
    return out


def test_layout_as_read_back(workbook, ctx, tmp_path):
    for ws, sheet in zip(workbook.worksheets, excel.SHEETS):
        columns = excel.sheet_columns(sheet, ctx)
        assert ws.title == sheet.name
        assert [c.value for c in ws[2]] == [c[1] for c in columns], sheet.name
        assert ws.auto_filter.ref == f"A2:{get_column_letter(len(columns))}{ws.max_row}", sheet.name
        assert ws.row_dimensions[2].height >= 32
        width = widths(ws)
        for j, (name, header, kind, declared) in enumerate(columns, start=1):
            letter = get_column_letter(j)
            # the declared width kept, widened where the header's longest word would not fit
            assert width[letter] >= declared, (sheet.name, header)
            assert width[letter] >= max(len(w) for w in header.split()) + 2, (sheet.name, header)
            head = ws[f"{letter}2"]
            assert head.font.b and head.font.color.rgb.endswith("FFFFFF") and head.fill.fgColor.rgb.endswith("1D4E89")
            assert head.alignment.wrap_text and head.alignment.vertical == "center"
            body = [r[0] for r in ws.iter_rows(min_row=3, min_col=j, max_col=j)]
            numbers = [c for c in body if isinstance(c.value, (int, float))]
            assert all(c.number_format == excel.FORMATS[kind] for c in numbers), (sheet.name, header)
            if kind == "text":
                assert not numbers, (sheet.name, header)
                assert all(bool(c.alignment.wrap_text) == (declared >= 40) for c in body), (sheet.name, header)
        # header rows tall enough for the header wrapped at its width (15 points a line)
        lines = max(len(textwrap.wrap(h, int(width[get_column_letter(j)]) - 2, break_long_words=False))
                    for j, (_, h, _, _) in enumerate(columns, start=1))
        assert ws.row_dimensions[2].height >= 15 * lines, sheet.name
    # percentages and scores with one decimal, counts whole, as before
    res = workbook["Результаты"]
    formats = {c.value: res.cell(row=3, column=c.column).number_format for c in res[2]}
    assert formats["Самооценка, %"] == formats["Итоговый балл"] == "0.0" and formats["Место в кластере"] == "0"
    # each sheet states its size (readers in read-only mode rely on it)
    path = excel.write_results(ctx, tmp_path / "results.xlsx")
    ro = openpyxl.load_workbook(path, read_only=True)
    assert [ro[t].calculate_dimension() for t in ro.sheetnames] == [
        "A1:" + ws.auto_filter.ref.split(":")[1] for ws in workbook.worksheets]
    ro.close()


def test_every_sheet_is_protected_with_sorting_and_filtering_allowed(workbook):
    for ws in workbook.worksheets:
        p = ws.protection
        assert p.sheet, ws.title
        # in the file a flag set means «not allowed»: sorting, filtering, selecting are allowed
        assert not p.sort and not p.autoFilter, ws.title
        assert not p.selectLockedCells and not p.selectUnlockedCells, ws.title
        assert p.formatCells and p.insertRows and p.deleteRows, ws.title  # nothing else
        assert p.password is None, ws.title  # none in the params
        cell = ws.cell(row=3, column=1)
        assert cell.protection.locked, ws.title


def test_password_from_the_params(ctx, tmp_path):
    """report.results_password locks every sheet with that password (its hash is in the file);
    without it there is none; the parameter is validated."""
    from dataclasses import replace

    from pipeline.config.params import YearParams
    from pipeline.core.errors import ParamsError
    from pydantic import ValidationError

    report = ctx.params.report.model_copy(update={"results_password": "Секрет-2026"})
    locked = replace(ctx, params=ctx.params.model_copy(update={"report": report}), cache={})
    wb = openpyxl.load_workbook(excel.write_results(locked, tmp_path / "locked.xlsx"))
    hashes = {ws.protection.password for ws in wb.worksheets}
    assert len(hashes) == 1 and None not in hashes and "Секрет-2026" not in hashes  # a hash, not the word
    with pytest.raises((ValidationError, ParamsError)):
        YearParams.model_validate({**ctx.params.model_dump(), "report": {"results_password": ""}})


def test_print_setup(workbook, ctx):
    """A4 landscape, one page wide and as many long as needed, title and header rows on every
    page, the school columns too where a sheet is wider than a page, page numbers below."""
    for ws, sheet in zip(workbook.worksheets, excel.SHEETS):
        ps = ws.page_setup
        assert int(ps.paperSize) == 9 and ps.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (ps.fitToWidth or 1) == 1 and ps.fitToHeight == 0, ws.title  # 1 is the default, not written
        assert ws.print_title_rows == "$1:$2", ws.title
        columns = excel.sheet_columns(sheet, ctx)
        wide = sum(excel.column_width(h, w) for _, h, _, w in columns) > excel.PAGE_WIDTH_CHARS
        if sheet.school_columns and wide:
            last = get_column_letter(sheet.school_columns)
            assert ws.print_title_cols == f"$A:${last}", ws.title
            assert "Код ОО" in [c.value for c in ws[2]][:sheet.school_columns] or sheet.name == "Файлы"
        else:
            assert ws.print_title_cols is None, ws.title
        assert ws.oddFooter.center.text == "Страница &P из &N", ws.title
    assert workbook["Рекомендации"].print_title_cols == "$A:$C"  # wide: code and name repeated


def test_title_row_names_the_report_and_the_order(workbook, ctx):
    hd = ctx.params.header
    for ws in workbook.worksheets:
        title = ws["A1"].value
        assert hd.title in title and hd.order_number in title and hd.order_date.strftime("%d.%m.%Y") in title
        assert ws.title and f"A1:{get_column_letter(ws.max_column)}1" in {str(r) for r in ws.merged_cells.ranges}
        assert ws["A1"].font.b and ws["A1"].alignment.wrap_text


SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен: печать results.xlsx не проверяется")
def test_libreoffice_prints_it(ctx, tmp_path):
    """results.xlsx converted to PDF by LibreOffice: few pages (each sheet one page wide), the
    title on every page, and on every page of the sheets that hold schools the school names
    (the header rows repeat; no page is a stray column strip without them)."""
    from pypdf import PdfReader

    path = excel.write_results(ctx, tmp_path / "results.xlsx")
    profile = tmp_path / "profile"
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=300)
    pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(tmp_path / "results.pdf").pages]
    rows = sum(len(t) for t in excel.results_tables(ctx).values())
    print(f"results.xlsx of {rows} rows prints on {len(pages)} pages")
    assert 9 <= len(pages) <= 9 + rows // 15, len(pages)  # each sheet a page at least, then 15 rows a page or more
    hd = ctx.params.header
    names = set(ctx.data["profile.csv"]["school_name"].dropna().astype(str))
    first_words = " ".join(hd.title.split()[:4])
    with_schools = 0
    for i, text in enumerate(pages, start=1):
        assert first_words in text and hd.order_number in text, f"page {i}: no title"
        assert f"Страница {i} из" in text or "Страница" in text, f"page {i}: no page number"
        if "Наименование ОО" in text:
            with_schools += 1
            assert any(n in text for n in names), f"page {i}: no school named"
    assert with_schools >= 5


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

    ws = openpyxl.load_workbook(_write(tmp_path / "streamed.xlsx", columns, frame)).worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_col=len(columns))]
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
