"""Speed without changed results: forms read by a pool of processes give the same tables as
forms read one by one; years run side by side by the graph scheduler give the same processed
outputs as years run one after another, in an order that respects what each stage reads."""

from __future__ import annotations

import pytest


from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params


@pytest.fixture(scope="module")
def raw_year(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    sample.generate(root, years=[2026], n_schools=40)
    return root / "2026"


def test_parallel_parsing_gives_the_same_tables_as_serial(raw_year, make_params, monkeypatch):
    params = load_params(make_params(raw_dir=raw_year))
    methodology = load_methodology(params.methodology)
    raw = ingest.load_raw(params)
    monkeypatch.setattr(ingest, "_workers", lambda: 1)
    serial = ingest.run(raw, methodology, params)
    monkeypatch.setattr(ingest, "_workers", lambda: 2)
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 2)
    calls = []
    real_map = ingest.read_forms

    def spy(files, methodology, **kw):
        calls.append(len(files))
        return real_map(files, methodology, **kw)

    monkeypatch.setattr(ingest, "read_forms", spy)
    parallel = ingest.run(raw, methodology, params)
    assert calls and calls[0] > 2
    for name in serial:
        assert storage.to_csv_bytes(parallel[name]) == storage.to_csv_bytes(serial[name]), name
    # the rejected files (a corrupt form, a lock file, another year's form) keep their reasons
    files = parallel["files.csv"]
    assert set(files.loc[files["status"] == "rejected", "rule"]) >= {"file.corrupt", "file.lock", "form.wrong_year"}


def test_read_forms_keeps_the_order_given(raw_year, make_params):
    params = load_params(make_params(raw_dir=raw_year))
    methodology = load_methodology(params.methodology)
    files = [f for f in ingest.load_raw(params).files if f.name.endswith(".xlsx")]
    files = files[::-1]
    serial = ingest.read_forms(files, methodology, workers=1)
    pooled = ingest.read_forms(files, methodology, workers=2) if len(files) >= ingest.PARALLEL_FROM else None
    if pooled is None:
        old = ingest.PARALLEL_FROM
        ingest.PARALLEL_FROM = 2
        try:
            pooled = ingest.read_forms(files, methodology, workers=2)
        finally:
            ingest.PARALLEL_FROM = old
    assert [(f.file if f else None, e) for f, e in pooled] == [(f.file if f else None, e) for f, e in serial]
    assert [f.values for f, _ in pooled if f] == [f.values for f, _ in serial if f]


# --- the graph scheduler ---------------------------------------------------------------------

import time as _time
from pathlib import Path
from types import SimpleNamespace



from pipeline.core.errors import StageFailedError
from synthetic_stages import write_notebooks, write_raw
from pipeline import cli
from pipeline import sample
from pipeline.io import storage
from pipeline.run import graph as run_graph
from pipeline.run import manifest as mf
from pipeline.run import progress as run_progress
from pipeline.run import runner
from pipeline.run import stages as run_stages
from pipeline.stages import ingest

YEARS = (2024, 2025, 2026)


@pytest.fixture
def stable_code(monkeypatch):
    monkeypatch.setattr(mf, "source_sha256", lambda package_dir=mf.PACKAGE_DIR: "c0de" * 16)


def three_years(root: Path, make_params, boom_in: int | None = None) -> SimpleNamespace:
    notebooks = write_notebooks(root / "notebooks")
    files = []
    previous = None
    for year in YEARS:
        forms = {"0101.txt": f"{year % 7}\n4\n", "0102.txt": "5\n1\n", "0103.txt": f"2\n{year % 5}\n"}
        if year == boom_in:
            forms["0104.txt"] = "boom\n"
        raw = write_raw(root / "raw" / str(year), forms)
        path = make_params(year, raw_dir=raw, previous_params=str(previous) if previous else None)
        files.append(path)
        previous = path
    return SimpleNamespace(notebooks=notebooks, params=[load_params(p) for p in files], root=root)


def timed_run(setup, monkeypatch, jobs: int, **kw):
    """run_years with every stage's start and end recorded."""
    spans: dict[tuple[int, str], tuple[float, float]] = {}
    real = run_graph.run_stage

    def recording(params, stage, *args, **kwargs):
        t0 = _time.perf_counter()
        try:
            return real(params, stage, *args, **kwargs)
        finally:
            spans[(params.year, stage.name)] = (t0, _time.perf_counter())

    monkeypatch.setattr(run_graph, "run_stage", recording)
    import io

    out = io.StringIO()
    try:
        results = run_graph.run_years(setup.params, notebooks_dir=setup.notebooks, jobs=jobs,
                                     progress=run_progress.Progress(15, stream=out), **kw)
    finally:
        monkeypatch.setattr(run_graph, "run_stage", real)
    return SimpleNamespace(results=results, spans=spans, log=out.getvalue())


def processed(root: Path) -> dict[str, bytes]:
    return {rel: p.read_bytes() for rel, p in mf.tree_files(root / "processed").items()
            if not Path(rel).name.startswith(".")}


def test_plan_waits_for_what_each_stage_reads(tmp_path, make_params, stable_code):
    setup = three_years(tmp_path, make_params)
    lines = set(run_graph.describe(run_graph.plan(setup.params)))
    assert "2025 · recommendations ← 2024 · recommendations, 2025 · score" in lines
    assert "2026 · report ← 2024 · recommendations, 2025 · recommendations, 2026 · recommendations" in lines
    assert "2025 · ingest ← —" in lines and "2025 · clean ← 2025 · ingest" in lines
    assert "2026 · manifest ← 2024 · manifest, 2025 · manifest, 2026 · report" in lines


