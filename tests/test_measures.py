"""The record of the roadmap's measures: measures.xlsx as the report stage writes it (protected,
input cells open, drop-down), read back from next year's raw folder (problems are issues with
sheet and cell), measures.csv with a status for each of last year's measures, and — on the
sample — the cycle closed: statuses as planted, the follow-up naming a measure not done and
comparing visited schools, and the statement when no record was submitted."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup
from openpyxl import load_workbook

import formbuilder
from conftest import DEFAULT_METHODOLOGY, ROOT, write_params
from pipeline import cli, sample
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.core.contract import MEASURE_STATUSES, OUTPUTS, columns
from pipeline.form.measures import COLUMNS, INPUTS, MEASURES_FILE
from pipeline.io.storage import read_table
from pipeline.report.measures_form import measures_bytes
from pipeline.stages import clean, ingest
from pipeline.stages.measures import build_measures, unknown_ids

M = load_methodology(DEFAULT_METHODOLOGY)
DONE, NOT_DONE, NO_RECORD = MEASURE_STATUSES
COL = {key: j for j, (key, _) in enumerate(COLUMNS, start=1)}


def _roadmap() -> pd.DataFrame:
    """A small roadmap of the 2025 review (school year 2025-2026) on formbuilder's registry."""
    rows = [("seminar:K1", "seminar", "Семинар К1", "2025-10", "октябрь 2025", "", "0107;0108"),
            ("visit:0107", "visit", "Выезд в 0107", "2025-09", "сентябрь 2025", "0107", "0107"),
            ("visit:0201", "visit", "Выезд в 0201", "2025-09", "сентябрь 2025", "0201", "0201"),
            ("measure:T5", "measure", "График РМО", "2026-02", "февраль 2026", "", "")]
    df = pd.DataFrame([{"decision_id": i, "number": n, "kind": k, "title": t, "due_month": dm, "due": d,
                        "indicator": "проведено", "executors": "РМО", "school_code": s, "indicator_code": i.split(":")[1],
                        "schools": sc} for n, (i, k, t, dm, d, s, sc) in enumerate(rows, start=1)])
    return df


def _params(tmp_path: Path, year: int = 2025):
    return load_params(write_params(tmp_path / f"p{year}", year))


