"""Every CSV file the pipeline writes is safe to open in a spreadsheet: a text cell that starts
with `=`, `+`, `-`, `@`, a tab or a carriage return (or with the escape `'` itself) is written
with a leading apostrophe (pipeline/core/csvtext.py), and the pipeline's readers take exactly
one off, so every stage sees the values it wrote.

The LibreOffice tests open the files as a person would (soffice converts the CSV with its
default import, formulas evaluated) and look at what it made of every cell."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from formbuilder import form_bytes, good_values, raw_folder
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline import cli
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.core import csvtext
from pipeline.io.storage import read_table, to_csv_bytes, write_tables
from pipeline.stages import clean

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice")
NO_SOFFICE = "LibreOffice (soffice) не установлен: открытие CSV в электронной таблице не проверяется"

HOSTILE = ['=1+1', '+7 (999) 123-45-67', '-2', '@SUM(A1)', '=HYPERLINK("http://x","y")', '\t=1+1', '\r=1+1',
           "'=1+1", "'", "-", "+", "=", "@", "-1+1", "=2*3", "обычный текст", "0107"]


# --------------------------------------------------------------------------------------------
# the round trip: what a stage writes it reads back
# --------------------------------------------------------------------------------------------

LEADS = ["=", "+", "-", "@", "\t", "\r", "'", "''", "\n", " ", ",", '"']
TEXT = st.builds(lambda lead, rest: lead + rest, st.sampled_from(["", *LEADS]),
                 st.text(alphabet=st.sampled_from(list("ab1-=+@'\t\r\n,\" Ж.")), max_size=6))


@given(st.lists(st.tuples(st.one_of(st.none(), TEXT), TEXT), min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_any_text_written_by_the_pipeline_reads_back_unchanged(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("roundtrip")
    maybe = [a for a, _ in rows]
    always = [b for _, b in rows]
    df = pd.DataFrame({"school_code": ["0107"] * len(rows), "maybe": pd.array(maybe, dtype="string"),
                       "text": always, "n": np.arange(len(rows)) - 5})
    write_tables(folder, {"t.csv": df})
    back = read_table(folder, "t.csv")
    # read_table's own guesses (a column of number-like texts is read as numbers, "" as
    # missing) are what they were before the apostrophes: compare with the same table written
    # plain (every field quoted, so that a carriage return stays in its cell)
    plain = pd.read_csv(io.StringIO(df.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)),
                        dtype={"school_code": "string"}, keep_default_na=True, na_values=[""])
    pd.testing.assert_frame_equal(back, plain)
    # and the text itself is exactly what was written (clean's reader keeps every cell as text)
    texts = pd.read_csv(folder / "t.csv", dtype=str, keep_default_na=False, na_filter=False)
    texts = csvtext.unprotect_frame(texts)
    assert texts["text"].tolist() == always
    assert texts["maybe"].tolist() == ["" if v is None else v for v in maybe]


def test_hostile_texts_are_written_with_an_apostrophe_and_numbers_as_numbers(tmp_path):
    df = pd.DataFrame({"school_code": ["0107"] * len(HOSTILE), "text": HOSTILE,
                       "x": [-5.2] * len(HOSTILE), "k": [-3] * len(HOSTILE)})
    data = to_csv_bytes(df).decode("utf-8")
    assert "'=1+1," in data and "'+7 (999) 123-45-67," in data and "'-2," in data and "'@SUM(A1)," in data
    assert "''=1+1," in data and "\n0107,обычный текст,-5.2,-3\n" in data
    write_tables(tmp_path, {"t.csv": df})
    back = read_table(tmp_path, "t.csv")
    assert back["text"].tolist()[:len(HOSTILE) - 1] == HOSTILE[:-1]  # (0107 in a text column stays text)
    assert back["x"].tolist() == [-5.2] * len(HOSTILE) and back["k"].tolist() == [-3] * len(HOSTILE)


def test_number_like_texts_are_read_as_before(tmp_path):
    """A text column of number-like values, one of them negative: read_table reads it as
    numbers, as it did when the file held «-2» without the apostrophe."""
    write_tables(tmp_path, {"t.csv": pd.DataFrame({"a": ["1", "-2", None], "b": ["x", "y", "z"]})})
    back = read_table(tmp_path, "t.csv")
    assert back["a"].tolist()[:2] == [1.0, -2.0] and math.isnan(back["a"].iloc[2])


def test_forms_csv_reader_of_the_clean_stage_takes_the_apostrophe_off(tmp_path):
    forms = pd.DataFrame({"file": ["-a.xlsx", "=b.xlsx"], "row": [4, 5], "value": ["=1+1", "'x"],
                          "formula": ["=SUM(A1)", ""]})
    files = pd.DataFrame({"file": ["-a.xlsx", "=b.xlsx"], "size_bytes": [10, 20], "status": ["accepted", "rejected"]})
    write_tables(tmp_path, {"forms.csv": forms, "files.csv": files})
    f, fl = clean.read_inputs(tmp_path)
    assert f.to_dict("list") == forms.to_dict("list")
    assert fl.to_dict("list") == files.to_dict("list")


# --------------------------------------------------------------------------------------------
# opened in LibreOffice
# --------------------------------------------------------------------------------------------


def _opened_in_libreoffice(path: Path, out: Path) -> list[list[object]]:
    """The cells LibreOffice makes of a CSV file, opening it with its default import (formulas
    evaluated), saved as .xlsx and read by openpyxl: formulas as '=…' with data_type 'f'."""
    profile = out / "lo-profile"
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation={profile.as_uri()}", "--infilter=CSV:44,34,76,1",
                    "--convert-to", "xlsx", "--outdir", str(out / "lo"), str(path)],
                   check=True, capture_output=True, timeout=300)
    ws = load_workbook(out / "lo" / (path.stem + ".xlsx")).active
    formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == [], f"{path.name}: LibreOffice made formulas of {formulas}"
    return [[c.value for c in row] for row in ws.iter_rows()]


def _shown_as_text(shown: object, text: str) -> bool:
    """LibreOffice shows the text itself (the apostrophe taken as the text mark) or with the
    apostrophe: either way text, not a computed value. (A tab, CR is kept or dropped.)"""
    if not isinstance(shown, str):
        return False
    shown = shown[1:] if shown.startswith("'") else shown
    return shown.replace("\t", "").replace("\r", "").replace("\n", "") == text.replace("\t", "").replace("\r", "")


@pytest.mark.skipif(SOFFICE is None, reason=NO_SOFFICE)
def test_processed_csv_opened_in_libreoffice_runs_no_formula(tmp_path):
    df = pd.DataFrame({"school_code": ["0107"] * len(HOSTILE), "document": HOSTILE,
                       "pct": [-5.2] * len(HOSTILE), "points": [-3] * len(HOSTILE)})
    write_tables(tmp_path / "processed", {"checklist.csv": df})
    rows = _opened_in_libreoffice(tmp_path / "processed" / "checklist.csv", tmp_path)
    assert rows[0] == ["school_code", "document", "pct", "points"]
    for text, row in zip(HOSTILE, rows[1:]):
        if text == "0107":
            continue  # a number-like text is taken as a number: it is not a formula
        assert _shown_as_text(row[1], text), (text, row[1])
        assert row[2] == -5.2 and row[3] == -3  # numbers stay numbers


REGISTRY = ("Код ОО;Наименование ОО;Тип ОО;E-mail\n"
            '0107;"=HYPERLINK(""http://x"",""y"")";СОШ;s7@edu.ru\n'
            "0108;+7 (999) 123-45-67;СОШ;@SUM(A1)\n"
            "0201;-2;ООШ;=1+1\n")


@pytest.mark.skipif(SOFFICE is None, reason=NO_SOFFICE)
def test_status_and_reminders_opened_in_libreoffice_run_no_formula(tmp_path, make_params):
    m = load_methodology(ROOT / "methodology" / "default.yaml")
    files = {"0107.xlsx": form_bytes(m, good_values(m, "0107", info__filled_date=dt.date(2026, 4, 1))),
             "=1+1.xlsx": b"not a workbook", "-2.xlsx": b"not a workbook either"}
    raw = raw_folder(tmp_path / "raw", files, registry=REGISTRY)
    year = load_params(make_params(raw_dir=raw))
    assert cli.main(["status", "--params", str(year.source)]) == 0
    folder = Path(year.reports_dir) / "collection"
    status = csvtext.unprotect_frame(pd.read_csv(folder / "status.csv", dtype=str, keep_default_na=False))
    names = set(status["school_name"])
    assert {'=HYPERLINK("http://x","y")', "+7 (999) 123-45-67", "-2"} <= names
    assert {"=1+1.xlsx", "-2.xlsx"} <= set(status["file"])
    reminders = csvtext.unprotect_frame(pd.read_csv(folder / "reminders.csv", dtype=str, keep_default_na=False))
    assert set(reminders["school_code"]) >= {"0108", "0201"}
    # status.xlsx, the same table for people: every text a text, none a formula
    book = load_workbook(folder / "status.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert {'=HYPERLINK("http://x","y")', "+7 (999) 123-45-67", "-2", "=1+1.xlsx"} <= {c.value for c in cells}
    for name, target in (("status.csv", status), ("reminders.csv", reminders)):
        rows = _opened_in_libreoffice(folder / name, tmp_path / name)
        assert [str(c) for c in rows[0]] == list(target.columns)
        for shown_row, row in zip(rows[1:], target.itertuples(index=False)):
            for shown, text in zip(shown_row, row):
                if text[:1] in csvtext.TRIGGERS:
                    assert _shown_as_text(shown, text), (name, text, shown)


def test_prefilled_forms_hold_the_registry_texts_as_text(tmp_path, make_params):
    """A form prefilled from the registry (`python -m pipeline forms`) is opened by a school:
    a registry name «=HYPERLINK(…)» is a text cell there, not a formula, and is read back as
    the name."""
    from pipeline.form import reader as form_reader
    from pipeline.form import template as form_template

    m = load_methodology(ROOT / "methodology" / "default.yaml")
    raw = raw_folder(tmp_path / "raw", {}, registry=REGISTRY)
    params = load_params(make_params(raw_dir=raw))
    paths = form_template.write_template(params, tmp_path / "forms", prefilled=True)
    assert len(paths) == 4
    for path in paths[1:]:
        book = load_workbook(path)
        assert [c.coordinate for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"] == []
    names = {form_reader.read_form(p, m).text("info.school_name") for p in paths[1:]}
    assert names == {'=HYPERLINK("http://x","y")', "+7 (999) 123-45-67", "-2"}
