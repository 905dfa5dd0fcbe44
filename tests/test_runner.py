"""The runner on small synthetic stage notebooks (tests/synthetic_stages.py): success, failure,
strict mode, skipping when unchanged, re-running after a change, locking, safe outputs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest



from pipeline.core.errors import PipelineError, RunLockedError, StageFailedError, StrictModeError
from pipeline.config.params import load_params
from synthetic_stages import write_notebooks, write_raw
from pipeline import cli
from pipeline.core import contract
from pipeline.run import lock as run_lock
from pipeline.run import manifest as mf
from pipeline.run import progress as run_progress
from pipeline.run import runner
from pipeline.run import stages as run_stages
from pipeline.run import state as run_state


@pytest.fixture
def stable_code(monkeypatch):
    """Other modules of the package may be edited while the suite runs; the runner's own
    hash of the package source is pinned so that "unchanged" means unchanged here."""
    monkeypatch.setattr(mf, "source_sha256", lambda package_dir=mf.PACKAGE_DIR: "c0de" * 16)


@pytest.fixture
def year(tmp_path, make_params, stable_code):
    notebooks = write_notebooks(tmp_path / "notebooks")
    raw = write_raw(tmp_path / "raw")
    params = make_params(raw_dir=raw)
    return SimpleNamespace(params=params, notebooks=notebooks, raw=raw, root=tmp_path,
                           processed=tmp_path / "processed" / "2026", reports=tmp_path / "reports" / "2026")


def run(year, until="report", **kw):
    out = io.StringIO()
    result = runner.run_year(year.params, notebooks_dir=year.notebooks, stages=run_stages.stages_until(until),
                             progress=run_progress.Progress(5, stream=out), **kw)
    result.log = out.getvalue()
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    return {rel: p.read_bytes() for rel, p in mf.tree_files(folder).items() if not rel.startswith(".")}


def no_kernel(monkeypatch):
    import papermill

    def refuse(*args, **kwargs):
        raise AssertionError("a notebook was executed")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)
    # nor is the kernels' warm process started, nor a stage's imports begun
    monkeypatch.setattr(runner.kernels, "prestart", lambda: pytest.fail("the warm process was started"))
    monkeypatch.setattr(runner, "prepare_to_run", lambda: pytest.fail("a stage was prepared"))


# --- the plan ------------------------------------------------------------------------------

def test_stage_plan_follows_the_contract():
    assert run_stages.STAGE_NAMES == contract.STAGES
    for stage in run_stages.STAGES:
        assert stage.outputs == tuple(contract.OUTPUTS.get(stage.name, {})) + stage.writes
        assert all(run_stages.STAGE_NAMES.index(r) < run_stages.STAGE_NAMES.index(stage.name) for r in stage.reads)
    assert [s.notebook for s in run_stages.STAGES] == sorted(s.notebook for s in run_stages.STAGES)
    assert run_stages.stages_until("clean") == run_stages.STAGES[:2]
    with pytest.raises(PipelineError, match="Неизвестный этап"):
        run_stages.stages_until("nope")


# --- success -------------------------------------------------------------------------------

@pytest.mark.slow
def test_run_writes_outputs_audit_copies_and_manifest(year):
    result = run(year)
    assert result.ran == list(run_stages.STAGE_NAMES) and result.skipped == []
    for stage in run_stages.STAGES[:-1]:
        for name in stage.outputs:
            assert (year.processed / name).is_file(), name
    assert (year.reports / "schools" / "0101.html").is_file()
    # the report's executed notebook is published as the year's page, and the site lists the year
    assert "0101" in (year.reports / "index.html").read_text(encoding="utf-8")
    assert 'href="2026/index.html"' in (year.root / "reports" / "index.html").read_text(encoding="utf-8")
    assert (year.reports / "manifest.json").is_file()
    for stage in run_stages.STAGES:
        nb_path = year.reports / "audit" / stage.notebook
        html = nb_path.with_suffix(".html").read_text(encoding="utf-8")
        assert "https://cdnjs" not in html and "<script src=" not in html
        nb = nbformat.read(nb_path, as_version=4)
        assert "start_time" not in nb.metadata.papermill and "duration" not in nb.metadata.papermill
        assert nb.metadata.papermill.output_path == f"audit/{stage.notebook}"
        for cell in nb.cells:
            assert "execution" not in cell.metadata
            assert not set(cell.metadata.get("papermill", {})) & {"start_time", "end_time", "duration"}
        assert [c.id for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])] == ["injected-parameters"]
    # nothing temporary is left behind
    assert not (year.processed / ".staging").exists() and not (year.reports / ".staging").exists()
    assert not (year.processed / ".lock").exists()
    assert "2026 · очистка … готово за" in result.log and " с (" in result.log


def test_unchanged_second_run_skips_without_starting_a_kernel(year, monkeypatch):
    run(year, until="clean")
    manifest_before = (year.reports / "manifest.json").read_bytes()
    no_kernel(monkeypatch)
    with monkeypatch.context() as m:  # the manifest of the run that made the outputs is kept, not rebuilt
        m.setattr(mf, "build", lambda *a, **k: pytest.fail("manifest rebuilt although nothing ran"))
        result = run(year, until="clean")
    assert result.ran == [] and result.skipped == ["ingest", "clean"]
    assert result.log.count("без изменений — пропущен") == 2
    assert (year.reports / "manifest.json").read_bytes() == manifest_before
    # a missing manifest is written again, the same
    (year.reports / "manifest.json").unlink()
    result = run(year, until="clean")
    assert result.ran == [] and (year.reports / "manifest.json").read_bytes() == manifest_before


def test_changed_parameters_rerun_every_stage(year, make_params):
    run(year, until="clean")
    make_params(raw_dir=year.raw, weights={"checklist": 0.7})
    result = run(year, until="clean")
    assert result.ran == ["ingest", "clean"]
    assert "изменились: параметры" in result.log


def test_changed_raw_file_reruns_and_changes_outputs(year):
    run(year, until="clean")
    forms = (year.processed / "forms.csv").read_bytes()
    (year.raw / "0104.txt").write_text("7\n", encoding="utf-8")
    result = run(year, until="clean")
    assert result.ran == ["ingest", "clean"]
    assert "изменились: сырые данные" in result.log
    assert (year.processed / "forms.csv").read_bytes() != forms


def test_changed_notebook_reruns_from_that_stage(year):
    run(year, until="score")
    nb = nbformat.read(year.notebooks / "03_score.ipynb", as_version=4)
    nb.cells[-1].source += "\n# поправка"
    nbformat.write(nb, year.notebooks / "03_score.ipynb")
    result = run(year, until="score")
    assert result.skipped == ["ingest", "clean"] and result.ran == ["score"]
    assert "изменились: блокнот" in result.log


def test_changed_pipeline_code_reruns(year, monkeypatch):
    run(year, until="ingest")
    monkeypatch.setattr(mf, "source_sha256", lambda package_dir=mf.PACKAGE_DIR: "beef" * 16)
    assert run(year, until="ingest").ran == ["ingest"]


def test_tampered_output_reruns_its_stage(year):
    run(year, until="clean")
    staff = year.processed / "staff.csv"
    original = staff.read_bytes()
    staff.write_bytes(original.replace(b"0101", b"9999"))
    result = run(year, until="clean")
    assert result.skipped == ["ingest"] and result.ran == ["clean"]
    assert "staff.csv изменён или удалён" in result.log
    assert staff.read_bytes() == original


def test_force_reruns_everything(year):
    run(year, until="clean")
    assert run(year, until="clean", force=True).ran == ["ingest", "clean"]


def test_previous_year_data_is_an_input_of_recommendations(tmp_path, make_params, stable_code):
    raw = write_raw(tmp_path / "raw")
    notebooks = write_notebooks(tmp_path / "notebooks")
    p2025 = make_params(2025, raw_dir=raw)
    p2026 = make_params(2026, raw_dir=raw, previous_params=str(p2025))
    params = load_params(p2026)
    recs = next(s for s in run_stages.STAGES if s.name == "recommendations")
    ingest = run_stages.STAGES[0]
    before = run_state.stage_inputs(params, recs, notebooks, "x")
    prev_processed = tmp_path / "processed" / "2025"
    prev_processed.mkdir(parents=True)
    (prev_processed / "scores.csv").write_text("school_code\n0101\n", encoding="utf-8")
    after = run_state.stage_inputs(params, recs, notebooks, "x")
    assert before["history"] != after["history"]
    assert "history" not in run_state.stage_inputs(params, ingest, notebooks, "x")


# --- failures ------------------------------------------------------------------------------

def test_failing_stage_raises_stage_error_and_keeps_previous_outputs(year):
    run(year, until="clean")
    clean_before = {n: (year.processed / n).read_bytes() for n in contract.OUTPUTS["clean"]}
    (year.raw / "0104.txt").write_text("boom\n", encoding="utf-8")
    with pytest.raises(StageFailedError) as info:
        run(year, until="score")
    err = info.value
    # cells: markdown, parameters (In [1]), injected parameters (In [2]), preamble (In [3]), body (In [4])
    assert err.cell == 4 and err.ename == "ValueError" and "boom" in err.evalue
    assert "2026 · очистка" in str(err) and "в ячейке 4" in str(err)
    kept = Path(err.notebook)
    kept = kept if kept.is_absolute() else Path.cwd() / kept
    assert kept.name == "02_clean.failed.ipynb" and kept.is_file() and kept.with_suffix(".html").is_file()
    assert "boom" in kept.read_text(encoding="utf-8")
    # the failed stage's previous outputs are intact; nothing half-written is left
    assert {n: (year.processed / n).read_bytes() for n in contract.OUTPUTS["clean"]} == clean_before
    assert not (year.processed / ".staging").exists() and not (year.processed / ".lock").exists()
    # once the form is fixed, the failed stage runs again and its failure report goes away
    (year.raw / "0104.txt").write_text("6\n", encoding="utf-8")
    result = run(year, until="clean")
    assert result.ran == ["ingest", "clean"] and not kept.exists()


def test_interrupted_stage_leaves_outputs_intact(year, monkeypatch):
    run(year, until="clean")
    before = snapshot(year.processed)
    import papermill

    def interrupted(input_path, output_path, parameters=None, **kwargs):
        out = Path(parameters["output_dir"])
        (out / "forms.csv").write_text("half-written", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(year, until="clean", force=True)
    assert snapshot(year.processed) == before
    assert not (year.processed / ".lock").exists()


def test_stage_that_omits_a_contract_file_fails(year):
    notebooks = write_notebooks(year.root / "nb2", ingest='write("files.csv", COLUMNS["files.csv"], [])')
    with pytest.raises(StageFailedError, match="forms.csv"):
        runner.run_year(year.params, notebooks_dir=notebooks, stages=run_stages.stages_until("ingest"))
    assert not (year.processed / "files.csv").exists()


def test_missing_notebook_is_a_clear_error(year):
    (year.notebooks / "03_score.ipynb").unlink()
    with pytest.raises(PipelineError, match="03_score.ipynb"):
        run(year)
    assert not (year.processed / "forms.csv").exists()


def test_strict_mode_fails_on_any_issue(year):
    (year.raw / "bad.txt").write_text("x\n", encoding="utf-8")
    lenient = run(year, until="score")
    assert lenient.issues == 1 and lenient.rejected == 1
    with pytest.raises(StrictModeError) as info:
        run(year, until="score", strict=True)
    assert info.value.count == 1 and info.value.issues_file.endswith("issues.csv")


# --- lock ----------------------------------------------------------------------------------

def test_lock_held_by_a_live_process_refuses_the_run(year):
    year.processed.mkdir(parents=True)
    lock = year.processed / ".lock"
    lock.write_text(f"{os.getppid()}\n", encoding="utf-8")
    with pytest.raises(RunLockedError) as info:
        run(year, until="ingest")
    assert "2026" in str(info.value) and lock.read_text(encoding="utf-8").strip() == str(os.getppid())
    assert not (year.processed / "forms.csv").exists()


def test_stale_lock_of_a_dead_process_is_taken_over(year):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    params = load_params(year.params)
    year.processed.mkdir(parents=True)
    (year.processed / ".lock").write_text(f"{dead.pid}\n", encoding="utf-8")
    with run_lock.year_lock(params) as lock:
        assert lock.read_text(encoding="utf-8").split()[0] == str(os.getpid())
        with pytest.raises(RunLockedError):  # a second holder is refused while it is held
            lock.write_text(f"{os.getppid()}\n", encoding="utf-8")
            with run_lock.year_lock(params):
                pass
        lock.write_text(f"{os.getpid()}\n", encoding="utf-8")
    assert not lock.exists()


def test_a_shared_reports_folder_is_refused_naming_the_folder_and_the_run(year, make_params):
    """Two parameter sets whose reports folders are one: the second run is refused (not a
    FileNotFoundError in .staging), in another process or in this one."""
    other = make_params(2025, raw_dir=year.raw, reports_dir=str(year.reports),
                        processed_dir=str(year.root / "processed" / "other"))
    first, second = load_params(year.params), load_params(other)
    with run_lock.year_lock(first):
        with pytest.raises(RunLockedError) as info:  # the same process (another year's thread)
            with run_lock.year_lock(second):
                pass
        message = str(info.value)
        assert str(year.reports) in message and str(year.params) in message
        assert not (year.root / "processed" / "other" / ".lock").exists()
    # held by another live process: its pid and parameter file are named
    lock = year.reports / ".lock"
    lock.write_text(f"{os.getppid()}\n{year.params}\n", encoding="utf-8")
    with pytest.raises(RunLockedError) as info:
        run(SimpleNamespace(**{**vars(year), "params": other}), until="ingest")
    assert str(year.reports) in str(info.value) and str(os.getppid()) in str(info.value)
    assert str(year.params) in str(info.value)
    assert lock.read_text(encoding="utf-8").split()[0] == str(os.getppid())
    lock.unlink()
    run(SimpleNamespace(**{**vars(year), "params": other}), until="ingest")
    assert not lock.exists()


# --- the command line ----------------------------------------------------------------------

def test_cli_run_strict_and_failure_exit_codes(year, capsys):
    base = ["run", "--params", str(year.params), "--notebooks", str(year.notebooks), "--until", "clean"]
    assert cli.main(base) == 0
    out = capsys.readouterr().out
    assert "2026 · загрузка … готово за" in out and "Манифест:" in out
    assert cli.main(base) == 0
    assert "без изменений — пропущен" in capsys.readouterr().out

    (year.raw / "bad.txt").write_text("x\n", encoding="utf-8")
    assert cli.main(base + ["--quiet"]) == 0
    out = capsys.readouterr().out
    assert "готово за" not in out and "замечаний к данным — 1, отклонено файлов — 1" in out
    assert cli.main(base + ["--strict"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Ошибка: Строгий режим") and "Traceback" not in err and err.count("\n") == 1

    (year.raw / "0105.txt").write_text("boom\n", encoding="utf-8")
    assert cli.main(base) == 2
    err = capsys.readouterr().err
    assert "в ячейке 4" in err and "02_clean.failed.ipynb" in err and "Traceback" not in err


def test_cli_all_runs_years_oldest_first(tmp_path, make_params, stable_code, capsys):
    raw = write_raw(tmp_path / "raw")
    notebooks = write_notebooks(tmp_path / "notebooks")
    p2025 = make_params(2025, raw_dir=raw)
    make_params(2026, raw_dir=raw, previous_params=str(p2025))
    # one worker: the years strictly one after another (tests/test_parallel.py: side by side)
    code = cli.main(["run", "--all", "--params-dir", str(tmp_path / "params"), "--notebooks", str(notebooks),
                     "--until", "ingest", "--jobs", "1"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.index("2025 · загрузка") < out.index("2026 · загрузка")
    assert (tmp_path / "reports" / "2025" / "manifest.json").is_file()
    assert json.loads((tmp_path / "reports" / "2026" / "manifest.json").read_text())["year"] == 2026


# --- end to end on the embedded sample -----------------------------------------------------

@pytest.mark.slow
def test_end_to_end_run_skip_and_verify_on_the_sample(tmp_path, make_params):
    """`python -m pipeline run` on the real notebooks and data/raw/2026, then again (nothing
    changed: every stage skipped), then `verify` (a re-run elsewhere gives the same results)."""
    root = Path(__file__).resolve().parents[1]
    params = make_params()
    base = [sys.executable, "-m", "pipeline"]
    done = subprocess.run(base + ["run", "--params", str(params)], cwd=root, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout.count("готово за") == len(run_stages.STAGES)

    reports = tmp_path / "reports" / "2026"
    for stage in run_stages.STAGES:
        nb = nbformat.read(reports / "audit" / stage.notebook, as_version=4)
        assert any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), stage.notebook
        assert "start_time" not in nb.metadata.papermill
        assert (reports / "audit" / stage.notebook).with_suffix(".html").is_file()
    data = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in data["stages"]] == list(run_stages.STAGE_NAMES)
    assert {"processed_dir/scores.csv", "processed_dir/issues.csv", "reports_dir/index.html"} <= set(data["outputs"])
    raw = {r["file"]: r for r in data["raw_files"]}
    assert set(raw) == set(mf.tree_files(root / "data" / "raw" / "2026"))
    assert any(r["status"] == "accepted" for r in raw.values())
    assert all(r["status"] for r in raw.values())

    again = subprocess.run(base + ["run", "--params", str(params)], cwd=root, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and again.stdout.count("без изменений — пропущен") == len(run_stages.STAGES), again.stdout

    check = subprocess.run(base + ["verify", "--params", str(params), "--quiet"], cwd=root, capture_output=True,
                           text=True, timeout=1200)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "всё совпадает" in check.stdout
