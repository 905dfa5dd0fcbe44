"""verify: a re-run in a temporary folder compared with the manifest — everything matches, or a
changed raw file, a changed parameter and a tampered processed file are each named."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest



from pipeline.config.params import load_params
from synthetic_stages import write_notebooks, write_raw
from pipeline import cli
from pipeline.run import manifest as mf
from pipeline.run import runner
from pipeline.run import stages as run_stages
from pipeline.run import verify as run_verify


@pytest.fixture
def stable_code(monkeypatch):
    monkeypatch.setattr(mf, "source_sha256", lambda package_dir=mf.PACKAGE_DIR: "c0de" * 16)


def _year(tmp_path, make_params, until):
    notebooks = write_notebooks(tmp_path / "notebooks")
    raw = write_raw(tmp_path / "raw")
    params = make_params(raw_dir=raw)
    runner.run_year(params, notebooks_dir=notebooks, stages=run_stages.stages_until(until))
    return SimpleNamespace(params=params, notebooks=notebooks, raw=raw, processed=tmp_path / "processed" / "2026",
                           argv=["verify", "--params", str(params), "--notebooks", str(notebooks), "--quiet"])


@pytest.fixture
def year(tmp_path, make_params, stable_code):
    return _year(tmp_path, make_params, "score")


def test_verify_matches_after_a_run(year, capsys):
    assert cli.main(year.argv) == 0
    out = capsys.readouterr().out
    assert "всё совпадает" in out and "Traceback" not in out
    # the temporary re-run left nothing in the year's folders
    assert not (year.processed / ".lock").exists() and not (year.processed / ".staging").exists()


def test_verify_names_a_changed_raw_file(year, capsys):
    (year.raw / "0102.txt").write_text("5\n2\n", encoding="utf-8")
    report = run_verify.verify_year(year.params, notebooks_dir=year.notebooks)
    assert not report.ok
    assert {"processed_dir/files.csv", "processed_dir/forms.csv", "processed_dir/scores.csv"} <= set(report.rerun["differ"])
    assert report.on_disk == {"differ": [], "missing": []}
    assert any("сырой файл «0102.txt» изменён" in line for line in report.inputs)
    assert cli.main(year.argv) == 1
    out = capsys.readouterr().out
    assert "Повторный расчёт дал другой результат" in out and "scores.csv" in out and "0102.txt" in out


def test_verify_names_a_changed_parameter(year, make_params, capsys):
    make_params(raw_dir=year.raw, weights={"checklist": 0.7})
    assert cli.main(year.argv) == 1
    out = capsys.readouterr().out
    assert "scores.csv" in out and "параметр «weights.checklist»: 0.5 → 0.7" in out
    assert "forms.csv" not in out  # the tables that do not depend on the weight still match


def test_verify_detects_a_tampered_processed_file(year, capsys):
    scores = year.processed / "scores.csv"
    scores.write_bytes(scores.read_bytes().replace(b"0101", b"0199"))
    report = run_verify.verify_year(year.params, notebooks_dir=year.notebooks)
    assert report.on_disk["differ"] == ["processed_dir/scores.csv"]
    assert not any(report.rerun.values()) and report.inputs == []
    assert cli.main(year.argv) == 1
    out = capsys.readouterr().out
    assert "изменены после расчёта" in out and "scores.csv" in out


def test_verify_without_a_manifest_is_a_clear_error(tmp_path, make_params, capsys):
    params = make_params(raw_dir=write_raw(tmp_path / "raw"))
    assert cli.main(["verify", "--params", str(params)]) == 2
    assert "Манифест года 2026 не найден" in capsys.readouterr().err


def test_temporary_params_change_only_the_output_folders(tmp_path, make_params):
    params = load_params(make_params(raw_dir=write_raw(tmp_path / "raw")))
    copy = load_params(run_verify._temporary_params(params, tmp_path / "tmp"))
    assert copy.processed_dir == tmp_path / "tmp" / "processed" / "2026"
    assert copy.reports_dir == tmp_path / "tmp" / "reports" / "2026"
    same = ("processed_dir", "reports_dir", "source")
    assert {k: v for k, v in copy.as_dict().items() if k not in same} == {
        k: v for k, v in params.as_dict().items() if k not in same}


@pytest.mark.slow
def test_verify_a_full_year_with_report_and_audit_copies(tmp_path, make_params, stable_code):
    year = _year(tmp_path, make_params, None)
    report = run_verify.verify_year(year.params, notebooks_dir=year.notebooks)
    assert report.ok, report
    assert "reports_dir/index.html" in mf.read(load_params(year.params))["outputs"]


def test_input_changes_name_earlier_years_data(tmp_path, make_params):
    raw = write_raw(tmp_path / "raw")
    p2025 = make_params(2025, raw_dir=raw)
    params = load_params(make_params(2026, raw_dir=raw, previous_params=str(p2025)))
    previous = tmp_path / "processed" / "2025"
    previous.mkdir(parents=True)
    (previous / "scores.csv").write_text("school_code\n0101\n", encoding="utf-8")
    manifest = mf.build(params, stages=[], outputs=[], code={"revision": None, "dirty": None})
    assert manifest["earlier_years"]["2025"]["processed"].keys() == {"scores.csv"}
    assert mf.input_changes(manifest, params, {}) == []
    (previous / "scores.csv").write_text("school_code\n0102\n", encoding="utf-8")
    assert mf.input_changes(manifest, params, {}) == ["обработанные данные 2025 года изменились: scores.csv"]


def _no_rerun(monkeypatch, year):
    """verify's re-run replaced by a copy of the year's manifest (the re-run of an unchanged year
    gives the same outputs): these tests are about the comparison, not the stages."""
    original = (year.processed.parent.parent / "reports" / "2026" / mf.MANIFEST_NAME).read_bytes()

    def run_year(again, **kwargs):
        again.reports_dir.mkdir(parents=True, exist_ok=True)
        (again.reports_dir / mf.MANIFEST_NAME).write_bytes(original)

    monkeypatch.setattr(run_verify, "run_year", run_year)


def test_verify_tells_a_tampered_manifest_from_tampered_outputs(year, monkeypatch, capsys):
    """The manifest carries the sha256 of its own body: an edited manifest (an output's recorded
    sha256 changed) is named as such and not compared with; an output changed on disk, with the
    manifest intact, is named as a changed output."""
    _no_rerun(monkeypatch, year)
    manifest_file = year.processed.parent.parent / "reports" / "2026" / mf.MANIFEST_NAME
    original = manifest_file.read_bytes()
    data = json.loads(original)
    assert data[mf.SEAL] == mf.seal_of(data) and mf.seal_intact(data) is True

    # 1. outputs tampered: the manifest is intact
    scores = year.processed / "scores.csv"
    kept = scores.read_bytes()
    scores.write_bytes(kept.replace(b"0101", b"0199"))
    report = run_verify.verify_year(year.params, notebooks_dir=year.notebooks)
    assert report.sealed is True and not report.manifest_tampered
    assert report.on_disk["differ"] == ["processed_dir/scores.csv"] and not any(report.rerun.values())
    assert cli.main(year.argv) == 1
    out = capsys.readouterr().out
    assert "Файлы результатов на диске изменены после расчёта (манифест цел" in out and "scores.csv" in out
    assert "манифест" in out and "изменён после расчёта" not in out
    scores.write_bytes(kept)

    # 2. manifest tampered: an output's sha256 edited in it (the files are as the run left them)
    data["outputs"]["processed_dir/scores.csv"]["sha256"] = "0" * 64
    manifest_file.write_bytes(mf.dumps(data))
    report = run_verify.verify_year(year.params, notebooks_dir=year.notebooks)
    assert report.manifest_tampered and not report.ok
    assert cli.main(year.argv) == 1
    out = capsys.readouterr().out
    assert "манифест" in out and "изменён после расчёта" in out and mf.SEAL in out
    assert "Файлы результатов на диске изменены" not in out

    # a manifest written before seals: compared as before, with a note
    del data[mf.SEAL]
    data["outputs"]["processed_dir/scores.csv"]["sha256"] = json.loads(original)["outputs"]["processed_dir/scores.csv"]["sha256"]
    manifest_file.write_bytes(mf.dumps(data))
    assert cli.main(year.argv) == 0
    assert "без контрольной суммы самого манифеста" in capsys.readouterr().out