def _filled(tmp_path: Path, cells: dict[tuple[int, str], object]) -> bytes:
    """measures.xlsx of _roadmap() with cells[(row index, column key)] written."""
    wb = load_workbook(io.BytesIO(measures_bytes(_roadmap(), _params(tmp_path))))
    ws = wb.active
    for (i, key), v in cells.items():
        ws.cell(row=4 + i, column=COL[key], value=v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _read(tmp_path: Path, data: bytes | None) -> dict[str, pd.DataFrame]:
    """ingest and clean of a 2026 raw folder holding this measures.xlsx (and one school form)."""
    return formbuilder.ingest_and_clean(tmp_path, M, {} if data is None else {MEASURES_FILE: data},
                                       lambda folder, **kw: write_params(folder, 2026, **kw))


def test_written_form_is_protected_with_open_input_cells(tmp_path):
    wb = load_workbook(io.BytesIO(measures_bytes(_roadmap(), _params(tmp_path))))
    ws = wb.active
    assert ws.title == "Меры" and ws.protection.sheet and wb.security.lockStructure
    assert [ws.cell(row=3, column=j).value for j in range(1, len(COLUMNS) + 1)] == [h for _, h in COLUMNS]
    assert [ws.cell(row=4 + i, column=1).value for i in range(4)] == _roadmap()["decision_id"].tolist()
    assert ws.cell(row=7, column=1).value == "measure:T5" and ws.cell(row=8, column=1).value is None
    for key, j in COL.items():
        assert ws.cell(row=4, column=j).protection.locked is (key not in INPUTS), key
    lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert lists['"да,нет"'] == "F4 F5 F6 F7"
    assert "2025-2026" in ws["A1"].value and "01.07.2025" in ws["A2"].value and "30.06.2026" in ws["A2"].value


def test_round_trip_into_measures_reported(tmp_path):
    data = _filled(tmp_path, {(0, "done"): "да", (0, "date"): dt.date(2025, 10, 14), (0, "document"): "Протокол № 1",
                              (0, "participants"): "0107; 108", (1, "done"): "нет"})
    t = _read(tmp_path, data)
    assert t["files.csv"].set_index("file").loc[MEASURES_FILE, "status"] == "measures"
    got = t["measures_reported.csv"]
    assert tuple(got.columns[:5]) == columns("clean", "measures_reported.csv")
    assert got[["decision_id", "done", "date", "document", "participants"]].astype(object).to_dict("records") == [
        {"decision_id": "seminar:K1", "done": True, "date": "2025-10-14", "document": "Протокол № 1",
         "participants": "0107;0108"},
        {"decision_id": "visit:0107", "done": False, "date": "", "document": "", "participants": ""}]
    assert t["issues.csv"][t["issues.csv"]["file"] == MEASURES_FILE].empty
    # the school form is still the school's; the record is not a form
    assert t["files.csv"].loc[t["files.csv"]["status"] == "accepted", "file"].tolist() == ["0107.xlsx"]


def test_problems_are_issues_with_sheet_and_cell(tmp_path):
    data = _filled(tmp_path, {
        (0, "done"): "выполн.", (0, "participants"): "0107;9999",          # F4 misspelt, I4 unknown school
        (1, "done"): "да", (1, "date"): "32.13.2025",                       # G5 not a date
        (2, "done"): "да", (2, "date"): dt.date(2024, 5, 1),                # G6 outside the school year
        (3, "decision_id"): "request:0107", (3, "done"): "да",              # A7 not a roadmap id
        (4, "decision_id"): "visit:0107", (4, "done"): "нет",               # A8 the same measure again
        (5, "decision_id"): "visit:0201", (5, "date"): dt.date(2025, 11, 2),  # A9 the same measure again
    })
    t = _read(tmp_path, data)
    issues = t["issues.csv"][t["issues.csv"]["file"] == MEASURES_FILE]
    got = {(r.sheet, r.cell, r.rule) for r in issues.itertuples()}
    assert got == {("Меры", "F4", "measures.bad_yesno"), ("Меры", "I4", "measures.unknown_participant"),
                   ("Меры", "G5", "measures.bad_date"), ("Меры", "G6", "measures.date_outside_year"),
                   ("Меры", "A7", "measures.unknown_id"), ("Меры", "A8", "measures.duplicate_id"),
                   ("Меры", "A9", "measures.duplicate_id")}
    assert all("measures.xlsx" in m or "Меры" in m for m in issues["message"])
    rep = t["measures_reported.csv"].set_index("decision_id")
    assert pd.isna(rep.loc["seminar:K1", "done"]) and rep.loc["seminar:K1", "participants"] == "0107"
    assert rep.loc["visit:0107", "date"] == "" and rep.loc["visit:0201", "date"] == ""
    assert set(rep.index) == {"seminar:K1", "visit:0107", "visit:0201"}


def test_missing_done_is_a_warning(tmp_path):
    t = _read(tmp_path, _filled(tmp_path, {(2, "date"): dt.date(2025, 11, 2)}))
    issues = t["issues.csv"][t["issues.csv"]["file"] == MEASURES_FILE]
    assert [(r.cell, r.rule, r.severity) for r in issues.itertuples()] == [("F6", "measures.missing_done", "warning")]
    assert t["measures_reported.csv"]["date"].tolist() == ["2025-11-02"]


def test_without_the_file_the_record_is_empty_with_its_columns(tmp_path):
    t = _read(tmp_path, None)
    assert t["measures_reported.csv"].empty
    assert tuple(t["measures_reported.csv"].columns[:5]) == columns("clean", "measures_reported.csv")


def test_measures_statuses():
    roadmap = _roadmap()
    reported = pd.DataFrame({"decision_id": ["seminar:K1", "visit:0107", "visit:0201", "seminar:ZZ"],
                             "done": pd.array([True, False, pd.NA, True], dtype="boolean"),
                             "date": ["2025-10-14", "", "", ""], "document": ["Протокол", "", "", ""],
                             "participants": ["0107", "", "", ""]})
    m = build_measures(roadmap, reported)
    assert tuple(m.columns[:8]) == OUTPUTS["recommendations"]["measures.csv"]
    assert dict(zip(m.decision_id, m.status)) == {"seminar:K1": DONE, "visit:0107": NOT_DONE, "visit:0201": NO_RECORD,
                                                  "measure:T5": NO_RECORD}
    assert m.set_index("decision_id").loc["seminar:K1", "document"] == "Протокол"
    assert unknown_ids(roadmap, reported) == ["seminar:ZZ"]
    # no record at all: every measure «нет сведений»; no roadmap last year: nothing to list
    assert set(build_measures(roadmap, None).status) == {NO_RECORD}
    assert build_measures(None, reported).empty


# --------------------------------------------------------------------------- the sample, end to end


@pytest.fixture(scope="module")
def sample_run(sample_root):
    """The sample's years run through the pipeline (conftest's one run per session; read only)."""
    return sample_root, sample_root / "params"


@pytest.mark.slow
def test_sample_measures_have_every_previous_measure_with_the_planted_status(sample_run):
    root, params_dir = sample_run
    for year in (2025, 2026):
        p = load_params(params_dir / f"{year}.yaml")
        prev = read_table(load_params(params_dir / f"{year - 1}.yaml").processed_dir, "roadmap.csv")
        measures = read_table(p.processed_dir, "measures.csv")
        assert measures["decision_id"].tolist() == prev["decision_id"].tolist()
        planned = sample.planned_defects(year)["measures"]
        assert dict(zip(measures["decision_id"], measures["status"])) == planned
        assert set(planned.values()) == set(MEASURE_STATUSES)
        issues = read_table(p.processed_dir, "issues.csv")
        assert (issues["rule"] == "measures.bad_yesno").sum() == 1


@pytest.mark.slow
def test_sample_report_relates_results_to_measures(sample_run):
    root, params_dir = sample_run
    p = load_params(params_dir / "2026.yaml")
    measures = read_table(p.processed_dir, "measures.csv")
    html = (p.reports_dir / "index.html").read_text(encoding="utf-8")
    text = BeautifulSoup(html, "html.parser").find(id="effectiveness").get_text(" ", strip=True)
    not_done = measures[measures["status"] == NOT_DONE]
    assert len(not_done) and all(t in text for t in not_done["title"])
    assert "выезд проведён" in text and "выезд не назначался" in text and "Среднее изменение" in text
    assert "участники семинара" in text and "остальные ОО" in text
    assert f"выполнено — {int((measures['status'] == DONE).sum())}" in text
    # the written record of 2026's roadmap: one row per measure
    wb = load_workbook(p.reports_dir / "documents" / MEASURES_FILE)
    ids = [wb.active.cell(row=4 + i, column=1).value for i in range(len(read_table(p.processed_dir, "roadmap.csv")))]
    assert ids == read_table(p.processed_dir, "roadmap.csv")["decision_id"].tolist()


@pytest.mark.slow
def test_a_year_without_the_record_says_so(sample_run, tmp_path):
    """2026 of the sample with its raw folder lacking measures.xlsx (2025 as its previous year)."""
    root, params_dir = sample_run
    raw = tmp_path / "raw2026"
    shutil.copytree(ROOT / "data" / "raw" / "2026", raw)
    (raw / MEASURES_FILE).unlink()
    data = yaml.safe_load((params_dir / "2026.yaml").read_text(encoding="utf-8"))
    data.update(raw_dir=str(raw), processed_dir=str(tmp_path / "processed"), reports_dir=str(tmp_path / "reports" / "2026"),
                previous_params=str(params_dir / "2025.yaml"))
    path = tmp_path / "params" / "2026.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert cli.main(["run", "--params", str(path), "--quiet"]) == 0
    measures = read_table(tmp_path / "processed", "measures.csv")
    assert len(measures) and set(measures["status"]) == {NO_RECORD}
    html = (tmp_path / "reports" / "2026" / "index.html").read_text(encoding="utf-8")
    text = BeautifulSoup(html, "html.parser").find(id="effectiveness").get_text(" ", strip=True)
    assert "Сведения о выполнении мер дорожной карты на 2025-2026 учебный год не представлены" in text
    assert "выезд проведён" not in text


@pytest.mark.slow
def test_results_workbook_carries_the_roadmap_in_seed_004_form(sample_run):
    """results.xlsx's «Дорожная карта»: seed 004's columns, one row per roadmap.csv row, in order."""
    root, params_dir = sample_run
    p = load_params(params_dir / "2026.yaml")
    roadmap = read_table(p.processed_dir, "roadmap.csv")
    sheet = load_workbook(p.reports_dir / "results.xlsx")["Дорожная карта"]
    header = [c.value for c in sheet[2]]
    assert header[:5] == ["№ п/п", "Наименование мероприятия", "Срок исполнения (месяц, год)",
                          "Индикативные показатели", "Исполнители"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    assert len(rows) == len(roadmap) > 0
    assert [r[0] for r in rows] == [int(n) for n in roadmap["number"]]
    assert [r[1] for r in rows] == roadmap["title"].tolist()
    assert [r[2] for r in rows] == roadmap["due"].tolist()
    assert len(set(roadmap["due"])) > 1  # spread across the year, not one date for all
