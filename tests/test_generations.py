"""A year's outputs switch from the previous generation to the new one at a single point: a
run killed at any moment, interrupted or failed leaves (once the next holder of the year's
lock has recovered) the previous generation whole — processed tables, state, reports,
manifest and site index — or the new one whole, never a mix; the next run completes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import kill_run
import yaml

from pipeline import cli
from pipeline.config.params import load_params
from pipeline.io.storage import write_bytes_atomic
from pipeline.run import generation as gen
from pipeline.run import graph
from pipeline.run import lock as run_lock
from pipeline.run import manifest as mf
from pipeline.run import runner
from synthetic_stages import write_notebooks, write_raw

ROOT = Path(__file__).resolve().parents[1]
KILLS = 10  # runs killed by the test below, one in each tenth of a run


def _set_weight(params_file: Path, weight: float) -> None:
    data = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    data["weights"]["checklist"] = weight
    params_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _generation(root: Path) -> dict[str, bytes]:
    """Everything a year's run leaves: processed (with .state.json), reports (with the
    manifest) and the site index; nothing else may remain (no copies, journal, staging)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not rel.startswith(("raw/", "notebooks/", "params/")) and p.name != ".lock":
            out[rel] = p.read_bytes()
    return out


def _consistent(params_file: Path) -> None:
    """The manifest's hashes match the files on disk (what `verify` checks first)."""
    params = load_params(params_file)
    manifest = json.loads((Path(params.reports_dir) / mf.MANIFEST_NAME).read_text(encoding="utf-8"))
    disk = mf.on_disk(params, manifest["outputs"])
    assert not disk["differ"] and not disk["missing"], disk


def _start(params_file: Path, notebooks: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--params", str(params_file), "--notebooks",
                             str(notebooks), "--quiet"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _run(params_file: Path, notebooks: Path) -> subprocess.CompletedProcess:
    """A whole run (not killed), its messages kept for the assertion's text."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pipeline", "run", "--params", str(params_file), "--notebooks",
                           str(notebooks), "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def year(tmp_path, make_params):
    raw = write_raw(tmp_path / "raw")
    notebooks = write_notebooks(tmp_path / "notebooks")
    return tmp_path, make_params(raw_dir=raw), notebooks


@pytest.mark.slow
def test_a_run_killed_at_any_moment_leaves_one_generation_whole(year):
    root, params_file, notebooks = year
    references: dict[float, dict[str, bytes]] = {}
    durations = []
    for weight in (0.5, 0.6):
        _set_weight(params_file, weight)
        started = time.monotonic()
        done = _run(params_file, notebooks)
        assert done.returncode == 0, f"the run not killed failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        durations.append(time.monotonic() - started)
        references[weight] = _generation(root)
        _consistent(params_file)
    assert references[0.5] != references[0.6]
    # one kill point in each of KILLS equal slices of the run, from its start to just past its
    # end (random within its slice): no part of the run is left out, whereas twenty uniform
    # draws (the test before) left on average 1.2 of ten slices without a kill
    current, rng = 0.6, random.Random(20261207)
    span = max(durations) * 1.05
    moments = [(i + rng.random()) * span / KILLS for i in range(KILLS)]
    rng.shuffle(moments)
    outcomes = []
    for moment in moments:
        new = 0.5 if current == 0.6 else 0.6
        _set_weight(params_file, new)
        proc = _start(params_file, notebooks)
        time.sleep(moment)
        kill_run(proc)
        with run_lock.year_lock(load_params(params_file)):  # what the next run (or verify) does first
            pass
        now = _generation(root)
        assert now in (references[current], references[new]), {
            w: sorted(k for k in set(now) | set(references[w]) if now.get(k) != references[w].get(k))[:10]
            for w in (current, new)}
        if now == references[new]:
            current = new
        outcomes.append(current == new)
        _consistent(params_file)
    print(f"killed runs that had committed: {sum(outcomes)} of {len(outcomes)}")
    _set_weight(params_file, 0.5 if current == 0.6 else 0.6)
    done = _run(params_file, notebooks)
    assert done.returncode == 0, f"the run after the kills failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
    assert _generation(root) == references[0.5 if current == 0.6 else 0.6]
    _consistent(params_file)


def test_ctrl_c_after_the_report_keeps_the_previous_generation_and_the_next_run_redoes_it(
        year, monkeypatch, capsys):
    """Interrupted just after the report stage (a parameter changed): the previous results are
    kept, as the message says; the next run runs again and ends consistent."""
    root, params_file, notebooks = year
    base = ["run", "--params", str(params_file), "--notebooks", str(notebooks), "--quiet"]
    _set_weight(params_file, 0.5)
    assert cli.main(base) == 0
    before = _generation(root)
    _set_weight(params_file, 0.6)
    real = graph.write_manifest

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(graph, "write_manifest", interrupted)  # the command line runs years as a graph
    assert cli.main(base) == 130
    assert "сохранены" in capsys.readouterr().err
    assert _generation(root) == before
    monkeypatch.setattr(graph, "write_manifest", real)
    result = runner.run_year(params_file, notebooks_dir=notebooks)
    assert result.ran == ["ingest", "clean", "score", "recommendations", "report"]
    _consistent(params_file)
    assert _generation(root) != before


def test_a_restore_killed_halfway_is_completed_by_the_next(year):
    """Each step of putting the previous generation back can be repeated."""
    root, params_file, notebooks = year
    assert cli.main(["run", "--params", str(params_file), "--notebooks", str(notebooks), "--quiet"]) == 0
    before = _generation(root)
    params = load_params(params_file)
    g = gen.Generation(params)
    g.begin()
    processed = Path(params.processed_dir)
    # every output is written to a new file and renamed into place (the copies are hard links)
    write_bytes_atomic(processed / "forms.csv", b"new generation\n")
    os.rename(processed, gen._discarded(processed))  # killed after the first rename of a restore
    with run_lock.year_lock(params):
        pass
    assert _generation(root) == before
    assert not gen.journal_of(params).exists() and not gen.backup_of(processed).exists()


def test_temporary_files_of_a_killed_run_beside_the_year_are_removed(year):
    """A run killed while writing the site index or its journal leaves their temporary files
    (named by its pid); the next holder of the lock removes those of dead processes only."""
    root, params_file, notebooks = year
    assert cli.main(["run", "--params", str(params_file), "--notebooks", str(notebooks), "--quiet"]) == 0
    params = load_params(params_file)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    site_index = Path(params.site_dir) / "index.html"
    stale = [site_index.with_name(f".index.html.{dead.pid}.tmp"),
             gen.journal_of(params).with_name(f".{gen.journal_of(params).name}.{dead.pid}.tmp")]
    live = site_index.with_name(f".index.html.{os.getppid()}.tmp")  # another year's run writing now
    for path in [*stale, live]:
        path.write_text("partial", encoding="utf-8")
    with run_lock.year_lock(params):
        pass
    assert not any(p.exists() for p in stale) and live.exists()
