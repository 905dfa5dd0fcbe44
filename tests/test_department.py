"""The department's own workbook (department.xlsx): template, reading and checks, the target
kinds that use it (rmo_meetings, network, visited), and a year without it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

import formbuilder
from conftest import DEFAULT_METHODOLOGY, write_params
from pipeline import cli
from pipeline.config import targets as target_kinds
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.core.errors import MethodologyError
from pipeline.form.department import DEPARTMENT_FILE
from pipeline.io import storage
from pipeline.report import context as report_context
from pipeline.core.contract import OUTPUTS, columns
from pipeline.report.sections.analysis import targets_html
from pipeline.stages import clean, ingest
from pipeline.stages import score as scoring

M = load_methodology(DEFAULT_METHODOLOGY)
NO_DATA = "данные управления образования (department.xlsx) не представлены"


def _blank(tmp_path: Path) -> Path:
    """The blank department.xlsx written by the command line."""
    params = write_params(tmp_path)
    assert cli.main(["template", "--municipal", "--params", str(params), "--out", str(tmp_path / "out")]) == 0
    return tmp_path / "out" / DEPARTMENT_FILE


def _filled(path: Path, rmo: dict[int, list], network: list[list], visits: list[list]) -> bytes:
    """The blank workbook filled with openpyxl: «РМО» rows (by index of direction) from
    column B, «Сетевые формы» and «Выезды» rows from the first answer row."""
    wb = load_workbook(path)
    for i, values in rmo.items():
        for j, v in enumerate(values, start=2):
            wb["РМО"].cell(row=4 + i, column=j, value=v)
    for name, rows in (("Сетевые формы", network), ("Выезды", visits)):
        for i, values in enumerate(rows):
            for j, v in enumerate(values, start=1):
                wb[name].cell(row=4 + i, column=j, value=v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _read(tmp_path: Path, data: bytes | None) -> dict[str, pd.DataFrame]:
    """ingest and clean on a raw folder holding this department.xlsx (and one school form)."""
    return formbuilder.ingest_and_clean(tmp_path, M, {} if data is None else {DEPARTMENT_FILE: data}, write_params)


def test_blank_template_is_protected_with_directions_and_drop_downs(tmp_path):
    wb = load_workbook(_blank(tmp_path))
    assert wb.sheetnames == ["РМО", "Сетевые формы", "Выезды"]
    assert all(wb[s].protection.sheet for s in wb.sheetnames) and wb.security.lockStructure
    rmo = wb["РМО"]
    assert [rmo.cell(row=3, column=c).value for c in range(1, 6)] == [
        "Направление", "Заседаний проведено", "ОО участвовало", "ДОУ участвовало", "УДО участвовало"]
    assert [rmo.cell(row=4 + i, column=1).value for i in range(23)] == M.department.rmo_directions
    lists = [dv.formula1 for dv in wb["Сетевые формы"].data_validations.dataValidation]
    assert '"тьюторское сообщество,стажировочная площадка"' in lists and '"да,нет"' in lists
    assert any(dv.type == "whole" for dv in rmo.data_validations.dataValidation)


def test_template_round_trip(tmp_path):
    data = _filled(_blank(tmp_path), {0: [4, 30, 2, 1], 1: [2, 12, 0, 0]},
                   [["тьюторское сообщество", "Математика", "да"], ["стажировочная площадка", "Площадка № 1", "нет"]],
                   [["0107", dt.date(2025, 10, 3), "консультация"], ["0201", "15.11.2025", "семинар"]])
    t = _read(tmp_path, data)
    assert (t["files.csv"].set_index("file").loc[DEPARTMENT_FILE, "status"]) == "department"
    rmo = t["department_rmo.csv"]
    assert len(rmo) == 23 and rmo["direction"].tolist() == M.department.rmo_directions
    assert rmo.iloc[0][["meetings", "schools", "preschools", "additional"]].tolist() == [4, 30, 2, 1]
    assert rmo.iloc[1]["meetings"] == 2 and rmo["meetings"].iloc[2:].isna().all()
    net = t["department_network.csv"]
    assert net.to_dict("records") == [{"form": "tutor_community", "name": "Математика", "working": True},
                                      {"form": "internship_site", "name": "Площадка № 1", "working": False}]
    assert t["department_visits.csv"].to_dict("records") == [
        {"school_code": "0107", "date": "2025-10-03", "support": "консультация"},
        {"school_code": "0201", "date": "2025-11-15", "support": "семинар"}]
    assert t["files.csv"].loc[t["files.csv"]["status"] == "accepted", "file"].tolist() == ["0107.xlsx"]


def test_problems_are_issues_with_sheet_and_cell(tmp_path):
    data = _filled(_blank(tmp_path), {0: [2.5, -1, "много", 0]},
                   [["кружок", "Что-то", "да"], ["тьюторское сообщество", "Физика", "может быть"]],
                   [["9999", "01.10.2025", "выезд"], ["0107", "32.13.2025", "выезд"]])
    issues = _read(tmp_path, data)["issues.csv"]
    got = {(r.sheet, r.cell, r.rule) for r in issues[issues["file"] == DEPARTMENT_FILE].itertuples()}
    assert got == {
        ("РМО", "B4", "value.not_integer"), ("РМО", "C4", "value.negative"), ("РМО", "D4", "value.not_a_number"),
        ("Сетевые формы", "A4", "department.bad_choice"), ("Сетевые формы", "C5", "department.bad_yesno"),
        ("Выезды", "A4", "department.unknown_school"), ("Выезды", "B5", "department.bad_date"),
    } | {("РМО", f"B{r}", "department.missing") for r in range(5, 27)}


def test_without_the_workbook_the_tables_are_empty_with_their_columns(tmp_path):
    t = _read(tmp_path, None)
    for name in scoring.DEPARTMENT_TABLES:
        assert t[name].empty and tuple(t[name].columns) == columns("clean", name)


def _department(meetings: list, network: list[tuple[str, bool]], visits: list[str]) -> target_kinds.Department:
    rmo = pd.DataFrame({"direction": [f"d{i}" for i in range(len(meetings))], "meetings": pd.array(meetings, dtype="Int64")})
    net = pd.DataFrame({"form": [f for f, _ in network], "name": "x", "working": pd.array([w for _, w in network], dtype="boolean")})
    return target_kinds.Department(rmo, net, pd.DataFrame({"school_code": visits, "date": "", "support": ""}), True)


def test_kinds_values_on_a_small_department_table():
    d = _department([4, 5, 3, None], [("tutor_community", True)] * 9 + [("tutor_community", False), ("internship_site", True)], ["0107"])
    rmo = target_kinds.KINDS["rmo_meetings"]
    assert rmo.municipal(target_kinds.RmoSpec(kind="rmo_meetings"), M, None, None, 4.0, department=d) == (2, 4, 100.0)
    net = target_kinds.KINDS["network"]
    assert net.municipal(target_kinds.NetworkSpec(kind="network", form="tutor_community"), M, None, None, 12.0, department=d) == (9, 12, 100.0)
    assert net.municipal(target_kinds.NetworkSpec(kind="network", form="internship_site"), M, None, None, 8.0, department=d) == (1, 8, 100.0)
    profile = pd.DataFrame({"school_code": ["0107", "0108", "0201"], "low_results": [True, True, False]})
    visited = target_kinds.KINDS["visited"]
    assert visited.municipal(target_kinds.VisitedSpec(kind="visited", among="low_results"), M, profile, None, 100.0,
                             department=d) == (1, 2, 100.0)


def test_municipal_rows_with_and_without_the_department():
    profile = pd.DataFrame({"school_code": ["0107"], "submitted": [True]})
    m = M.model_copy(update={"targets": [t for t in M.targets if t.code in ("T5", "T6.1", "T6.2")]})
    params = load_params(DEFAULT_METHODOLOGY.parents[1] / "params" / "2026.yaml", check_files=False)
    staff = pd.DataFrame({"school_code": ["0107"]})
    d = _department([4, 4, 2], [("tutor_community", True)] * 12 + [("internship_site", True)] * 7, [])
    tm = scoring.municipal_targets(profile, staff, m, params, d).set_index("target")
    assert tm.loc["T5", ["numerator", "denominator"]].tolist() == [2, 3] and not tm.loc["T5", "met"]
    assert bool(tm.loc["T6.1", "met"]) and not tm.loc["T6.2", "met"] and tm.loc["T6.1", "school_threshold"] == 12
    none = scoring.municipal_targets(profile, staff, m, params, None)
    assert none["met"].isna().all() and none["note"].str.contains(NO_DATA, regex=False).all()


def test_a_department_kind_refuses_school_scope(tmp_path):
    data = yaml.safe_load(DEFAULT_METHODOLOGY.read_text(encoding="utf-8"))
    t5 = next(t for t in data["targets"] if t["code"] == "T5")
    t5["scope"] = ["school", "municipal"]
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(MethodologyError, match="T5"):
        load_methodology(path)


def test_a_year_without_the_workbook_shows_no_data_with_the_reason(tmp_path):
    files = {"0107.xlsx": formbuilder.form_bytes(M, formbuilder.good_values(M, "0107"))}
    raw = formbuilder.raw_folder(tmp_path / "raw", files)
    pfile = write_params(tmp_path, raw_dir=raw)
    params = load_params(pfile)
    out = params.processed_dir
    storage.write_tables(out, ingest.run(ingest.load_raw(params), M, params))
    forms_long, files_df = clean.read_inputs(out)
    storage.write_tables(out, clean.run(forms_long, files_df, ingest.registry_of(ingest.load_raw(params)), M, params))
    read = lambda name: storage.read_table(out, name)  # noqa: E731
    department = scoring.department_of(read("files.csv"), *(read(n) for n in scoring.DEPARTMENT_TABLES))
    assert not department.present
    tables = scoring.run(read("checklist.csv"), read("staff.csv"), read("profile.csv"), M, params, department)
    storage.write_tables(out, tables)
    for name, cols in OUTPUTS["recommendations"].items():
        pd.DataFrame(columns=list(cols)).to_csv(out / name, index=False)
    html = str(targets_html(report_context.build_context(load_params(pfile, check_files=False), M)))
    assert NO_DATA in html and "нет данных" in html
