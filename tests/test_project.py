"""The project's own promises: dependencies in sync, a self-documenting Makefile, CI running the
README's test command, notebooks stored clean and parameterized by the stage convention."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from pipeline.run.notebooks import assigned_names, has_outputs, parameters_cell
from pipeline.run.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _normalized(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        req = Requirement(spec)
        out[re.sub(r"[-_.]+", "-", req.name).lower()] = str(req.specifier)
    return out


def test_environment_yml_pip_list_equals_pyproject_dependencies():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    wanted = _normalized(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = [p for p in pip if not p.startswith("-")]  # "-e ." installs the project itself
    assert len(listed) == len(wanted), "a package is listed twice in environment.yml"
    assert _normalized(listed) == wanted
    assert "-e ." in pip


def test_make_help_lists_every_target():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    documented = re.findall(r"^([a-zA-Z_-]+):.*?## ", makefile, flags=re.M)
    defined = re.findall(r"^([a-zA-Z_-]+):(?!=)", makefile, flags=re.M)
    assert set(defined) == set(documented), "every target carries a ## comment"
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    for target in documented:
        assert re.search(rf"make {re.escape(target)}\s", done.stdout), target
    for target in ("setup", "report", "year", "test", "test-fast"):
        assert target in documented


def test_ci_runs_make_test():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert "make test" in commands


def test_every_runner_stage_has_its_notebook():
    names = {p.name for p in NOTEBOOKS}
    assert [s.notebook for s in STAGES if s.notebook not in names] == []


_STAGE_PARAMETERS = (
    'params_file = "../params/2026.yaml"  # файл параметров года\n'
    'output_dir = ""  # куда записать результаты этапа; пусто — processed_dir года'
)
_REPORT_PARAMETERS = (
    'params_file = "../params/2026.yaml"  # файл параметров года\n'
    'output_dir = ""  # куда записать отчёт года; пусто — reports_dir года'
)
# each stage notebook: its exact parameters cell and the pipeline call that does its work
NOTEBOOK_CONVENTION = {
    "01_ingest.ipynb": (_STAGE_PARAMETERS, "ingest.run("),
    "02_clean.ipynb": (_STAGE_PARAMETERS, "clean.run("),
    "03_score.ipynb": (_STAGE_PARAMETERS, "scoring.run("),
    "04_recommendations.ipynb": (_STAGE_PARAMETERS, "recommendations.run("),
    "05_report.ipynb": (_REPORT_PARAMETERS, "report."),
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean_and_parameterized(path):
    assert not has_outputs(path), f"{path.name} has outputs: make strip"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    cell = parameters_cell(path)
    assert {"params_file", "output_dir"} <= assigned_names(cell.source)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    if path.name in NOTEBOOK_CONVENTION:
        source, call = NOTEBOOK_CONVENTION[path.name]
        assert cell.source == source
        assert call in "".join(c.source for c in code)
