"""Stage «ingest»: every raw file listed with its checksum and status; which form counts."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest
from conftest import execute_notebook
from formbuilder import form_bytes, good_values, raw_folder, xlsx


from pipeline.core.contract import FILE_STATUSES, columns
from pipeline.core.errors import FormError
from pipeline.config.params import load_params
from pipeline import sample
from pipeline.form import package as form_package
from pipeline.form import fields as form_fields
from pipeline.form import reader as form_reader
from pipeline.io import storage
from pipeline.stages import clean
from pipeline.stages import ingest


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def mixed(tmp_path, make_params, methodology):
    """A raw folder with one file of every kind ingest must tell apart."""
    m = methodology
    good = form_bytes(m, good_values(m, "0107"))
    files = {
        "0107.xlsx": good,
        "~$0107.xlsx": b"\x06Ivanov" + b" " * 40,
        ".DS_Store": b"\x00\x00\x00\x01Bud1",
        "readme.txt": "Формы школ за 2025-2026 учебный год".encode(),
        "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        "broken.xlsx": good[: len(good) // 2],
        "0108_old.xlsx": form_bytes(m, good_values(m, "0108", info__academic_year="2024-2025"), academic_year="2024-2025"),
        "0108.xlsx": form_bytes(m, good_values(m, "0108", info__school_code=108)),
        "0999.xlsx": form_bytes(m, good_values(m, "0999")),
        "0201_a.xlsx": form_bytes(m, good_values(m, "0201", info__filled_date=dt.date(2026, 4, 20))),
        "0201_b.xlsx": form_bytes(m, good_values(m, "0201", info__filled_date=dt.date(2026, 4, 1))),
        "Лист.xlsx": xlsx({"Лист1": [["Список педагогов"]]}),
        "nocode.xlsx": form_bytes(m, good_values(m, "0107", info__school_code=None)),
    }
    raw = raw_folder(tmp_path / "raw", files)
    (raw / "архив").mkdir()
    (raw / "архив" / "0107_2024.xlsx").write_bytes(form_bytes(m, good_values(m, "0107", info__academic_year="2023-2024"), academic_year="2023-2024"))
    params = load_params(make_params(raw_dir=raw))
    return params, raw


def run_ingest(params, methodology):
    return ingest.run(ingest.load_raw(params), methodology, params)


def test_every_file_listed_with_checksum_and_status(mixed, methodology):
    params, raw = mixed
    files = run_ingest(params, methodology)["files.csv"]
    assert tuple(files.columns[: len(columns("ingest", "files.csv"))]) == columns("ingest", "files.csv")
    names = sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())
    assert files["file"].tolist() == names
    for rec in files.itertuples():
        data = (raw / rec.file).read_bytes()
        assert rec.sha256 == hashlib.sha256(data).hexdigest() and rec.size_bytes == len(data)
    assert set(files["status"]) <= set(FILE_STATUSES)
    got = {r.file: (r.status, r.rule, r.school_code) for r in files.itertuples()}
    assert got == {
        "registry.csv": ("registry", "", ""),
        ".DS_Store": ("rejected", "file.hidden", ""),
        "0107.xlsx": ("accepted", "", "0107"),
        "0108.xlsx": ("accepted", "", "0108"),
        "0108_old.xlsx": ("rejected", "form.wrong_year", "0108"),
        "0201_a.xlsx": ("accepted", "", "0201"),
        "0201_b.xlsx": ("superseded", "form.superseded", "0201"),
        "0999.xlsx": ("rejected", "form.unknown_school", "0999"),
        "broken.xlsx": ("rejected", "file.corrupt", ""),
        "nocode.xlsx": ("rejected", "form.no_school_code", ""),
        "old.xls": ("rejected", "file.not_xlsx", ""),
        "readme.txt": ("rejected", "file.not_xlsx", ""),
        "~$0107.xlsx": ("rejected", "file.lock", ""),
        "Лист.xlsx": ("rejected", "form.not_a_form", ""),
        "архив/0107_2024.xlsx": ("rejected", "form.wrong_year", "0107"),
    }
    kinds = dict(zip(files["file"], files["kind"]))
    assert (kinds["registry.csv"], kinds["~$0107.xlsx"], kinds[".DS_Store"], kinds["readme.txt"], kinds["0107.xlsx"]) == \
        ("registry", "lock", "hidden", "other", "xlsx")


def test_rejections_say_why_in_russian_and_where(mixed, methodology):
    params, _ = mixed
    files = run_ingest(params, methodology)["files.csv"].set_index("file")
    assert (files.loc[files["status"].isin(["rejected", "superseded"]), "reason"].str.len() > 10).all()
    old = files.loc["0108_old.xlsx"]
    assert (old.sheet, old.cell, old.value) == ("Сведения", "B7", "2024-2025")
    assert "2024-2025" in old.reason and params.academic_year in old.reason
    unknown = files.loc["0999.xlsx"]
    assert (unknown.sheet, unknown.cell) == ("Сведения", "B4") and "реестр" in unknown.reason
    sup = files.loc["0201_b.xlsx"]
    assert "0201_a.xlsx" in sup.reason and "20.04.2026" in sup.reason and sup.cell == "B14"
    assert files.loc["0201_a.xlsx", "filled_date"] == "2026-04-20"


def test_forms_long_table(mixed, methodology):
    params, _ = mixed
    out = run_ingest(params, methodology)
    long = out["forms.csv"]
    assert tuple(long.columns) == columns("ingest", "forms.csv")
    readable = {"0107.xlsx", "0108.xlsx", "0108_old.xlsx", "0999.xlsx", "0201_a.xlsx", "0201_b.xlsx", "nocode.xlsx", "архив/0107_2024.xlsx"}
    assert set(long["file"]) == readable  # rejected-but-readable forms are kept for the auditor
    per_form = 11 + 10 + 3 * len(methodology.positions)
    assert (long.groupby("file").size() == per_form).all()
    code = long[(long["file"] == "0108.xlsx") & (long["field"] == "info.school_code")].iloc[0]
    assert (code.value, code.value_type, code.school_code, code.cell, code.row) == ("108", "number", "0108", "B4", 4)
    assert set(long["value_type"]) <= set(form_fields.VALUE_TYPES)
    assert long["field"].str.fullmatch(r"info\.\w+|staff\.P\d|checklist\.M[\d.]+\.(score|document|link)").all()


def test_raw_files_are_never_modified(mixed, methodology, tmp_path):
    params, raw = mixed
    before = snapshot(raw)
    out = run_ingest(params, methodology)
    storage.write_tables(tmp_path / "out", out)
    assert snapshot(raw) == before


def test_output_is_deterministic(mixed, methodology):
    params, _ = mixed
    a, b = run_ingest(params, methodology), run_ingest(params, methodology)
    for name in a:
        assert storage.to_csv_bytes(a[name]) == storage.to_csv_bytes(b[name])


def test_forms_table_is_every_value_of_every_form_read(mixed, methodology):
    """forms.csv, built from the columns the readers return, holds what read_form finds in each
    readable form (in the order of the files, rejected forms included), with the file and the
    matched code; the same whether the forms were read one by one or by a pool of processes."""
    params, _ = mixed
    raw = ingest.load_raw(params)
    out = ingest.run(raw, methodology, params)
    files = out["files.csv"].set_index("file")
    expected = []
    for f in raw.files:
        try:
            form = form_reader.read_form(f.data, methodology, name=f.name) if f.data and not f.name.split("/")[-1].startswith((".", "~$")) else None
        except FormError:
            form = None
        if form is not None and f.name != ingest.REGISTRY_FILE:
            code = files.loc[f.name, "school_code"]
            expected += [(f.name, v.sheet, v.cell, v.row, v.field, v.label, v.value, v.value_type, code, v.formula)
                         for v in form.values]
    long = out["forms.csv"]
    assert [tuple(r) for r in long.itertuples(index=False)] == expected
    assert long["row"].dtype == "int64" and all(isinstance(long[c].dtype, pd.StringDtype) for c in long.columns if c != "row")

    readable = [f for f in raw.files if f.name.endswith(".xlsx") and not f.name.startswith("~$")]
    serial = ingest.read_forms(readable, methodology, workers=1, as_columns=True)
    pooled_at = ingest.PARALLEL_FROM
    try:
        ingest.PARALLEL_FROM = 2
        pooled = ingest.read_forms(readable, methodology, workers=2, as_columns=True)
    finally:
        ingest.PARALLEL_FROM = pooled_at
    assert (pooled.counts, pooled.errors, pooled.columns) == (serial.counts, serial.errors, serial.columns)
    assert [f.values if f else e for f, e in serial.parsed([f.name for f in readable])] == \
        [f.values if f else e for f, e in ingest.read_forms(readable, methodology, workers=1)]


def test_equal_dates_the_last_name_wins_and_says_so(tmp_path, make_params, methodology):
    m = methodology
    same = good_values(m, "0107", info__filled_date=dt.date(2026, 4, 1))
    raw = raw_folder(tmp_path / "raw", {
        "0107_1.xlsx": form_bytes(m, same), "0107_2.xlsx": form_bytes(m, same),
        "0107_0.xlsx": form_bytes(m, good_values(m, "0107", info__filled_date=None)),
    })
    params = load_params(make_params(raw_dir=raw))
    files = run_ingest(params, m)["files.csv"].set_index("file")
    assert files.loc["0107_2.xlsx", "status"] == "accepted"
    assert files.loc["0107_1.xlsx", "status"] == "superseded" and "последняя по имени" in files.loc["0107_1.xlsx", "reason"]
    assert files.loc["0107_0.xlsx", "status"] == "superseded" and "не указана дата" in files.loc["0107_0.xlsx", "reason"]


def test_school_code_matching():
    codes = {"0107", "0201", "00300", "0300"}
    assert ingest.match_school_code("0107", codes) == ("0107", True)
    assert ingest.match_school_code(" 01 07 ", codes) == ("0107", True)
    assert ingest.match_school_code("107", codes) == ("0107", True)
    assert ingest.match_school_code("107.0", codes) == ("0107", True)
    assert ingest.match_school_code("300", codes) == ("300", False)  # ambiguous: 0300 or 00300
    assert ingest.match_school_code("0999", codes) == ("0999", False)


def test_missing_registry_stops_the_stage(tmp_path, make_params, methodology):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "0107.xlsx").write_bytes(form_bytes(methodology, good_values(methodology)))
    params = load_params(make_params(raw_dir=raw))
    with pytest.raises(FormError) as exc:
        run_ingest(params, methodology)
    assert exc.value.rule == "registry.missing" and "registry.csv" in str(exc.value)


def test_symlinks_are_listed_and_rejected_never_followed(tmp_path, make_params, methodology, monkeypatch):
    """A symbolic link in the raw folder (to a form outside it, to a folder, to nothing) is not
    opened: files.csv lists it as rejected (file.symlink, the reason in Russian), issues.csv too."""
    m = methodology
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "0108.xlsx").write_bytes(form_bytes(m, good_values(m, "0108")))
    (outside / "forms").mkdir()
    (outside / "forms" / "0201.xlsx").write_bytes(form_bytes(m, good_values(m, "0201")))
    raw = raw_folder(tmp_path / "raw", {"0107.xlsx": form_bytes(m, good_values(m, "0107"))})
    (raw / "0108.xlsx").symlink_to(outside / "0108.xlsx")
    (raw / "формы").symlink_to(outside / "forms", target_is_directory=True)
    (raw / "0201.xlsx").symlink_to(raw / "нет такого файла.xlsx")
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda f, *a, **k: opened.append(str(f)) or real_open(f, *a, **k))
    params = load_params(make_params(raw_dir=raw))
    raw_inputs = ingest.load_raw(params)
    monkeypatch.undo()
    assert not [f for f in opened if "elsewhere" in f]
    tables = ingest.run(raw_inputs, m, params)
    files = tables["files.csv"].set_index("file")
    assert files.loc["0107.xlsx", "status"] == "accepted"
    for name in ("0108.xlsx", "формы", "0201.xlsx"):
        row = files.loc[name]
        assert (row["status"], row["rule"], row["sha256"]) == ("rejected", "file.symlink", ""), name
        assert "символическая ссылка" in row["reason"]
    assert "формы/0201.xlsx" not in files.index
    assert set(tables["forms.csv"]["file"]) == {"0107.xlsx"}
    registry = pd.DataFrame({"code": ["0107", "0108", "0201"], "name": ["a", "b", "c"], "type": ["СОШ", "СОШ", "ООШ"]})
    issues = clean.run(tables["forms.csv"], tables["files.csv"], registry, m, params)["issues.csv"]
    linked = issues[issues["rule"] == "file.symlink"]
    assert sorted(linked["file"]) == sorted(["0108.xlsx", "формы", "0201.xlsx"])
    assert (linked["severity"] == "error").all() and linked["message"].str.contains("сам файл").all()


def test_registry_as_a_symlink_stops_the_stage(tmp_path, make_params, methodology):
    shared = tmp_path / "registry.csv"
    raw = raw_folder(tmp_path / "raw", {})
    (raw / "registry.csv").rename(shared)
    (raw / "registry.csv").symlink_to(shared)
    params = load_params(make_params(raw_dir=raw))
    with pytest.raises(FormError) as exc:
        run_ingest(params, methodology)
    assert exc.value.rule == "registry.missing" and "символическая ссылка" in str(exc.value)


def test_oversized_file_is_not_read(tmp_path, make_params, methodology, monkeypatch):
    data = form_bytes(methodology, good_values(methodology))
    raw = raw_folder(tmp_path / "raw", {"0107.xlsx": data})
    monkeypatch.setattr(form_package, "MAX_FILE_BYTES", 1000)
    params = load_params(make_params(raw_dir=raw))
    raw_inputs = ingest.load_raw(params)
    assert raw_inputs.get("0107.xlsx").data is None
    files = ingest.run(raw_inputs, methodology, params)["files.csv"].set_index("file")
    assert files.loc["0107.xlsx", "rule"] == "file.too_large"
    assert files.loc["0107.xlsx", "sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("year", (2024, 2025, 2026))
def test_sample_year_statuses_match_the_plan(year, make_params, methodology):
    params = load_params(make_params(year))
    files = run_ingest(params, methodology)["files.csv"]
    plan = sample.planned_defects(year)
    expected = {f["file"]: (f["status"], f["rule"], f["school_code"]) for f in plan["files"]}
    got = {r.file: (r.status, r.rule, r.school_code) for r in files.itertuples() if r.status != "accepted"}
    assert got == expected
    assert files["file"].tolist() == plan["file_names"]


@pytest.mark.slow
def test_notebook_runs_on_the_sample_year(make_params, tmp_path):
    params_file = make_params(2026)
    params = load_params(params_file)
    before = snapshot(Path(params.raw_dir))
    executed = execute_notebook("01_ingest.ipynb", params_file, tmp_path / "executed")
    assert snapshot(Path(params.raw_dir)) == before
    long, files = clean.read_inputs(params.processed_dir)
    plan = sample.planned_defects(2026)
    for f in plan["files"]:
        row = files[files["file"] == f["file"]].iloc[0]
        assert (row["status"], row["rule"]) == (f["status"], f["rule"])
    assert tuple(long.columns) == columns("ingest", "forms.csv")
    text = executed.read_text(encoding="utf-8")
    assert "Принято форм" in text and "image/png" in text
