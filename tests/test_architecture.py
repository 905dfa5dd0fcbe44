"""The package's shape (ARCHITECTURE.md): layers import one way with no cycle, and the recipes
for the two commonest changes are true — a да/нет field of the form and a kind of target are
added through their declarations alone, and every stage then carries them."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from pydantic import BaseModel, ConfigDict

import formbuilder
from conftest import DEFAULT_METHODOLOGY, write_params
from pipeline.config import targets as target_kinds
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.form import template as form_template
from pipeline.form.registry import read_registry
from pipeline.io import storage
from pipeline.report import context as report_context
from pipeline.report import sections as report_sections
from pipeline.stages import clean, ingest, recommendations
from pipeline.stages import followup
from pipeline.stages import score as scoring

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

# Layers from the bottom up; a module may import its own layer or a lower one (ARCHITECTURE.md).
LAYERS = ("core", "fast", "io", "config", "form", "stages", "report", "run", "sample", "cli", "__main__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """module → the pipeline modules it imports (at any level of the file: lazy ones too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                    targets = ([stem] if node.module else []) + [f"{stem}.{a.name}" for a in node.names]
                else:
                    targets = [node.module or ""]
                    targets += [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t.startswith("pipeline") and t != name and t != "pipeline":
                    found.add(t)
        graph[name] = found
    return graph


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_layers_import_one_way():
    wrong = []
    for module, deps in _imports().items():
        if module == "pipeline":
            continue
        for dep in deps:
            a, b = _layer(module), _layer(dep)
            if LAYERS.index(b) > LAYERS.index(a):
                wrong.append(f"{module} → {dep}")
    assert not wrong, "imports against the layers of ARCHITECTURE.md: " + ", ".join(sorted(wrong))


def test_no_import_cycle():
    graph = _imports()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_every_layer_named_in_architecture_md_exists():
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for layer in LAYERS[:8]:
        assert (PACKAGE / layer).is_dir(), layer
        assert f"pipeline/{layer}/" in text, f"ARCHITECTURE.md does not describe pipeline/{layer}/"
    for path in re.findall(r"`(pipeline/[\w/]+\.py)`", text):
        assert (PACKAGE.parent / path).is_file(), f"ARCHITECTURE.md names {path}, which does not exist"


# ------------------------------------------------------------------ recipes: one year in process


def _run_year(params_file: Path) -> dict[str, pd.DataFrame]:
    """The five stages as the notebooks call them, in this process (so a kind registered by a
    test is known), writing to the year's folders; returns every processed table."""
    params = load_params(params_file)
    m = load_methodology(params.methodology)
    out = params.processed_dir
    raw = ingest.load_raw(params)
    storage.write_tables(out, ingest.run(raw, m, params))
    forms_long, files = clean.read_inputs(out)
    storage.write_tables(out, clean.run(forms_long, files, read_registry(Path(params.raw_dir) / "registry.csv"), m, params))
    read = lambda name: storage.read_table(out, name)  # noqa: E731
    storage.write_tables(out, scoring.run(read("checklist.csv"), read("staff.csv"), read("profile.csv"), m, params))
    result = recommendations.run(params, m, read("scores.csv"), read("positions.csv"), read("targets_school.csv"),
                                 profile=read("profile.csv"), targets_municipal=read("targets_municipal.csv"),
                                 previous=followup.load_previous(params))
    storage.write_tables(out, result.tables)
    return {p.name: storage.read_table(out, p.name) for p in sorted(Path(out).glob("*.csv"))}


def _report_text(params_file: Path) -> str:
    params = load_params(params_file, check_files=False)
    ctx = report_context.build_context(params, load_methodology(params.methodology))
    return "\n".join(str(s.render(ctx)) for s in report_sections.SECTIONS)


def _year_with(tmp_path: Path, methodology: dict[str, Any], targets: dict[str, float],
               forms: dict[str, dict[str, Any]]) -> Path:
    mfile = tmp_path / "methodology.yaml"
    mfile.write_text(yaml.safe_dump(methodology, allow_unicode=True, sort_keys=False), encoding="utf-8")
    m = load_methodology(mfile)
    files = {f"{code}.xlsx": formbuilder.form_bytes(m, formbuilder.good_values(m, code, **over)) for code, over in forms.items()}
    raw = formbuilder.raw_folder(tmp_path / "raw", files)
    base = yaml.safe_load((DEFAULT_METHODOLOGY.parents[1] / "params" / "2026.yaml").read_text(encoding="utf-8"))
    return write_params(tmp_path, raw_dir=raw, methodology=str(mfile), targets={**base["targets"], **targets})


def _default() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_METHODOLOGY.read_text(encoding="utf-8"))


def test_recipe_a_yesno_field_through_the_methodology_file_alone(tmp_path):
    """ARCHITECTURE.md «add a form field»: one entry in the methodology's form.info (and, to use
    it, a target that names it); the template, the reader, clean, score and the report follow."""
    meth = _default()
    meth["form"]["info"].append({"key": "plan_approved", "label": "План методической работы утверждён", "type": "yesno"})
    meth["targets"].append({"code": "T10", "name": "План методической работы утверждён приказом",
                            "measure": {"kind": "flag", "field": "plan_approved"}, "scope": ["school", "municipal"],
                            "recommendation": "Утвердить план методической работы приказом руководителя."})
    params_file = _year_with(tmp_path, meth, {"T10": 100}, {
        "0107": {"info.plan_approved": "да"}, "0108": {"info.plan_approved": "нет"}, "0201": {"info.plan_approved": "Да "}})

    # the template asks for it, with the да/нет list
    params = load_params(params_file)
    written = form_template.write_template(params, tmp_path / "blank")
    ws = load_workbook(written[0])["Сведения"]
    row = next(c.row for c in ws["A"] if c.value == "План методической работы утверждён")
    assert any(f"B{row}" in str(dv.sqref) and "да" in str(dv.formula1) for dv in ws.data_validations.dataValidation)

    tables = _run_year(params_file)
    profile = tables["profile.csv"].set_index("school_code")
    assert profile["plan_approved"].astype(str).str.lower().tolist() == ["true", "false", "true"]
    t10 = tables["targets_school.csv"].query("target == 'T10'").set_index("school_code")["status"]
    assert t10.to_dict() == {"0107": "met", "0108": "not_met", "0201": "met"}
    municipal = tables["targets_municipal.csv"].set_index("target").loc["T10"]
    assert (int(municipal["numerator"]), int(municipal["denominator"])) == (2, 3)
    recs = tables["recommendations.csv"]
    assert recs.query("indicator_code == 'T10'")["school_code"].tolist() == ["0108"]

    report = _report_text(params_file)
    assert "План методической работы утверждён приказом" in report      # the target's row
    appendix = re.search(r"Сведения об ОО \(лист «Сведения»\):[^<]*", report)
    assert appendix and "план методической работы утверждён" in appendix.group(0).lower()   # the methodology appendix


class _RatioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["ratio_test"]
    part: str
    whole: str


class _RatioKind(target_kinds.TargetKind):
    """A test kind: part / whole of two «Кадры» counts, in %, ≥ the year's value."""

    name: ClassVar[str] = "ratio_test"
    Spec = _RatioSpec

    def check(self, spec, m, file, code):
        from pipeline.core.errors import MethodologyError

        for c in (spec.part, spec.whole):
            if c not in m.staff_codes:
                raise MethodologyError(file, code, f"«{c}» — не показатель листа «Кадры»")

    def school(self, spec, m, profile, staff, goal):
        part, whole = staff[spec.part].astype("float64"), staff[spec.whole].astype("float64")
        value = (part * 100).where(whole > 0) / whole.where(whole > 0)
        status = pd.Series("not_met", index=profile.index, dtype="object")
        status[target_kinds.at_least(value, goal)] = "met"
        status[whole == 0] = "not_applicable"
        return value, status

    def municipal(self, spec, m, profile, staff, goal):
        return int(staff[spec.part].sum()), int(staff[spec.whole].sum()), goal


@pytest.fixture
def ratio_kind(monkeypatch):
    monkeypatch.setitem(target_kinds.KINDS, _RatioKind.name, _RatioKind())
    return _RatioKind


def test_recipe_a_target_kind_is_one_class(tmp_path, ratio_kind):
    """ARCHITECTURE.md «add a target kind»: a class registered in pipeline/config/targets.py
    (here registered by the test, as @register does); a methodology then names it, and load-time
    checks, score, recommendations and the report use it with no other change."""
    meth = _default()
    meth["targets"].append({"code": "T11", "name": "Доля победителей среди участников конкурсов",
                            "measure": {"kind": "ratio_test", "part": "P3", "whole": "P2"}, "scope": ["school", "municipal"],
                            "recommendation": "Готовить участников конкурсов вместе с наставниками."})
    params_file = _year_with(tmp_path, meth, {"T11": 40}, {
        "0107": {"staff__P2": 5, "staff__P3": 3}, "0108": {"staff__P2": 5, "staff__P3": 1}, "0201": {"staff__P2": 0, "staff__P3": 0}})
    tables = _run_year(params_file)
    t11 = tables["targets_school.csv"].query("target == 'T11'").set_index("school_code")
    assert t11["status"].to_dict() == {"0107": "met", "0108": "not_met", "0201": "not_applicable"}
    assert t11.loc["0107", "value"] == pytest.approx(60.0)
    municipal = tables["targets_municipal.csv"].set_index("target").loc["T11"]
    assert (int(municipal["numerator"]), int(municipal["denominator"])) == (4, 10)
    assert tables["recommendations.csv"].query("indicator_code == 'T11'")["school_code"].tolist() == ["0108"]
    assert "Доля победителей среди участников конкурсов" in _report_text(params_file)

    # and its own check runs at load: an unknown count is refused, naming the file and target
    meth["targets"][-1]["measure"]["part"] = "P99"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(meth, allow_unicode=True, sort_keys=False), encoding="utf-8")
    from pipeline.core.errors import MethodologyError

    with pytest.raises(MethodologyError, match=r"bad\.yaml.*T11.*P99"):
        load_methodology(bad)
