"""Parameter sets: the three shipped years load; every kind of mistake is named in Russian."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.core.errors import ParamsError, PipelineError
from pipeline.config.params import discover_params, load_params

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_shipped_years_load(year):
    p = load_params(ROOT / "params" / f"{year}.yaml")
    assert p.year == year
    assert p.academic_year == f"{year - 1}-{year}"
    assert p.raw_dir == ROOT / "data" / "raw" / str(year)
    assert p.processed_dir == ROOT / "data" / "processed" / str(year)
    assert p.reports_dir == ROOT / "reports" / str(year)
    assert p.site_dir == ROOT / "reports"
    assert p.methodology.is_file()
    assert set(p.targets) == {"T1", "T2", "T3", "T4", "T5", "T6.1", "T6.2", "T7", "T8", "T9"}
    if year == 2024:
        assert p.previous_params is None
    else:
        assert p.previous_params == ROOT / "params" / f"{year - 1}.yaml"


def test_discover_orders_years():
    assert [p.stem for p in discover_params(ROOT / "params")] == ["2024", "2025", "2026"]


def _write(tmp_path, mutate) -> Path:
    data = yaml.safe_load((ROOT / "params" / "2026.yaml").read_text(encoding="utf-8"))
    data.update(raw_dir=str(ROOT / "data" / "raw" / "2026"), methodology=str(ROOT / "methodology" / "default.yaml"),
                previous_params=None)
    mutate(data)
    path = tmp_path / "year.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _error(tmp_path, mutate) -> ParamsError:
    with pytest.raises(ParamsError) as info:
        load_params(_write(tmp_path, mutate))
    return info.value


def test_unknown_key_is_named(tmp_path):
    err = _error(tmp_path, lambda d: d.update(wieghts={"checklist": 0.5}))
    assert err.key == "wieghts"
    assert "неизвестный ключ" in str(err) and "year.yaml" in str(err)


def test_unknown_nested_key_is_named(tmp_path):
    err = _error(tmp_path, lambda d: d["levels"].update(hihg=80))
    assert err.key == "levels.hihg"


def test_wrong_type_is_named(tmp_path):
    err = _error(tmp_path, lambda d: d.update(cluster_threshold="пятьсот"))
    assert err.key == "cluster_threshold"
    assert "целое число" in str(err)


def test_missing_key_is_named(tmp_path):
    err = _error(tmp_path, lambda d: d.pop("academic_year"))
    assert err.key == "academic_year"
    assert "отсутствует" in str(err)


def test_academic_year_must_end_in_year(tmp_path):
    err = _error(tmp_path, lambda d: d.update(academic_year="2024-2025"))
    assert "2024-2025" in str(err)


def test_levels_must_be_ordered(tmp_path):
    err = _error(tmp_path, lambda d: d.update(levels={"high": 40, "medium": 60}))
    assert err.key == "levels"


def test_weight_out_of_range(tmp_path):
    err = _error(tmp_path, lambda d: d.update(weights={"checklist": 1.5}))
    assert err.key == "weights.checklist"
    assert "не больше 1" in str(err)


def test_missing_raw_dir(tmp_path):
    err = _error(tmp_path, lambda d: d.update(raw_dir=str(tmp_path / "nowhere")))
    assert err.key == "raw_dir" and "не найдена" in str(err)


def test_missing_methodology(tmp_path):
    err = _error(tmp_path, lambda d: d.update(methodology="nope.yaml"))
    assert err.key == "methodology"


def test_missing_params_file(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(tmp_path / "2031.yaml")
    assert "не найден" in str(info.value)


def test_not_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("year: [2026\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(path)
    assert "YAML" in str(info.value)


def test_relative_paths_resolve_against_file(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "m.yaml").write_bytes((ROOT / "methodology" / "default.yaml").read_bytes())
    path = _write(tmp_path, lambda d: d.update(raw_dir="raw", methodology="m.yaml", processed_dir="out/p"))
    p = load_params(path)
    assert p.raw_dir == tmp_path / "raw"
    assert p.processed_dir == tmp_path / "out" / "p"


def test_errors_render_one_sentence_with_advice():
    err = ParamsError("params/2026.yaml", "year", "ожидается целое число")
    assert str(err).startswith("Файл параметров «params/2026.yaml», ключ «year»: ожидается целое число.")
    assert str(err).endswith("Исправьте файл параметров и запустите снова.")
    assert isinstance(err, PipelineError)
