"""Methodology files: the shipped ones load; hard mistakes stop with a message naming the
file and the element; soft ones become warnings carried into the report; the year's target
values must match the methodology's targets."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import pytest
import yaml

from conftest import DEFAULT_METHODOLOGY, ROOT
from pipeline.core.errors import MethodologyError, ParamsError
from pipeline.config.methodology import check_targets, load_methodology
from pipeline.config.params import load_params

BINARY = ROOT / "methodology" / "binary.yaml"
BASE = yaml.safe_load(DEFAULT_METHODOLOGY.read_text(encoding="utf-8"))


def write(tmp_path: Path, mutate) -> Path:
    data = copy.deepcopy(BASE)
    mutate(data)
    path = tmp_path / "methodology.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_default_methodology():
    m = load_methodology(DEFAULT_METHODOLOGY)
    assert len(m.positions) == 20 and m.max_points == 40
    assert [c.code for c in m.criteria] == ["K1", "K2", "K3", "K4", "K5", "K6"]
    assert all(p.scale == [0, 1, 2] and p.evidence_required and p.recommendation for p in m.positions)
    assert m.index_shares == ["S1", "S2", "S3", "S4", "S5"]
    assert [t.code for t in m.targets] == ["T1", "T2", "T3", "T4", "T5", "T6.1", "T6.2", "T7", "T8", "T9"]
    assert len(m.department.rmo_directions) == 23
    assert m.sha256 == hashlib.sha256(DEFAULT_METHODOLOGY.read_bytes()).hexdigest()
    assert m.position("M2.1").criterion == "K2"
    assert m.criterion_name("K4") == "Наличие системы аналитической деятельности"
    assert m.share("S7").denominator == "P7"
    assert m.target("T8").measure.among == "low_results"


def test_declared_maximum_mismatch_is_a_warning():
    m = load_methodology(DEFAULT_METHODOLOGY)   # order № 370 declares 42, positions sum to 40
    assert len(m.warnings) == 1
    assert "(42)" in m.warnings[0] and "(40)" in m.warnings[0] and "используется 40" in m.warnings[0]


def test_binary_methodology_loads_without_warnings():
    m = load_methodology(BINARY)
    d = load_methodology(DEFAULT_METHODOLOGY)
    assert m.warnings == () and m.max_points == 20 and m.declared_max == 20
    assert all(p.scale == [0, 1] for p in m.positions)
    assert [(p.code, p.criterion) for p in m.positions] == [(p.code, p.criterion) for p in d.positions]
    assert m.shares == d.shares and m.targets == d.targets


def test_declared_maximum_matching_gives_no_warning(tmp_path):
    assert load_methodology(write(tmp_path, lambda d: d.update(declared_max=40))).warnings == ()
    assert load_methodology(write(tmp_path, lambda d: d.pop("declared_max"))).warnings == ()


@pytest.mark.parametrize(
    "mutate, key, words",
    [
        (lambda d: d["positions"].append(copy.deepcopy(d["positions"][0])), "M1", "дважды"),
        (lambda d: d["criteria"].append({"code": "K1", "name": "x"}), "K1", "дважды"),
        (lambda d: d["shares"].append(copy.deepcopy(d["shares"][0])), "S1", "дважды"),
        (lambda d: d["targets"].append(copy.deepcopy(d["targets"][0])), "T1", "дважды"),
        (lambda d: d["positions"][3].update(criterion="K9"), "M2", "неизвестный критерий «K9»"),
        (lambda d: d["positions"][0].update(scale=[1, 2]), "M1", "шкала"),
        (lambda d: d["positions"][0].update(scale=[0, 1, 1]), "M1", "шкала"),
        (lambda d: d["positions"][0].update(scale=[0]), "M1.scale", "не меньше 2"),
        (lambda d: d["positions"][0].update(scale=[0, 1.5]), "M1.scale.1", "целое число"),
        (lambda d: d["positions"][2].update(evidence_required="иногда"), "M1.2.evidence_required", "true или false"),
        (lambda d: d.update(criteria=[]), "M1", "неизвестный критерий «K1»"),     # positions need their criteria
        (lambda d: d["positions"][0].pop("recommendation"), "M1.recommendation", "обязательный ключ отсутствует"),
        (lambda d: d["positions"][0].update(weight=2), "M1.weight", "неизвестный ключ"),
        (lambda d: d["shares"][0].update(numerator="P12"), "S1", "P12"),
        (lambda d: d["targets"][0]["measure"].update(share="S9"), "T1", "S9"),
        (lambda d: d["targets"][0]["measure"].update(field="P6"), "T1.measure", "measure.field: неизвестный ключ"),
        (lambda d: d["targets"][1]["measure"].update(field="innovation"), "T2", "innovation"),
        (lambda d: d["targets"][8]["measure"].update(among="shnor"), "T8", "shnor"),
        (lambda d: d["targets"][7]["measure"].update(field="pupils"), "T7", "pupils"),
        (lambda d: d["targets"][7]["measure"].pop("field"), "T7.measure", "measure.field: обязательный ключ отсутствует"),
        (lambda d: d["targets"][7]["measure"].update(among="low_results"), "T7.measure", "measure.among: неизвестный ключ"),
        (lambda d: d["targets"][0]["measure"].update(kind="mean"), "T1.measure", "известны: share, flag, count"),
        (lambda d: d["targets"][0].update(scope=["region"]), "T1.scope.0", "'school', 'municipal'"),
    ],
)
def test_hard_errors_name_file_and_element(tmp_path, mutate, key, words):
    path = write(tmp_path, mutate)
    with pytest.raises(MethodologyError) as exc:
        load_methodology(path)
    assert exc.value.key == key
    assert str(path) in str(exc.value) and words in str(exc.value)
    assert str(exc.value).rstrip().endswith(".")


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(MethodologyError, match="не найден"):
        load_methodology(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("positions: [\n", encoding="utf-8")
    with pytest.raises(MethodologyError, match="YAML"):
        load_methodology(bad)
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(MethodologyError, match="словарь"):
        load_methodology(bad)


def test_soft_findings_are_warnings(tmp_path):
    def mutate(d):
        d["criteria"].append({"code": "K7", "name": "Пустой критерий"})
        for s in d["shares"]:
            s["in_activity_index"] = False

    m = load_methodology(write(tmp_path, mutate))
    text = " ".join(m.warnings)
    assert "K7" in text and "in_activity_index" in text
    assert m.index_shares == []


def test_check_targets(make_params):
    m = load_methodology(DEFAULT_METHODOLOGY)
    params = load_params(make_params())
    check_targets(m, params)   # the shipped year matches
    with pytest.raises(ParamsError) as exc:
        check_targets(m, load_params(make_params(targets={"T50": 50})))
    assert exc.value.key == "targets.T50" and "не описан в методике" in str(exc.value)
    missing = params.model_copy(update={"targets": {k: v for k, v in params.targets.items() if k != "T4"}})
    with pytest.raises(ParamsError) as exc:
        check_targets(m, missing)
    assert exc.value.key == "targets.T4" and "не задано значение" in str(exc.value)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_shipped_years_match_their_methodology(year):
    params = load_params(ROOT / "params" / f"{year}.yaml", check_files=False)
    check_targets(load_methodology(params.methodology), params)