def test_years_side_by_side_respect_order_and_match_a_sequential_run(tmp_path, make_params, monkeypatch, stable_code):
    side = three_years(tmp_path / "side", lambda *a, **k: _params_in(tmp_path / "side", *a, **k))
    run = timed_run(side, monkeypatch, jobs=2)
    s = run.spans
    for year in YEARS:
        assert [r.ran for r in run.results if r.year == year] == [list(run_stages.STAGE_NAMES)]
        for a, b in zip(run_stages.STAGE_NAMES, run_stages.STAGE_NAMES[1:]):
            assert s[(year, b)][0] >= s[(year, a)][1], (year, a, b)
    for prev, year in zip(YEARS, YEARS[1:]):
        assert s[(year, "recommendations")][0] >= s[(prev, "recommendations")][1]
        assert s[(year, "report")][0] >= s[(prev, "recommendations")][1]
    # two kernels were under way at once at some point: years really ran side by side
    spans = sorted(s.values())
    assert any(b0 < a1 for (a0, a1), (b0, b1) in zip(spans, spans[1:]))
    assert (tmp_path / "side" / "reports" / "index.html").is_file()
    for year in YEARS:
        assert (tmp_path / "side" / "reports" / str(year) / "manifest.json").is_file()

    # the same years one after another (run_year per year) give byte-identical processed outputs
    seq_root = tmp_path / "seq"
    seq = three_years(seq_root, lambda *a, **k: _params_in(seq_root, *a, **k))
    for params in seq.params:
        runner.run_year(params, notebooks_dir=seq.notebooks)
    assert processed(tmp_path / "side") == processed(seq_root)
    assert processed(seq_root)

    # nothing changed: every stage skipped, no kernel started
    import papermill

    def refuse(*a, **k):
        raise AssertionError("a notebook was executed")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)
    # nor the kernels' warm process (started ahead only when a stage surely runs)
    monkeypatch.setattr(runner.kernels, "prestart", lambda: pytest.fail("the warm process was started"))
    again = timed_run(side, monkeypatch, jobs=2)
    assert all(r.ran == [] for r in again.results)


def _params_in(root: Path, year: int = 2026, raw_dir=None, **overrides):
    from conftest import write_params

    return write_params(root, year, raw_dir=raw_dir, **overrides)


def test_failure_stops_its_dependants_and_keeps_other_years(tmp_path, make_params, monkeypatch, stable_code):
    setup = three_years(tmp_path, make_params, boom_in=2025)
    with pytest.raises(StageFailedError) as info:
        timed_run(setup, monkeypatch, jobs=2)
    assert "2025 · очистка" in str(info.value)
    root = tmp_path
    # 2024 is complete, with its manifest; 2026 ran what does not depend on 2025, but a year
    # switches to its new outputs only as a whole (run/generation.py): not completed, it keeps
    # its previous generation (here: none)
    assert (root / "reports" / "2024" / "manifest.json").is_file()
    assert (root / "reports" / "2024" / "index.html").is_file()
    assert not (root / "processed" / "2026" / "scores.csv").exists()
    assert not (root / "processed" / "2026" / "recommendations.csv").exists()
    assert not (root / "processed" / "2025" / "scores.csv").exists()
    assert not (root / "reports" / "2026" / "manifest.json").exists()
    assert not list(root.rglob(".staging")) and not list(root.rglob(".lock"))


def test_failure_is_reported_clearly_on_the_command_line(tmp_path, make_params, capsys, stable_code):
    setup = three_years(tmp_path, make_params, boom_in=2025)
    code = cli.main(["run", "--all", "--params-dir", str(tmp_path / "params"), "--notebooks", str(setup.notebooks)])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Ошибка: ") and "2025 · очистка" in captured.err and "Traceback" not in captured.err
    out = captured.out
    assert "2024: выполнено этапов — 5" in out
    assert "2026 · рекомендации … не выполнен: сначала должен выполниться этап 2025 · очистка" in out
    assert "2026 · оценка … готово за" in out


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--all", "--jobs", "0"])
    assert "не меньше 1" in capsys.readouterr().err


def _freeze_count(_task):
    import gc

    return gc.get_freeze_count()


def test_forked_writer_keeps_shared_objects_frozen_until_it_ends():
    """The background writer's child shares this process's objects: they stay out of the cycle
    collector's sight (gc.freeze) in both until result(), through a pool forked meanwhile."""
    import gc

    from pipeline.core.parallel import Forked, can_fork, fork_map

    if not can_fork():
        pytest.skip("no fork here")
    assert gc.get_freeze_count() == 0
    shared_rows = [[i] for i in range(1000)]  # made before the fork: frozen with it
    job = Forked(lambda rows: (len(rows), __import__("gc").get_freeze_count() > 0), shared_rows)
    assert gc.get_freeze_count() > 0
    assert all(n > 0 for n in fork_map(_freeze_count, [1, 2], 2))  # a pool forked meanwhile
    assert gc.get_freeze_count() > 0  # the pool's end does not thaw what the writer shares
    assert job.result() == (1000, True)
    assert gc.get_freeze_count() == 0
