"""The project's own promises: dependencies in sync, a self-documenting Makefile, CI running the
README's test command, notebooks stored clean and parameterized by the stage convention."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from pipeline.notebooks import assigned_names, has_outputs, parameters_cell
from pipeline.runner import STAGES

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean_and_parameterized(path):
    assert not has_outputs(path), f"{path.name} has outputs: make strip"
    cell = parameters_cell(path)
    assert cell is not None, f"{path.name} has no cell tagged 'parameters'"
    assert {"params_file", "output_dir"} <= assigned_names(cell.source)
