"""`python -m pipeline status`: the collection state of every registry school, reminders and
feedback letters, written to <reports_dir>/collection/ (never published, processed/ untouched)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from formbuilder import form_bytes, good_values, raw_folder

from pipeline import cli
from pipeline.config.params import load_params
from pipeline.core.contract import COLLECTION_STATES
from pipeline.report import site

REGISTRY = ("Код ОО;Наименование ОО;Тип ОО;E-mail\n0107;МБОУ СОШ № 7;СОШ;s7@edu.ru\n0108;МБОУ СОШ № 8;СОШ;s8@edu.ru\n"
            "0201;МКОУ ООШ с. Ивановка;ООШ;oosh@edu.ru\n0202;МКОУ ООШ № 2;ООШ;o2@edu.ru\n")


@pytest.fixture
def year(tmp_path, make_params, methodology):
    m = methodology
    files = {
        "0107.xlsx": form_bytes(m, good_values(m, "0107", info__filled_date=dt.date(2026, 4, 1))),
        "0108.xlsx": form_bytes(m, good_values(m, "0108", staff__P0="сорок", info__filled_date=dt.date(2026, 5, 20))),
        "0201_old.xlsx": form_bytes(m, good_values(m, "0201", info__filled_date=dt.date(2026, 3, 1))),
        "0201_new.xlsx": form_bytes(m, good_values(m, "0201", info__filled_date=dt.date(2026, 4, 2))),
        "0202.xlsx": form_bytes(m, good_values(m, "0202"))[:500],
    }
    raw = raw_folder(tmp_path / "raw", files, registry=REGISTRY)
    return load_params(make_params(raw_dir=raw, collection={"deadline": "2026-05-15"}))


def test_status_of_every_school_with_reminders_and_letters(year, capsys):
    assert cli.main(["status", "--params", str(year.source)]) == 0
    out = capsys.readouterr().out
    folder = Path(year.reports_dir) / "collection"
    status = pd.read_csv(folder / "status.csv", dtype=str, keep_default_na=False)
    by = {(r.school_code, r.file): r for r in status.itertuples()}
    assert by[("0107", "0107.xlsx")].status == COLLECTION_STATES["accepted"]
    assert by[("0107", "0107.xlsx")].late == "нет"
    assert by[("0108", "0108.xlsx")].status.startswith(COLLECTION_STATES["accepted_with_issues"] + " (")
    assert by[("0108", "0108.xlsx")].late == "да"
    assert by[("0201", "0201_old.xlsx")].state == "superseded"
    assert by[("0201", "0201_new.xlsx")].state in ("accepted", "accepted_with_issues")
    assert by[("0202", "")].status == COLLECTION_STATES["missing"]
    assert by[("", "0202.xlsx")].state == "rejected" and "повреждён" in by[("", "0202.xlsx")].status
    assert "0108" in out and "принята с замечаниями" in out
    reminders = pd.read_csv(folder / "reminders.csv", dtype=str, keep_default_na=False).set_index("school_code")
    assert sorted(reminders.index) == ["0108", "0201", "0202"]  # 0201: its type differs from the registry
    assert reminders.loc["0202", "email"] == "o2@edu.ru" and "не получена" in reminders.loc["0202", "missing"]
    letter = (folder / "feedback" / "0108.txt").read_text(encoding="utf-8")
    assert "Лист «Кадры», ячейка C4" in letter and "«сорок»" in letter and "Что сделать: Укажите целое число" in letter
    assert "15 мая 2026" in letter
    assert sorted(p.name for p in (folder / "feedback").iterdir()) == ["0108.txt", "0201.txt"]
    assert (folder / "status.xlsx").is_file()
    assert not Path(year.processed_dir).exists()


def test_collection_folder_is_never_published(year, tmp_path):
    cli.main(["status", "--params", str(year.source)])
    reports = Path(year.reports_dir)
    (reports / "index.html").write_text("<html></html>", encoding="utf-8")
    listed = [p.as_posix() for p in site.publishable_files(reports.parent)]
    assert listed and not [p for p in listed if "collection" in p]


def test_forms_prefilled_and_locked_per_registry_school(year, methodology):
    """`forms`: the blank template, one form per registry school named by its code with code,
    name, type and year filled in and locked, and forms.zip of them."""
    import zipfile

    from openpyxl import load_workbook

    from pipeline.form import reader

    assert cli.main(["forms", "--params", str(year.source)]) == 0
    out = Path(year.reports_dir) / "collection" / "forms"
    names = sorted(p.name for p in out.iterdir())
    codes = ["0107", "0108", "0201", "0202"]
    assert names == sorted([f"form_2025-2026_{c}.xlsx" for c in codes] + ["form_2025-2026.xlsx", "forms.zip"])
    with zipfile.ZipFile(out / "forms.zip") as zf:
        assert sorted(zf.namelist()) == [f"form_2025-2026_{c}.xlsx" for c in codes]
    form = reader.read_form(out / "form_2025-2026_0201.xlsx", methodology)
    assert (form.text("info.school_code"), form.text("info.school_type")) == ("0201", "ООШ")
    ws = load_workbook(out / "form_2025-2026_0201.xlsx")["Сведения"]
    code_cell = form.get("info.school_code").cell
    pupils_cell = form.get("info.pupils").cell
    assert ws[code_cell].protection.locked and not ws[pupils_cell].protection.locked
    assert ws.protection.sheet
