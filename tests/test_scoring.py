"""The score stage on hand-built clean tables: the evidence rule, shares, clusters, min-max
scaling (ties, a cluster of one, max = min, missing shares), totals, ranks and levels, a
school without a form, targets at school and municipal level (ratios of sums), the binary
methodology, determinism, and the notebook executed through papermill.

Expected values are worked out by hand in each test, not copied from the code's output."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pandas as pd
import pytest

import formbuilder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_METHODOLOGY, ROOT, execute_notebook

from pipeline.core.contract import LEVELS, OUTPUTS, TARGET_STATUSES
from pipeline.core.errors import ParamsError, PipelineError
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.io.storage import read_table, to_csv_bytes, write_tables
from pipeline.stages import score as stages_score

METH = load_methodology(DEFAULT_METHODOLOGY)
BINARY = load_methodology(ROOT / "methodology" / "binary.yaml")
POS = [p.code for p in METH.positions]
BIG, SMALL, BASIC = "СОШ>500", "СОШ≤500", "ООШ"
CLUSTERS = (BIG, SMALL, BASIC)

# --------------------------------------------------------------------------- builders


def profile_df(*schools: dict) -> pd.DataFrame:
    """Registry schools; each dict overrides the defaults (a submitted СОШ of 300 pupils)."""
    rows = []
    for s in schools:
        row = {
            "school_code": s["school_code"], "school_name": f"Школа {s['school_code']}", "school_type": "СОШ",
            "submitted": True, "file": f"{s['school_code']}.xlsx", "pupils": 300,
            "innovation_site": False, "low_results": False, "low_results_support": None, "staffing_monitoring": True,
            "responsible": "Иванова И. И.", "filled_date": "2026-05-20",
        }
        row.update(s)
        if not row["submitted"]:
            row.update(file=None, pupils=None, innovation_site=None, low_results=None, low_results_support=None,
                       staffing_monitoring=None, responsible=None, filled_date=None)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(formbuilder.FORM.profile_columns))


def staff_df(rows: dict[str, dict]) -> pd.DataFrame:
    """Staff counts; unspecified P fields: P0 = 10, the rest 0."""
    out = []
    for code, over in rows.items():
        row = {"school_code": code, "P0": 10, **{f"P{i}": 0 for i in range(1, 10)}}
        row.update(over)
        out.append(row)
    return pd.DataFrame(out, columns=["school_code", *formbuilder.FORM.staff_codes])


def checklist_df(rows: dict[str, dict], methodology=METH) -> pd.DataFrame:
    """rows[code] = {position: score or (score, document)}; unspecified positions score 0
    with a document; a "*" key sets the default score of every unspecified position."""
    out = []
    for code, over in rows.items():
        default = over.get("*", 0)
        for p in methodology.positions:
            v = over.get(p.code, default)
            score, doc = v if isinstance(v, tuple) else (v, "Приказ № 12 от 01.09.2025")
            out.append({
                "school_code": code, "position": p.code, "score": score,
                "score_raw": "" if score is None else str(score), "document": doc,
                "link": "https://school.example/doc", "link_ok": True, "file": f"{code}.xlsx", "cell": "C2",
            })
    return pd.DataFrame(out, columns=OUTPUTS["clean"]["checklist.csv"])


@pytest.fixture
def params(make_params):
    return load_params(make_params())


def run(profile, staff, checklist, params, methodology=METH):
    return stages_score.run(checklist, staff, profile, methodology, params)


def row(df: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(df), dtype=bool)
    for k, v in keys.items():
        mask &= (df[k] == v).to_numpy()
    assert mask.sum() == 1, keys
    return df.loc[mask].iloc[0]


# --------------------------------------------------------------------------- checklist


def test_evidence_rule_and_missing_scores(params):
    prof = profile_df({"school_code": "001"})
    chk = checklist_df({"001": {
        "M1": (2, None),            # 2 without a document → 0, not confirmed
        "M1.1": (2, "Приказ № 5"),  # 2 with a document → 2
        "M1.2": (1, "   "),         # a blank document is no document → 0
        "M2": (1, "План"),          # 1 with a document → 1
        "M2.1": (None, None),       # not scored → 0, nothing claimed
        "M2.2": (0, None),          # honest 0 → 0, nothing to confirm
    }})
    out = run(prof, staff_df({"001": {}}), chk, params)
    pos = out["positions.csv"]
    assert len(pos) == 20
    assert list(pos["position"]) == POS
    m1 = row(pos, position="M1")
    assert (m1["claimed"], m1["points"], m1["max_points"], m1["confirmed"]) == (2, 0, 2, False)
    assert row(pos, position="M1.1")[["points", "confirmed"]].tolist() == [2, True]
    assert row(pos, position="M1.2")[["claimed", "points", "confirmed"]].tolist() == [1, 0, False]
    assert row(pos, position="M2")[["points", "confirmed"]].tolist() == [1, True]
    m21 = row(pos, position="M2.1")
    assert pd.isna(m21["claimed"]) and m21["points"] == 0 and pd.isna(m21["confirmed"])
    m22 = row(pos, position="M2.2")
    assert m22["claimed"] == 0 and pd.isna(m22["confirmed"])

    s = out["scores.csv"].iloc[0]
    # counted: M1.1 = 2, M2 = 1 → 3 of 40
    assert s["checklist_points"] == 3
    assert s["checklist_max"] == 40
    assert s["checklist_pct"] == pytest.approx(7.5)


def test_evidence_not_required_counts_without_document(tmp_path, make_params):
    import yaml

    data = yaml.safe_load(DEFAULT_METHODOLOGY.read_text(encoding="utf-8"))
    data["positions"][0]["evidence_required"] = False  # M1
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    m = load_methodology(path)
    p = load_params(make_params(methodology=str(path)))
    out = run(profile_df({"school_code": "001"}), staff_df({"001": {}}),
              checklist_df({"001": {"M1": (2, None), "M1.1": (2, None)}}), p, m)
    pos = out["positions.csv"]
    assert row(pos, position="M1")[["points", "confirmed"]].tolist() == [2, True]
    assert row(pos, position="M1.1")[["points", "confirmed"]].tolist() == [0, False]


def test_criteria_subtotals_in_methodology_order(params):
    # K1 = M1, M1.1, M2, M2.2 (max 8); K2 = M2.1, M7.2 (max 4); K6 = M7.5, M9 (max 4)
    chk = checklist_df({"001": {"M1": 2, "M1.1": 1, "M2": 2, "M2.2": 0, "M2.1": 1, "M7.5": (2, None), "M9": 2}})
    out = run(profile_df({"school_code": "001"}), staff_df({"001": {}}), chk, params)
    crit = out["criteria.csv"]
    assert list(crit["criterion"]) == ["K1", "K2", "K3", "K4", "K5", "K6"]
    k1 = row(crit, criterion="K1")
    assert (k1["points"], k1["max_points"], k1["pct"]) == (5, 8, pytest.approx(62.5))
    k2 = row(crit, criterion="K2")
    assert (k2["points"], k2["max_points"], k2["pct"]) == (1, 4, pytest.approx(25.0))
    k6 = row(crit, criterion="K6")  # M7.5 unconfirmed
    assert (k6["points"], k6["max_points"], k6["pct"]) == (2, 4, pytest.approx(50.0))
    assert crit["max_points"].sum() == 40
    assert out["scores.csv"].iloc[0]["checklist_points"] == 5 + 1 + 2


def test_score_outside_the_scale_is_refused(params):
    chk = checklist_df({"001": {"M1": 3}})
    with pytest.raises(PipelineError, match="вне шкалы"):
        run(profile_df({"school_code": "001"}), staff_df({"001": {}}), chk, params)


def test_unknown_position_and_stray_school_are_refused(params):
    prof = profile_df({"school_code": "001"}, {"school_code": "002", "submitted": False})
    chk = checklist_df({"001": {}})
    bad = pd.concat([chk, chk.iloc[[0]].assign(position="M99")], ignore_index=True)
    with pytest.raises(PipelineError, match="M99"):
        run(prof, staff_df({"001": {}}), bad, params)
    with pytest.raises(PipelineError, match="002"):
        run(prof, staff_df({"001": {}}), checklist_df({"001": {}, "002": {}}), params)
    with pytest.raises(PipelineError, match="002"):
        run(prof, staff_df({"001": {}, "002": {}}), chk, params)


# --------------------------------------------------------------------------- shares and clusters


def test_shares_in_percent_and_p7_zero(params):
    prof = profile_df({"school_code": "001"}, {"school_code": "002"})
    staff = staff_df({
        "001": {"P0": 40, "P1": 10, "P2": 4, "P3": 1, "P4": 2, "P5": 12, "P6": 40, "P7": 0, "P8": 0},
        "002": {"P0": 8, "P1": 1, "P7": 3, "P8": 2},
    })
    out = run(prof, staff, checklist_df({"001": {}, "002": {}}), params)
    s = out["scores.csv"].set_index("school_code")
    assert s.loc["001", ["S1", "S2", "S3", "S4", "S5", "S6"]].tolist() == pytest.approx([25, 10, 2.5, 5, 30, 100])
    assert pd.isna(s.loc["001", "S7"])                      # P7 = 0: not applicable
    assert s.loc["002", "S1"] == pytest.approx(12.5)
    assert s.loc["002", "S7"] == pytest.approx(200 / 3)
    ts = out["targets_school.csv"]
    t4 = row(ts, school_code="001", target="T4")
    assert t4["status"] == "not_applicable" and pd.isna(t4["value"])
    assert row(ts, school_code="002", target="T4")["status"] == "not_met"
    assert row(ts, school_code="001", target="T3")["status"] == "met"   # 30 ≥ 30 exactly
    # municipal T4 counts only schools with young teachers: (0 + 2) / (0 + 3)
    t4m = row(out["targets_municipal.csv"], target="T4")
    assert (t4m["numerator"], t4m["denominator"]) == (2, 3)
    assert t4m["value"] == pytest.approx(200 / 3)


def test_share_with_zero_or_missing_denominator_is_empty():
    staff = pd.DataFrame({"school_code": ["a", "b", "c"], **{f"P{i}": [0.0, np.nan, 10.0] for i in range(10)}})
    staff.loc[2, "P1"] = np.nan
    sh = stages_score.compute_shares(staff, METH)
    assert sh["S1"].isna().all()
    assert sh.loc[2, "S2"] == 100.0  # 10 of 10


def test_clusters_by_type_and_pupils(params, make_params):
    prof = stages_score.prepare_profile(profile_df(
        {"school_code": "01", "school_type": "СОШ", "pupils": 500},
        {"school_code": "02", "school_type": "СОШ", "pupils": 501},
        {"school_code": "03", "school_type": "Гимназия", "pupils": 900},
        {"school_code": "04", "school_type": "Лицей", "pupils": 0},
        {"school_code": "05", "school_type": "ЦО", "pupils": 1200},
        {"school_code": "06", "school_type": "ООШ", "pupils": 650},
        {"school_code": "07", "school_type": "НОШ", "pupils": 40},
        {"school_code": "08", "school_type": "СОШ", "pupils": None},
        {"school_code": "09", "school_type": "ООШ", "submitted": False},
    ), METH)
    got = stages_score.assign_clusters(prof, METH, 500).tolist()
    assert got[:7] == [SMALL, BIG, BIG, SMALL, BIG, BASIC, BASIC]
    assert pd.isna(got[7]) and pd.isna(got[8])
    # the threshold is the year's parameter
    assert stages_score.assign_clusters(prof, METH, 450).tolist()[0] == "СОШ>450"  # labels follow the threshold


# --------------------------------------------------------------------------- activity index


def _index_case(params, shares_by_school: dict[str, dict], types=None):
    """Schools in one cluster (СОШ≤500) with P0 = 100, so Pi = Si in %."""
    types = types or {}
    prof = profile_df(*[{"school_code": c, **types.get(c, {})} for c in shares_by_school])
    staff = staff_df({c: {"P0": 100, **v} for c, v in shares_by_school.items()})
    out = run(prof, staff, checklist_df({c: {} for c in shares_by_school}), params)
    return out["scores.csv"].set_index("school_code")


def test_min_max_scaling_within_cluster(params):
    s = _index_case(params, {
        "a": {"P1": 10, "P2": 40, "P3": 0, "P4": 5, "P5": 20},
        "b": {"P1": 20, "P2": 40, "P3": 0, "P4": 5, "P5": 60},
        "c": {"P1": 30, "P2": 40, "P3": 0, "P4": 5, "P5": 40},
    })
    # S1: 10/20/30 → 0, .5, 1 · S2 all 40 (max = min > 0) → 1 · S3 all 0 → 0
    # S4 all 5 → 1 · S5: 20/60/40 → 0, 1, .5
    assert s.loc["a", ["S1_scaled", "S2_scaled", "S3_scaled", "S4_scaled", "S5_scaled"]].tolist() == [0, 1, 0, 1, 0]
    assert s.loc["b", "S5_scaled"] == 1 and s.loc["c", "S5_scaled"] == 0.5
    assert s.loc["a", "activity_index"] == pytest.approx((0 + 1 + 0 + 1 + 0) / 5 * 100)
    assert s.loc["b", "activity_index"] == pytest.approx((0.5 + 1 + 0 + 1 + 1) / 5 * 100)
    assert s.loc["c", "activity_index"] == pytest.approx((1 + 1 + 0 + 1 + 0.5) / 5 * 100)
    # checklist all 0 with w = 0.5: total = index / 2
    assert s.loc["b", "total_score"] == pytest.approx(35.0)


def test_scaling_is_per_cluster(params):
    s = _index_case(
        params,
        {"a": {"P1": 10}, "b": {"P1": 30}, "c": {"P1": 50}},
        types={"c": {"pupils": 800}},
    )
    assert s.loc["c", "cluster"] == BIG
    # a, b in СОШ≤500: 10 → 0, 30 → 1; c alone in СОШ>500: 50 > 0 → 1
    assert s.loc[["a", "b", "c"], "S1_scaled"].tolist() == [0, 1, 1]


def test_cluster_of_one_school(params):
    s = _index_case(params, {"solo": {"P1": 15, "P2": 0, "P3": 0, "P4": 3, "P5": 0}})
    # max = min: 1 where the share is above 0, else 0 → (1 + 0 + 0 + 1 + 0) / 5
    assert s.loc["solo", "activity_index"] == pytest.approx(40.0)
    assert s.loc["solo", "rank_in_cluster"] == 1


def test_all_zero_and_all_equal_nonzero(params):
    s = _index_case(params, {c: {"P1": 0, "P2": 7, "P3": 0, "P4": 0, "P5": 7} for c in ("a", "b", "c")})
    assert (s["S1_scaled"] == 0).all() and (s["S2_scaled"] == 1).all()
    assert (s["activity_index"] == 40.0).all()   # (0 + 1 + 0 + 0 + 1) / 5 × 100
    assert (s["rank_in_cluster"] == 1).all()


def test_missing_share_counts_zero_and_does_not_move_the_minimum(params):
    prof = profile_df({"school_code": "a"}, {"school_code": "b"}, {"school_code": "c"})
    staff = staff_df({"a": {"P0": 100, "P1": 20}, "b": {"P0": 100, "P1": 40}, "c": {"P0": 100, "P1": None}})
    s = run(prof, staff, checklist_df({"a": {}, "b": {}, "c": {}}), params)["scores.csv"].set_index("school_code")
    # min/max over reported values (20, 40): a → 0, b → 1; c missing → 0, not counted as 0 %
    assert s.loc[["a", "b", "c"], "S1_scaled"].tolist() == [0, 1, 0]
    assert pd.isna(s.loc["c", "S1"])


# --------------------------------------------------------------------------- total, rank, level


def test_ties_share_the_lower_rank(params):
    same = {"P1": 10, "P5": 30}
    s = _index_case(params, {"a": same, "b": {"P1": 20, "P5": 30}, "c": same, "d": {"P1": 0, "P5": 0}})
    # b is first; a and c tie for second; d is fourth ("1224")
    assert s.loc[["b", "a", "c", "d"], "rank_in_cluster"].tolist() == [1, 2, 2, 4]


def test_rank_tolerates_float_noise():
    total = pd.Series([0.1 + 0.2, 0.3, 0.2, np.nan, 0.5])
    cluster = pd.Series([SMALL, SMALL, SMALL, SMALL, pd.NA], dtype="string")
    ranks = stages_score.rank_in_cluster(total, cluster)
    assert ranks.iloc[:3].tolist() == [1, 1, 3]
    assert pd.isna(ranks.iloc[3]) and pd.isna(ranks.iloc[4])


def test_levels_and_zones_at_thresholds():
    total = pd.Series([100, 75, 75 - 1e-12, 74.9, 50, 49.99, 0, np.nan])
    level, zone = stages_score.assign_levels(total, 75, 50)
    assert level.tolist() == ["высокий", "высокий", "высокий", "средний", "средний", "низкий", "низкий", "нет данных"]
    assert zone.tolist()[:7] == ["зелёная", "зелёная", "зелёная", "жёлтая", "жёлтая", "красная", "красная"]
    assert pd.isna(zone.iloc[7])


def test_total_is_weighted_and_levels_follow_parameters(make_params):
    prof = profile_df({"school_code": "a"})
    staff = staff_df({"a": {"P0": 10, "P1": 5}})
    chk = checklist_df({"a": {"*": 2, "M1": 0, "M1.1": 0, "M1.2": 0, "M2": 0}})   # 32 of 40 = 80 %
    # alone in its cluster: S1 > 0 → 1, S2..S5 = 0 → 0: index 20
    p = load_params(make_params(weights={"checklist": 0.7}, levels={"high": 60, "medium": 40}))
    s = run(prof, staff, chk, p)["scores.csv"].iloc[0]
    assert s["checklist_pct"] == pytest.approx(80.0)
    assert s["activity_index"] == pytest.approx(20.0)
    assert s["total_score"] == pytest.approx(0.7 * 80 + 0.3 * 20)   # 62
    assert (s["level"], s["zone"]) == ("высокий", "зелёная")


# --------------------------------------------------------------------------- a school without a form


def test_school_without_form(params):
    prof = profile_df({"school_code": "001"}, {"school_code": "002", "submitted": False, "school_type": "ООШ"})
    out = run(prof, staff_df({"001": {}}), checklist_df({"001": {"*": 2}}), params)
    scores = out["scores.csv"]
    assert list(scores["school_code"]) == ["001", "002"]
    s = row(scores, school_code="002")
    assert s["submitted"] is False or s["submitted"] == False  # noqa: E712
    for col in ("cluster", "checklist_points", "checklist_max", "checklist_pct", "activity_index",
                "total_score", "rank_in_cluster", "zone", "S1", "S7"):
        assert pd.isna(s[col]), col
    assert s["level"] == "нет данных"
    assert s["school_name"] == "Школа 002"
    assert set(out["positions.csv"]["school_code"]) == {"001"}
    assert set(out["criteria.csv"]["school_code"]) == {"001"}
    ts = out["targets_school.csv"]
    assert (ts.loc[ts["school_code"] == "002", "status"] == "not_submitted").all()
    assert ts.loc[ts["school_code"] == "002", "value"].isna().all()
    # municipal denominators count only the school with a form
    assert (out["targets_municipal.csv"].set_index("target").loc[["T2", "T7", "T9"], "denominator"] == 1).all()
    assert "форма не представлена" in s["note"]


def test_nobody_submitted(params):
    prof = profile_df({"school_code": "001", "submitted": False})
    out = run(prof, staff_df({}), checklist_df({}), params)
    assert out["scores.csv"].iloc[0]["level"] == "нет данных"
    assert out["positions.csv"].empty and out["criteria.csv"].empty
    mun = out["targets_municipal.csv"]
    assert (mun["denominator"] == 0).all() and mun["value"].isna().all() and mun["met"].isna().all()


def test_submitted_school_without_pupils_is_not_ranked(params):
    prof = profile_df({"school_code": "a", "pupils": None}, {"school_code": "b"})
    out = run(prof, staff_df({"a": {}, "b": {}}), checklist_df({"a": {"*": 2}, "b": {}}), params)
    a = row(out["scores.csv"], school_code="a")
    assert a["checklist_pct"] == 100 and pd.isna(a["cluster"]) and pd.isna(a["total_score"])
    assert a["level"] == "нет данных" and pd.isna(a["rank_in_cluster"])
    assert "кластер не определён" in a["note"]


# --------------------------------------------------------------------------- targets


def test_flag_targets_school_and_municipal(params):
    prof = profile_df(
        {"school_code": "a", "low_results": True, "low_results_support": True, "innovation_site": True},
        {"school_code": "b", "low_results": True, "low_results_support": False, "staffing_monitoring": False},
        {"school_code": "c", "low_results": False, "low_results_support": True, "staffing_monitoring": None},
        {"school_code": "d", "low_results": None},
    )
    out = run(prof, staff_df({c: {} for c in "abcd"}), checklist_df({c: {} for c in "abcd"}), params)
    ts = out["targets_school.csv"]
    assert [row(ts, school_code=c, target="T8")["status"] for c in "abcd"] == ["met", "not_met", "not_applicable", "not_applicable"]
    assert [row(ts, school_code=c, target="T2")["status"] for c in "abcd"] == ["met", "not_met", "not_met", "met"]
    assert row(ts, school_code="a", target="T2")["value"] == 100
    assert row(ts, school_code="b", target="T2")["value"] == 0
    assert "T9" not in set(ts["target"])  # municipal only
    mun = out["targets_municipal.csv"].set_index("target")
    assert mun.loc["T8", ["numerator", "denominator"]].tolist() == [1, 2]
    assert mun.loc["T8", "value"] == 50 and not mun.loc["T8", "met"]
    assert mun.loc["T2", ["numerator", "denominator"]].tolist() == [2, 4]
    assert mun.loc["T9", ["numerator", "denominator"]].tolist() == [1, 4]
    assert mun.loc["T9", "value"] == 25 and mun.loc["T9", "met"]  # 25 ≥ 25


def test_count_target(params):
    prof = profile_df(*[{"school_code": c} for c in "abcd"])
    staff = staff_df({"a": {"P9": 0}, "b": {"P9": 1}, "c": {"P9": 4}, "d": {"P9": None}})
    out = run(prof, staff, checklist_df({c: {} for c in "abcd"}), params)
    ts = out["targets_school.csv"]
    assert [row(ts, school_code=c, target="T7")["status"] for c in "abcd"] == ["not_met", "met", "met", "not_met"]
    assert row(ts, school_code="c", target="T7")["value"] == 4
    assert row(ts, school_code="c", target="T7")["target_value"] == 1
    t7 = row(out["targets_municipal.csv"], target="T7")
    assert (t7["numerator"], t7["denominator"], t7["value"], t7["target_value"], t7["met"]) == (2, 4, 50.0, 100.0, False)


def test_municipal_share_is_a_ratio_of_sums_not_a_mean_of_percentages(params):
    prof = profile_df({"school_code": "small"}, {"school_code": "large"})
    staff = staff_df({"small": {"P0": 10, "P5": 10, "P6": 10}, "large": {"P0": 90, "P5": 0, "P6": 45}})
    out = run(prof, staff, checklist_df({"small": {}, "large": {}}), params)
    mun = out["targets_municipal.csv"].set_index("target")
    # T3 (S5 ≥ 30): mean of percentages (100 + 0) / 2 = 50 would pass; Σ = 10 / 100 = 10 % fails
    assert mun.loc["T3", ["numerator", "denominator"]].tolist() == [10, 100]
    assert mun.loc["T3", "value"] == pytest.approx(10.0)
    assert not mun.loc["T3", "met"]
    # T1 (S6): (10 + 45) / (10 + 90) = 55 %, not (100 + 50) / 2 = 75 %
    assert mun.loc["T1", "value"] == pytest.approx(55.0)
    ts = out["targets_school.csv"]
    assert row(ts, school_code="small", target="T3")["status"] == "met"
    assert row(ts, school_code="large", target="T3")["status"] == "not_met"


def test_check_targets(params, make_params):
    with pytest.raises(ParamsError, match="targets.T50"):
        stages_score.run(checklist_df({}), staff_df({}), profile_df(), METH,
                    load_params(make_params(targets={"T50": 10})))
    missing = params.model_copy(update={"targets": {k: v for k, v in params.targets.items() if k != "T9"}})
    with pytest.raises(ParamsError, match="targets.T9") as exc:
        stages_score.run(checklist_df({}), staff_df({}), profile_df(), METH, missing)
    assert str(params.source) in str(exc.value)


# --------------------------------------------------------------------------- binary methodology


def test_binary_methodology(make_params):
    p = load_params(make_params(methodology=str(ROOT / "methodology" / "binary.yaml")))
    m = load_methodology(p.methodology)
    assert m.max_points == 20 and m.warnings == ()
    assert all(pos.scale == [0, 1] for pos in m.positions)
    assert [pos.code for pos in m.positions] == POS        # same form serves both
    assert {c.code for c in m.criteria} == {"K1", "K2", "K3", "K4", "K5", "K6"}
    prof = profile_df({"school_code": "a"}, {"school_code": "b"})
    chk = checklist_df({"a": {"*": 1, "M1": (1, None), "M9": 0}, "b": {"M1": 1}}, m)
    out = run(prof, staff_df({"a": {}, "b": {}}), chk, p, m)
    s = out["scores.csv"].set_index("school_code")
    # a: 20 positions, M1 unconfirmed and M9 = 0 → 18 of 20
    assert s.loc["a", "checklist_points"] == 18 and s.loc["a", "checklist_max"] == 20
    assert s.loc["a", "checklist_pct"] == pytest.approx(90.0)
    assert s.loc["b", "checklist_pct"] == pytest.approx(5.0)
    k1 = row(out["criteria.csv"], school_code="a", criterion="K1")
    assert (k1["points"], k1["max_points"]) == (3, 4)
    with pytest.raises(PipelineError, match="вне шкалы"):
        run(prof, staff_df({"a": {}, "b": {}}), checklist_df({"a": {"M1": 2}, "b": {}}, m), p, m)


# --------------------------------------------------------------------------- outputs


def _world():
    types = ["СОШ", "Гимназия", "Лицей", "ЦО", "ООШ", "НОШ"]
    rng = random.Random(7)
    schools, staff, chk = [], {}, {}
    for i in range(1, 19):
        code = f"{i:03d}"
        sub = i % 7 != 0
        schools.append({"school_code": code, "school_type": types[i % 6], "pupils": rng.choice([120, 480, 500, 501, 900]),
                        "submitted": sub, "low_results": i % 4 == 0, "low_results_support": i % 8 == 0,
                        "innovation_site": i % 3 == 0, "staffing_monitoring": i % 5 != 0})
        if sub:
            p0 = rng.randint(4, 60)
            p7 = rng.randint(0, 6)
            staff[code] = {"P0": p0, **{f"P{k}": rng.randint(0, p0) for k in (1, 2, 4, 5, 6, 9)}, "P7": p7, "P8": rng.randint(0, p7)}
            staff[code]["P3"] = rng.randint(0, staff[code]["P2"])
            chk[code] = {p: (rng.choice([0, 1, 2, None]), rng.choice(["Приказ", None, "Положение"])) for p in POS}
    return profile_df(*schools), staff_df(staff), checklist_df(chk)


def test_outputs_follow_the_contract_and_vocabularies(params):
    prof, staff, chk = _world()
    out = run(prof, staff, chk, params)
    assert set(out) == set(OUTPUTS["score"])
    for name, cols in OUTPUTS["score"].items():
        assert tuple(out[name].columns[: len(cols)]) == cols, name
    s = out["scores.csv"]
    assert len(s) == len(prof) and s["school_code"].is_monotonic_increasing
    assert set(s["cluster"].dropna()) <= set(CLUSTERS)
    assert set(s["level"]) <= set(LEVELS) | {"нет данных"}
    assert set(out["targets_school.csv"]["status"]) <= set(TARGET_STATUSES)
    assert len(out["positions.csv"]) == 20 * int(prof["submitted"].sum())
    assert list(out["targets_municipal.csv"]["target"]) == [t.code for t in METH.targets]


def test_deterministic_and_independent_of_input_order(params):
    prof, staff, chk = _world()
    a = run(prof, staff, chk, params)
    b = run(prof.sample(frac=1, random_state=1), staff.sample(frac=1, random_state=2),
            chk.sample(frac=1, random_state=3), params)
    for name in a:
        assert to_csv_bytes(a[name]) == to_csv_bytes(b[name]), name


def test_round_trip_through_csv(params, tmp_path):
    """The stage gives the same result on tables read back from CSV as on in-memory ones."""
    prof, staff, chk = _world()
    write_tables(tmp_path, {"profile.csv": prof, "staff.csv": staff, "checklist.csv": chk})
    a = run(prof, staff, chk, params)
    b = run(read_table(tmp_path, "profile.csv"), read_table(tmp_path, "staff.csv"), read_table(tmp_path, "checklist.csv"), params)
    for name in a:
        assert to_csv_bytes(a[name]) == to_csv_bytes(b[name]), name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 1200), st.sampled_from(["СОШ", "ООШ"])),
                min_size=1, max_size=12))
def test_bounds_hold_for_any_input(params, data):
    prof = profile_df(*[{"school_code": f"{i:02d}", "school_type": t, "pupils": n} for i, (_, _, n, t) in enumerate(data)])
    staff = staff_df({f"{i:02d}": {"P0": a + b, "P1": a, "P5": b} for i, (a, b, _, _) in enumerate(data)})
    s = run(prof, staff, checklist_df({f"{i:02d}": {} for i in range(len(data))}), params)["scores.csv"]
    assert s["activity_index"].between(0, 100).all()
    assert s["total_score"].between(0, 100).all()
    sizes = s.groupby("cluster")["school_code"].transform("size")
    assert (s["rank_in_cluster"] >= 1).all() and (s["rank_in_cluster"] <= sizes).all()
    assert (s.groupby("cluster")["rank_in_cluster"].min() == 1).all()


def test_ten_thousand_schools_is_fast(params):
    n = 10_000
    rng = np.random.default_rng(0)
    codes = [f"{i:05d}" for i in range(n)]
    prof = pd.DataFrame({
        "school_code": codes, "school_name": codes, "school_type": rng.choice(["СОШ", "Лицей", "ООШ"], n),
        "submitted": rng.random(n) > 0.05, "file": "f", "pupils": rng.integers(50, 1500, n),
        "innovation_site": rng.random(n) > 0.7, "low_results": rng.random(n) > 0.8, "low_results_support": rng.random(n) > 0.5,
        "staffing_monitoring": rng.random(n) > 0.1, "responsible": "x", "filled_date": "2026-05-01",
    })
    sub = prof.loc[prof["submitted"], "school_code"].to_numpy()
    p0 = rng.integers(1, 100, len(sub))
    staff = pd.DataFrame({"school_code": sub, "P0": p0, **{f"P{i}": (p0 * rng.random(len(sub))).astype(int) for i in range(1, 10)}})
    chk = pd.DataFrame({
        "school_code": np.repeat(sub, 20), "position": np.tile(POS, len(sub)), "score": rng.integers(0, 3, 20 * len(sub)),
        "score_raw": "", "document": np.where(rng.random(20 * len(sub)) > 0.1, "Приказ", None),
        "link": None, "link_ok": None, "file": "f", "cell": "C1",
    })
    t = time.perf_counter()
    out = run(prof, staff, chk, params)
    assert time.perf_counter() - t < 20
    assert len(out["scores.csv"]) == n and len(out["positions.csv"]) == 20 * len(sub)


def test_findings_sentence(params):
    prof, staff, chk = _world()
    out = run(prof, staff, chk, params)
    text = stages_score.findings(out, METH)
    assert text.startswith(f"Формы представили {int(prof['submitted'].sum())} из {len(prof)} школ реестра.")
    assert "Муниципальные целевые показатели" in text
    summary = stages_score.target_summary(out["targets_school.csv"], METH)
    assert list(summary.index) == ["T1", "T2", "T3", "T4", "T7", "T8"]
    assert (summary[["met", "not_met", "not_applicable", "not_submitted"]].sum(axis=1) == len(prof)).all()
    clusters = stages_score.cluster_summary(out["scores.csv"], METH, params)
    assert clusters["школ"].sum() == out["scores.csv"]["total_score"].notna().sum()


# --------------------------------------------------------------------------- the notebook


@pytest.mark.parametrize("separate_output", [False, True])
def test_notebook_runs_on_clean_csvs(make_params, tmp_path, separate_output):
    params_file = make_params()
    p = load_params(params_file)
    prof, staff, chk = _world()
    write_tables(p.processed_dir, {"profile.csv": prof, "staff.csv": staff, "checklist.csv": chk})
    out_dir = tmp_path / "elsewhere" if separate_output else p.processed_dir
    extra = {"output_dir": str(out_dir)} if separate_output else {}
    executed = execute_notebook("03_score.ipynb", params_file, tmp_path / "executed", **extra)
    expected = run(prof, staff, chk, p)
    for name, cols in OUTPUTS["score"].items():
        got = read_table(out_dir, name)
        assert tuple(got.columns[: len(cols)]) == cols, name
        assert (out_dir / name).read_bytes() == to_csv_bytes(expected[name]), name
    text = executed.read_text(encoding="utf-8")
    assert "Формы представили" in text and "image/png" in text
    assert "Заявленный в методике максимальный балл (42)" in text  # the methodology warning is shown
    assert math.isfinite(float(read_table(out_dir, "scores.csv")["total_score"].dropna().mean()))
