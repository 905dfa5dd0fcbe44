"""Shared test fixtures: a year's parameter set pointing at temporary folders, and a way to
execute a stage notebook through papermill exactly as the runner does."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

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
def sample_reports(tmp_path_factory) -> Path:
    """The embedded sample, every year, run once through the whole pipeline for the tests that
    only read what it publishes (print, accessibility): its reports/ folder. Do not write into it."""
    from pipeline import cli

    root = tmp_path_factory.mktemp("sample-reports")
    params_dir = copy_params_dir(ROOT / "params", root)
    assert cli.main(["run", "--all", "--params-dir", str(params_dir), "--quiet"]) == 0
    return root / "reports"
