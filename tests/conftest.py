"""Shared test fixtures: a year's parameter set pointing at temporary folders, a way to
execute a stage notebook through papermill exactly as the runner does, and the runs of the
embedded sample (and of each example municipality) made once per test session and shared by the
tests that only read them — across pytest-xdist's workers too (`shared_folder`)."""

from __future__ import annotations

import copy
import errno
import fcntl
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import pipeline  # noqa: F401  (first: it keeps jsonschema from loading rfc3987-syntax, seconds per process)
import papermill as pm  # noqa: E402
from pipeline.run import kernels  # noqa: E402
import pytest
import yaml

import chromium as chromium_helper
from hypothesis import settings

# no timed assertions: hypothesis' per-example deadline would fail a property on a busy machine
settings.register_profile("project", deadline=None)
settings.load_profile("project")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_METHODOLOGY = ROOT / "methodology" / "default.yaml"


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def write_params(folder: Path, year: int = 2026, *, raw_dir: Path | None = None, **overrides: Any) -> Path:
    """Write params/<year>.yaml into folder: the repository's year with absolute paths,
    processed and reports under folder, raw data from the repository unless raw_dir is given."""
    folder = Path(folder)
    base = yaml.safe_load((ROOT / "params" / f"{year}.yaml").read_text(encoding="utf-8"))
    base.update(
        raw_dir=str(raw_dir or ROOT / "data" / "raw" / str(year)),
        processed_dir=str(folder / "processed" / str(year)),
        reports_dir=str(folder / "reports" / str(year)),
        methodology=str(DEFAULT_METHODOLOGY),
        previous_params=None,
    )
    data = _merge(base, overrides)
    (folder / "params").mkdir(parents=True, exist_ok=True)
    path = folder / "params" / f"{year}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def copy_params_dir(src: Path, root: Path) -> Path:
    """The parameter files of src copied into root/params: raw data and methodology read from
    the repository in place, processed data and reports written under root (the same relative
    layout as the repository's). Returns root/params."""
    (root / "params").mkdir(parents=True)
    for path in sorted(Path(src).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["raw_dir"] = str((path.parent / data["raw_dir"]).resolve())
        data["methodology"] = str((path.parent / data["methodology"]).resolve())
        for key in ("processed_dir", "reports_dir"):
            data[key] = str(root / (path.parent / data[key]).resolve().relative_to(ROOT))
        (root / "params" / path.name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root / "params"


@pytest.fixture
def make_params(tmp_path):
    """make_params(year=2026, raw_dir=None, **overrides) -> path of a parameter file in tmp_path."""

    def make(year: int = 2026, raw_dir: Path | None = None, **overrides: Any) -> Path:
        return write_params(tmp_path, year, raw_dir=raw_dir, **overrides)

    return make


def execute_notebook(name: str, params_file: Path, out_dir: Path, **parameters: Any) -> Path:
    """Execute notebooks/<name> through papermill with the given parameter file; return the
    executed notebook's path. Raises papermill's PapermillExecutionError on failure."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / name
    pm.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters={"params_file": str(params_file), **parameters},
        kernel_name="python3",
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        kernel_manager_class=kernels.kernel_manager_class(),
    )
    return out


@pytest.fixture(scope="session")
def methodology():
    """The default methodology (methodology/default.yaml), loaded once per session: a frozen
    model, so the modules reading it may share it."""
    from pipeline.config.methodology import load_methodology

    return load_methodology(DEFAULT_METHODOLOGY)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of the Chromium binary (installed when missing and allowed); skips with the
    reason where it cannot be had, fails under CI=true."""
    path = chromium_helper.find_chromium()
    if path is None:
        chromium_helper.install_chromium()
        path = chromium_helper.find_chromium()
    if path is None:
        chromium_helper.skip_or_fail("Chromium не найден и не может быть установлен (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    """One headless Chromium for the whole session, driven over DevTools (tests/chromium.py)."""
    with chromium_helper.launch(chromium) as client:
        yield client


@pytest.fixture(scope="session")
def tab(browser):
    """One tab of that browser navigated from page to page (tests/chromium.py: Tab), for the
    checks of a loaded page (accessibility, print); the tests that watch a page's loading
    (test_browser) open a fresh tab each."""
    opened = chromium_helper.Tab(browser)
    yield opened
    opened.close()


# ---------------------------------------------------------------------------- the order of modules

# The modules that take longest (measured with --durations on the whole suite, 2026-12-07; the
# first seven re-ordered by their CPU measured with tests/cputime.py the same day: accessibility
# 240 s, corpus 130, documents_site 109, progress 86, print 75, generations 65, runner 61),
# longest first. They are collected first, so that pytest-xdist (`make test`: --dist loadscope
# --no-loadscope-reorder, a module on one worker) starts them first and no long module is left
# running alone at the end. test_accessibility builds the shared sample run and the examples'
# (below); the other readers of the sample (print, measures, golden) come after the first long
# modules, so the other worker seldom waits for that build. Only the order changes; the rest
# keep theirs.
SLOW_FIRST = (
    "test_accessibility.py", "test_corpus.py", "test_documents_site.py", "test_progress.py", "test_print.py",
    "test_generations.py", "test_runner.py", "test_site.py", "test_documents.py", "test_kernels.py", "test_hostile.py",
    "test_collection_round.py", "test_formats.py", "test_verify.py", "test_measures.py", "test_browser.py",
    "test_redaction.py", "test_clean.py", "test_parallel.py", "test_excel.py", "test_csv_formulas.py",
    "test_benchmarks.py", "test_fast.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# ---------------------------------------------------------------------------- shared session runs

# how long a worker waits for another one building the same shared folder before it gives up
SHARED_WAIT = 30 * 60


def _lock(path: Path, wait: float) -> int:
    """An exclusive fcntl lock on path (created), waited for at most `wait` seconds."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                os.close(fd)
                pytest.fail(f"общая папка тестов {path.stem} не собрана за {wait:.0f} с (блокировка {path})")
            time.sleep(0.2)


def shared_folder(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder that build(folder) fills once per test run. Under pytest-xdist every worker
    has its own session: the first worker to ask builds it in the run's common temporary
    folder under a file lock, the others wait for it and reuse it (the recipe of xdist's
    documentation). A failed build is remembered, so later askers fail at once with its
    reason instead of building again. Readers must not write into it (copy_shared for that)."""
    common = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        common = common.parent  # one per run, the workers' own folders inside
    folder, failed = common / f"shared-{name}", common / f"shared-{name}.failed"
    fd = _lock(common / f"shared-{name}.lock", SHARED_WAIT)
    try:
        if failed.is_file():
            pytest.fail(f"общая папка тестов {name} не собрана: {failed.read_text(encoding='utf-8')}")
        if not (folder / ".built").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                build(folder)
            except BaseException as e:
                failed.write_text(f"{type(e).__name__}: {e}"[:2000], encoding="utf-8")
                raise
            (folder / ".built").touch()
    finally:
        os.close(fd)
    return folder


def copy_shared(folder: Path, dest: Path) -> Path:
    """A private copy of a shared folder for a test that writes into its outputs: the
    absolute paths in its parameter files re-pointed at the copy. Returns dest."""
    shutil.copytree(folder, dest, symlinks=True)
    for path in (dest / "params").rglob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace(str(folder), str(dest)), encoding="utf-8")
    return dest


def _run_all(params_src: Path) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        from pipeline import cli

        params_dir = copy_params_dir(params_src, root)
        assert cli.main(["run", "--all", "--params-dir", str(params_dir), "--quiet"]) == 0

    return build


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory) -> Path:
    """The embedded sample, every year, run once through the whole pipeline (copy_params_dir's
    layout: root/params, root/data/processed, root/reports) for the tests that only read what
    it wrote. Do not write into it: copy_shared(sample_root, tmp_path / "x") for that."""
    return shared_folder(tmp_path_factory, "sample", _run_all(ROOT / "params"))


@pytest.fixture(scope="session")
def sample_reports(sample_root) -> Path:
    """The sample run's reports/ folder (print, accessibility). Do not write into it."""
    return sample_root / "reports"


def _crafted(hostile: bool) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        from report_data import build_site

        build_site(root, hostile=hostile)

    return build


@pytest.fixture(scope="session")
def crafted_site(tmp_path_factory) -> Path:
    """The hand-built history of tests/report_data.py with hostile strings from forms, its site
    built once per test run (build_site: root/params, root/processed, root/reports); returns
    reports/. Do not write into it (copy it first)."""
    return shared_folder(tmp_path_factory, "crafted-hostile", _crafted(True)) / "reports"


@pytest.fixture(scope="session")
def crafted_site_plain(tmp_path_factory) -> Path:
    """The same history without the hostile strings, built once per test run; returns reports/."""
    return shared_folder(tmp_path_factory, "crafted-plain", _crafted(False)) / "reports"


EXAMPLES = sorted(p.name for p in (ROOT / "params" / "examples").iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def example_root(tmp_path_factory) -> Callable[[str], Path]:
    """example_root(name) -> the example municipality params/examples/<name> run once through
    the whole pipeline (same layout as sample_root). Do not write into it."""
    return lambda name: shared_folder(tmp_path_factory, f"example-{name}", _run_all(ROOT / "params" / "examples" / name))
