"""The recommendations stage on hand-built score outputs: priorities, order and ids, municipal
decisions (threshold edges, visits, requests), follow-up statuses, the first year, and the
notebook executed through papermill for two years."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

import formbuilder

from conftest import DEFAULT_METHODOLOGY, execute_notebook

from pipeline.core.contract import FOLLOWUP_STATUSES, OUTPUTS
from pipeline.config.methodology import Methodology, load_methodology
from pipeline.config.params import load_params
from pipeline.io.storage import read_table, to_csv_bytes, write_tables
from pipeline.stages import followup as stages_followup
from pipeline.stages import recommendations

METH = load_methodology(DEFAULT_METHODOLOGY)
POS = [p.code for p in METH.positions]
SCHOOL_TARGETS = [t.code for t in METH.targets if "school" in t.scope]


# --------------------------------------------------------------------------- builders


def scores_df(codes, *, submitted=None, levels=None, totals=None) -> pd.DataFrame:
    submitted = submitted or {}
    levels = levels or {}
    totals = totals or {}
    rows = []
    for c in codes:
        sub = submitted.get(c, True)
        rows.append({
            "school_code": c, "school_name": f"Школа {c}", "cluster": "СОШ≤500",
            "checklist_points": 40 if sub else None, "checklist_max": 40, "checklist_pct": 100.0 if sub else None,
            "activity_index": 80.0 if sub else None, "total_score": totals.get(c, 90.0) if sub else None,
            "rank_in_cluster": 1 if sub else None,
            "level": levels.get(c, "высокий") if sub else "нет данных",
            "zone": "зелёная" if sub else "", "submitted": sub,
        })
    return pd.DataFrame(rows)


def positions_df(codes, overrides=None, methodology: Methodology = METH) -> pd.DataFrame:
    """Every position at its maximum, confirmed; overrides[(school, pos)] = dict(...) or None (row absent)."""
    overrides = overrides or {}
    rows = []
    for c in codes:
        for p in methodology.positions:
            o = overrides.get((c, p.code), {})
            if o is None:
                continue
            row = {"school_code": c, "position": p.code, "criterion": p.criterion,
                   "claimed": p.max_points, "points": p.max_points, "max_points": p.max_points, "confirmed": True}
            row.update(o)
            rows.append(row)
    return pd.DataFrame(rows)


def targets_df(codes, overrides=None, submitted=None) -> pd.DataFrame:
    """Every school target met; overrides[(school, target)] = dict(status=..., value=...)."""
    overrides = overrides or {}
    submitted = submitted or {}
    rows = []
    for c in codes:
        for t in SCHOOL_TARGETS:
            row = {"school_code": c, "target": t, "value": 100.0, "target_value": 100.0,
                   "status": "met" if submitted.get(c, True) else "not_submitted"}
            row.update(overrides.get((c, t), {}))
            rows.append(row)
    return pd.DataFrame(rows)


def profile_df(codes, low=None, support=None) -> pd.DataFrame:
    low, support = low or {}, support or {}
    return pd.DataFrame([{"school_code": c, "school_name": f"Школа {c}", "low_results": low.get(c, False),
                          "low_results_support": support.get(c, pd.NA)} for c in codes])


def roundtrip(df: pd.DataFrame, tmp_path, name: str) -> pd.DataFrame:
    """Write and read back through storage, as the stages see each other's outputs."""
    write_tables(tmp_path, {name: df})
    return read_table(tmp_path, name)


@pytest.fixture
def params(make_params):
    return load_params(make_params())


def recs_for(codes, pos_over=None, tgt_over=None, **kw):
    return recommendations.build_recommendations(METH, scores_df(codes, **kw), positions_df(codes, pos_over), targets_df(codes, tgt_over))


# --------------------------------------------------------------------------- recommendations


def test_full_marks_give_no_recommendations():
    assert recs_for(["001"]).empty


@pytest.mark.parametrize(
    "override, priority, reason",
    [
        ({"claimed": 0, "points": 0, "confirmed": False}, "высокий", "балл 0"),
        ({"claimed": 2, "points": 0, "confirmed": False}, "высокий", "не подтверждено документом"),
        ({"claimed": None, "points": 0, "confirmed": None}, "высокий", "позиция не оценена"),
        (None, "высокий", "позиция не оценена"),
        ({"claimed": 1, "points": 1}, "средний", "балл 1 из 2"),
    ],
    ids=["zero", "unconfirmed", "empty-claim", "row-missing", "one"],
)
def test_position_priority_rules(override, priority, reason):
    r = recs_for(["001"], {("001", "M6"): override})
    assert len(r) == 1
    row = r.iloc[0]
    assert (row.indicator_code, row.priority, row.kind) == ("M6", priority, "position")
    assert reason in row.reason
    assert row.text == METH.position("M6").recommendation
    assert row.recommendation_id == "001:M6"


def test_priority_rules_survive_csv_roundtrip(tmp_path):
    codes = ["001"]
    pos = roundtrip(positions_df(codes, {("001", "M1"): {"claimed": 2, "points": 0, "confirmed": False},
                                         ("001", "M2"): {"claimed": None, "points": 0, "confirmed": None},
                                         ("001", "M3"): {"claimed": 1, "points": 1}}), tmp_path, "positions.csv")
    sc = roundtrip(scores_df(codes), tmp_path, "scores.csv")
    tg = roundtrip(targets_df(codes, {("001", "T3"): {"status": "not_met", "value": 12.5, "target_value": 30}}),
                   tmp_path, "targets_school.csv")
    r = recommendations.build_recommendations(METH, sc, pos, tg)
    got = dict(zip(r.indicator_code, zip(r.priority, r.reason)))
    assert got["M1"][0] == "высокий" and "не подтверждено" in got["M1"][1]
    assert got["M2"] == ("высокий", "позиция не оценена в форме")
    assert got["M3"] == ("средний", "балл 1 из 2")
    assert got["T3"] == ("высокий", "показатель не достигнут: 12,5 % при целевом 30 %")


def test_binary_scale_has_no_medium():
    data = METH.model_dump(exclude={"source", "sha256", "warnings"})
    for p in data["positions"]:
        p["scale"] = [0, 1]
    data["declared_max"] = None
    binary = Methodology.model_validate(data)
    codes = ["001"]
    pos = positions_df(codes, {("001", "M1"): {"claimed": 1, "points": 1}, ("001", "M2"): {"claimed": 0, "points": 0}}, binary)
    r = recommendations.build_recommendations(binary, scores_df(codes), pos, targets_df(codes))
    assert r[["indicator_code", "priority"]].values.tolist() == [["M2", "высокий"]]


def test_targets_unmet_high_others_none():
    over = {
        ("001", "T1"): {"status": "not_met", "value": 40.0, "target_value": 100.0},
        ("001", "T2"): {"status": "not_met", "value": 0.0, "target_value": 100.0},
        ("001", "T4"): {"status": "not_applicable", "value": None},
        ("001", "T7"): {"status": "not_met", "value": 0.0, "target_value": 1.0},
        ("001", "T8"): {"status": "met"},
    }
    r = recs_for(["001"], tgt_over=over)
    assert r.indicator_code.tolist() == ["T1", "T2", "T7"]
    assert set(r.priority) == {"высокий"} and set(r.kind) == {"target"}
    reasons = dict(zip(r.indicator_code, r.reason))
    assert reasons["T1"] == "показатель не достигнут: 40 % при целевом 100 %"
    assert reasons["T7"] == "показатель не достигнут: 0 чел. при целевом 1 чел."
    assert "«да»" in reasons["T2"]
    t7 = next(t for t in METH.targets if t.code == "T7")
    assert r.set_index("indicator_code").loc["T7", "text"] == t7.recommendation


def test_school_without_form_gets_no_recommendations():
    codes = ["001", "002"]
    sc = scores_df(codes, submitted={"002": False})
    r = recommendations.build_recommendations(METH, sc, positions_df(["001"]), targets_df(codes, submitted={"002": False}))
    assert r.empty


def test_order_and_stable_ids():
    codes = ["010", "002"]
    pos_over = {
        ("010", "M9"): {"claimed": 0, "points": 0},         # K6, high
        ("010", "M2.1"): {"claimed": 1, "points": 1},       # K2, medium
        ("010", "M1.2"): {"claimed": 0, "points": 0},       # K4, high
        ("010", "M2.2"): {"claimed": 0, "points": 0},       # K1, high (after M1.2 in the list, before it by criterion)
        ("002", "M7"): {"claimed": 1, "points": 1},
    }
    tgt_over = {("010", "T3"): {"status": "not_met", "value": 10.0, "target_value": 30.0}}
    r = recs_for(codes, pos_over, tgt_over)
    assert r.recommendation_id.tolist() == ["002:M7", "010:M2.2", "010:M1.2", "010:M9", "010:T3", "010:M2.1"]
    assert list(r.columns[:5]) == list(OUTPUTS["recommendations"]["recommendations.csv"])
    # the id depends on content only: another school set, another row number, the same id
    again = recs_for(["010"], pos_over, tgt_over)
    assert set(again.recommendation_id) == {i for i in r.recommendation_id if i.startswith("010:")}
    assert r.recommendation_id.is_unique


def test_deterministic_bytes():
    codes = [f"{i:03d}" for i in range(1, 8)]
    over = {(c, p): {"claimed": (i + j) % 3, "points": (i + j) % 3} for i, c in enumerate(codes) for j, p in enumerate(POS)}
    a = to_csv_bytes(recs_for(codes, over))
    b = to_csv_bytes(recs_for(list(reversed(codes)), over))
    assert a == b


# --------------------------------------------------------------------------- decisions


def _ten_schools_failing(n_failed: int, params, position="M5"):
    codes = [f"{i:02d}" for i in range(1, 11)]
    over = {(c, position): {"claimed": 0, "points": 0} for c in codes[:n_failed]}
    sc = scores_df(codes)
    tg = targets_df(codes)
    r = recommendations.build_recommendations(METH, sc, positions_df(codes, over), tg)
    return recommendations.build_decisions(params, METH, sc, r, tg)


@pytest.mark.parametrize("n_failed, expected", [(2, False), (3, True), (4, True)], ids=["below", "at", "above"])
def test_seminar_threshold(params, n_failed, expected):
    assert params.decisions.share_threshold == 30
    d = _ten_schools_failing(n_failed, params)
    seminars = d[d.kind == "seminar"]
    assert (len(seminars) == 1) is expected
    if expected:
        s = seminars.iloc[0]
        assert s.decision_id == "seminar:M5"
        assert s.schools == ";".join(f"{i:02d}" for i in range(1, n_failed + 1))
        assert s.topic.startswith("Провести муниципальный семинар (заседание РМО) по теме: «")
        assert s.responsible == params.decisions.seminar_responsible
        m = params.decisions.seminar_months[0]
        assert s.due_month == f"{params.year if m >= 7 else params.year + 1}-{m:02d}" and s.due.endswith(s.due_month[:4])
        assert s.share_failed == n_failed * 10


def test_seminar_threshold_exact_fraction(make_params):
    # 1 of 3 = 33.33… % against a threshold of 100/3 %: at the threshold, no float slip
    p = load_params(make_params(decisions={"share_threshold": 100 / 3}))
    codes = ["a", "b", "c"]
    over = {("a", "M3"): {"claimed": 1, "points": 1}}
    sc, tg = scores_df(codes), targets_df(codes)
    d = recommendations.build_decisions(p, METH, sc, recommendations.build_recommendations(METH, sc, positions_df(codes, over), tg), tg)
    assert d.decision_id.tolist() == ["seminar:M3"]


def test_target_seminar_counts_only_applicable_schools(params):
    codes = ["1", "2", "3", "4", "5"]
    # T4 applies to 3 schools (others have no young teachers); 1 of 3 fails = 33 % ≥ 30 %
    over = {("1", "T4"): {"status": "not_met", "value": 50.0}, ("2", "T4"): {"status": "not_applicable"},
            ("3", "T4"): {"status": "not_applicable"}}
    sc, tg = scores_df(codes), targets_df(codes, over)
    d = recommendations.build_decisions(params, METH, sc, recommendations.build_recommendations(METH, sc, positions_df(codes), tg), tg)
    row = d.set_index("decision_id").loc["seminar:T4"]
    assert (row.schools, row.n_concerned, row.share_failed) == ("1", 3, 33.3)


def test_visits_and_requests(params):
    codes = ["01", "02", "03", "04", "05", "06"]
    sc = scores_df(codes, submitted={"06": False}, levels={"01": "низкий", "02": "низкий", "03": "средний"},
                   totals={"01": 42.25})
    prof = profile_df(codes, low={"02": True, "03": True, "04": True, "05": True},
                      support={"02": False, "03": pd.NA, "04": False, "05": True})
    tg = targets_df(codes, submitted={"06": False})
    r = recommendations.build_recommendations(METH, sc, positions_df(codes[:5]), tg)
    d = recommendations.build_decisions(params, METH, sc, r, tg, roundtrip(prof, params.processed_dir, "profile.csv"))
    assert d.decision_id.tolist() == ["visit:01", "visit:02", "visit:03", "visit:04", "request:06"]
    basis = dict(zip(d.decision_id, d.basis))
    assert basis["visit:01"] == "уровень «низкий» (итоговый балл 42,3, зона риска)"
    assert basis["visit:02"].startswith("уровень «низкий»") and "ШНОР, методическая поддержка не получена" in basis["visit:02"]
    assert "не подтверждено" in basis["visit:03"]
    visits = d[d.kind == "visit"]
    assert set(visits.responsible) == {params.decisions.visit_responsible}
    assert visits.schools.tolist() == ["01", "02", "03", "04"]
    assert "Организовать методический выезд в ОО 01 «Школа 01»" in visits.iloc[0].topic
    req = d.iloc[-1]
    assert req.kind == "request" and "форму мониторинга" in req.topic and "выезд" in req.topic
    assert list(d.columns[:6]) == list(OUTPUTS["recommendations"]["decisions.csv"])


def test_municipal_only_target_measure(params):
    codes = ["1"]
    sc, tg = scores_df(codes), targets_df(codes)
    tm = pd.DataFrame([{"target": "T9", "numerator": 1, "denominator": 10, "value": 10.0, "target_value": 25.0, "met": False},
                       {"target": "T1", "numerator": 5, "denominator": 10, "value": 50.0, "target_value": 100.0, "met": False}])
    d = recommendations.build_decisions(params, METH, sc, recommendations.build_recommendations(METH, sc, positions_df(codes), tg), tg,
                            targets_municipal=tm)
    assert d.decision_id.tolist() == ["measure:T9"]
    assert "10 % при целевом 25 %" in d.iloc[0].basis


# --------------------------------------------------------------------------- follow-up


def _prev_year():
    """Last year: school A had M1=0, M2=1, M3=1, M4=1, M5=0 and T3 12.5 % < 30; B had M1=0."""
    codes = ["A", "B"]
    pos = positions_df(codes, {("A", "M1"): {"claimed": 0, "points": 0}, ("A", "M2"): {"claimed": 1, "points": 1},
                               ("A", "M3"): {"claimed": 1, "points": 1}, ("A", "M4"): {"claimed": 1, "points": 1},
                               ("A", "M5"): {"claimed": 2, "points": 0, "confirmed": False},
                               ("B", "M1"): {"claimed": 0, "points": 0}})
    tg = targets_df(codes, {("A", "T3"): {"status": "not_met", "value": 12.5, "target_value": 30.0},
                            ("A", "T1"): {"status": "not_met", "value": 50.0, "target_value": 75.0},
                            ("A", "T7"): {"status": "not_met", "value": 2.0, "target_value": 3.0},
                            ("A", "T4"): {"status": "not_met", "value": 50.0, "target_value": 100.0}})
    sc = scores_df(codes)
    return stages_followup.PreviousYear(stages_followup.AVAILABLE, "ok", 2025, None, recommendations.build_recommendations(METH, sc, pos, tg), pos, tg)


def test_followup_statuses():
    prev = _prev_year()
    codes = ["A", "B"]
    sc = scores_df(codes, submitted={"B": False})
    pos = positions_df(["A"], {("A", "M1"): {"claimed": 2, "points": 2},      # устранён
                               ("A", "M2"): {"claimed": 1, "points": 1},      # без изменений
                               ("A", "M3"): {"claimed": 0, "points": 0},      # ухудшение
                               ("A", "M4"): {"claimed": 2, "points": 0, "confirmed": False},  # ухудшение
                               ("A", "M5"): {"claimed": 1, "points": 1}})     # улучшение
    tg = targets_df(codes, {("A", "T3"): {"status": "met", "value": 35.0, "target_value": 30.0},      # устранён
                            ("A", "T1"): {"status": "not_met", "value": 60.0, "target_value": 100.0},  # улучшение (value up)
                            ("A", "T7"): {"status": "not_met", "value": 1.0, "target_value": 3.0},     # ухудшение
                            ("A", "T4"): {"status": "not_applicable", "value": None}},                 # нет данных
                    submitted={"B": False})
    f = stages_followup.build_followup(METH, sc, pos, tg, prev)
    got = dict(zip(f.recommendation_id, f.status))
    assert got == {"A:M1": "устранён", "A:M2": "без изменений", "A:M3": "ухудшение", "A:M4": "ухудшение",
                   "A:M5": "улучшение", "A:T1": "улучшение", "A:T3": "устранён", "A:T4": "нет данных",
                   "A:T7": "ухудшение", "B:M1": "нет данных"}
    assert list(f.columns[:4]) == list(OUTPUTS["recommendations"]["followup.csv"])
    row = f.set_index("recommendation_id").loc["A:M5"]
    assert (row.previous_priority, row.previous_points, row.current_points) == ("высокий", 0, 1)
    assert f.set_index("recommendation_id").loc["B:M1", "note"] == "форма в этом году не представлена"

    s = stages_followup.followup_summary(f, METH)
    assert s.iloc[-1].indicator_code == "всего" and s.iloc[-1].n == 10
    assert s.iloc[-1]["устранён"] == 20.0 and s.iloc[-1]["ухудшение"] == 30.0
    m1 = s.set_index("indicator_code").loc["M1"]
    assert (m1.n, m1["устранён"], m1["нет данных"]) == (2, 50.0, 50.0)
    counts = stages_followup.followup_summary(f, METH, shares=False).set_index("indicator_code")
    assert counts.loc["всего", list(FOLLOWUP_STATUSES)].sum() == 10


def test_followup_position_removed_from_methodology():
    prev = _prev_year()
    prev.recommendations.loc[prev.recommendations.indicator_code == "M2", "indicator_code"] = "M2.3"
    f = stages_followup.build_followup(METH, scores_df(["A", "B"]), positions_df(["A", "B"]), targets_df(["A", "B"]), prev)
    row = f[f.indicator_code == "M2.3"].iloc[0]
    assert (row.status, row.note) == ("нет данных", "позиция исключена из методики")


def test_first_year(params):
    assert params.previous_params is None
    prev = stages_followup.load_previous(params)
    assert prev.state == stages_followup.FIRST_YEAR and "Первый год мониторинга" in prev.message
    codes = ["1"]
    res = recommendations.run(params, METH, scores_df(codes), positions_df(codes), targets_df(codes), previous=prev)
    assert res.followup.empty and res.followup_state == stages_followup.FIRST_YEAR
    assert to_csv_bytes(res.followup).decode() == ",".join(stages_followup.FOLLOWUP_COLUMNS) + "\n"
    assert set(res.tables) == set(OUTPUTS["recommendations"])


def test_previous_outputs_missing(make_params, tmp_path):
    prev_file = make_params(2025, raw_dir=tmp_path)
    params = load_params(make_params(2026, previous_params=str(prev_file)))
    prev = stages_followup.load_previous(params)
    assert prev.state == stages_followup.PREVIOUS_MISSING
    assert "не найдены" in prev.message and "2025" in prev.message
    res = recommendations.run(params, METH, scores_df(["1"]), positions_df(["1"]), targets_df(["1"]), previous=prev)
    assert res.followup.empty and res.followup_state == stages_followup.PREVIOUS_MISSING


def test_deficit_counts_and_priority_counts():
    codes = ["1", "2", "3"]
    over = {("1", "M6"): {"claimed": 0, "points": 0}, ("2", "M6"): {"claimed": 1, "points": 1},
            ("3", "M6"): {"claimed": 0, "points": 0}, ("1", "M9"): {"claimed": 1, "points": 1}}
    r = recs_for(codes, over)
    d = recommendations.deficit_counts(r, METH)
    assert d.iloc[0][["indicator_code", "высокий", "средний", "всего"]].tolist() == ["M6", 2, 1, 3]
    pc = recommendations.priority_counts(r).set_index("приоритет")
    assert pc.loc["высокий", "рекомендаций"] == 2 and pc.loc["всего", "школ"] == 3


# --------------------------------------------------------------------------- the notebook


def _write_score_outputs(folder, codes, pos_over, tgt_over, *, submitted=None, levels=None, low=None, support=None):
    write_tables(folder, {
        "scores.csv": scores_df(codes, submitted=submitted, levels=levels),
        "positions.csv": positions_df([c for c in codes if (submitted or {}).get(c, True)], pos_over),
        "targets_school.csv": targets_df(codes, tgt_over, submitted=submitted),
        "targets_municipal.csv": pd.DataFrame([{"target": "T9", "numerator": 1, "denominator": 3, "value": 33.3,
                                                "target_value": 25.0, "met": True}]),
        "criteria.csv": pd.DataFrame(columns=["school_code", "criterion", "points", "max_points", "pct"]),
        "profile.csv": profile_df(codes, low, support),
    })


def _all_text(nb_path) -> str:
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(o.get("text", ""))
            parts.extend(str(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


def test_notebook_two_years(make_params, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    p25_file = make_params(2025, raw_dir=raw)
    p26_file = make_params(2026, raw_dir=raw, previous_params=str(p25_file))
    p25, p26 = load_params(p25_file), load_params(p26_file)
    codes = ["001", "002", "003"]

    _write_score_outputs(p25.processed_dir, codes,
                         {("001", "M1"): {"claimed": 0, "points": 0}, ("002", "M1"): {"claimed": 1, "points": 1},
                          ("003", "M2"): {"claimed": 2, "points": 0, "confirmed": False}},
                         {("001", "T3"): {"status": "not_met", "value": 10.0, "target_value": 30.0}},
                         levels={"001": "низкий"})
    nb25 = execute_notebook("04_recommendations.ipynb", p25_file, tmp_path / "nb25")
    assert "Первый год мониторинга" in _all_text(nb25)
    r25 = read_table(p25.processed_dir, "recommendations.csv")
    assert r25.recommendation_id.tolist() == ["001:M1", "001:T3", "002:M1", "003:M2"]
    f25 = (p25.processed_dir / "followup.csv").read_text(encoding="utf-8")
    assert f25 == ",".join(stages_followup.FOLLOWUP_COLUMNS) + "\n"
    d25 = read_table(p25.processed_dir, "decisions.csv")
    assert "seminar:K1" in d25.decision_id.tolist() and "visit:001" in d25.decision_id.tolist()  # M1 and M2 (K1) merged

    # 2026: 001 fixed M1, 002 stopped reporting, 003 still unconfirmed; written to a separate output_dir
    out = tmp_path / "stage_out"
    _write_score_outputs(p26.processed_dir, codes,
                         {("003", "M2"): {"claimed": 2, "points": 0, "confirmed": False}},
                         {("001", "T3"): {"status": "not_met", "value": 20.0, "target_value": 30.0}},
                         submitted={"002": False}, low={"003": True}, support={"003": False})
    nb26 = execute_notebook("04_recommendations.ipynb", p26_file, tmp_path / "nb26", output_dir=str(out))
    f = read_table(out, "followup.csv")
    assert dict(zip(f.recommendation_id, f.status)) == {
        "001:M1": "устранён", "001:T3": "улучшение", "002:M1": "нет данных", "003:M2": "без изменений"}
    d = read_table(out, "decisions.csv")
    assert {"visit:003", "request:002"} <= set(d.decision_id)
    r = read_table(out, "recommendations.csv")
    assert set(r.school_code) == {"001", "003"}
    text = _all_text(nb26)
    assert "Первый год" not in text and "recommendations" in text

    # re-running gives the same bytes
    before = {n: (out / n).read_bytes() for n in OUTPUTS["recommendations"]}
    execute_notebook("04_recommendations.ipynb", p26_file, tmp_path / "nb26b", output_dir=str(out))
    assert before == {n: (out / n).read_bytes() for n in OUTPUTS["recommendations"]}


def test_notebook_previous_missing(make_params, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    p25_file = make_params(2025, raw_dir=raw)
    p26_file = make_params(2026, raw_dir=raw, previous_params=str(p25_file))
    p26 = load_params(p26_file)
    _write_score_outputs(p26.processed_dir, ["001"], {}, {})
    nb = execute_notebook("04_recommendations.ipynb", p26_file, tmp_path / "nb")
    assert "не найдены" in _all_text(nb)
    assert read_table(p26.processed_dir, "followup.csv").empty


# --------------------------------------------------------------------------- against the score stage


def test_on_score_stage_outputs(params, tmp_path):
    """The score stage's real tables, through CSV, are what this stage is built for."""
    scoring = pytest.importorskip("pipeline.stages.score")
    from pipeline.core.contract import OUTPUTS as OUT

    prof = pd.DataFrame([
        {"school_code": c, "school_name": f"Школа {c}", "school_type": "СОШ", "submitted": sub, "file": f"{c}.xlsx",
         "pupils": 300, "innovation_site": False, "low_results": low, "low_results_support": sup,
         "staffing_monitoring": True, "responsible": "", "filled_date": "2026-05-20"}
        for c, sub, low, sup in [("01", True, False, None), ("02", True, True, False), ("03", False, None, None)]
    ], columns=list(formbuilder.FORM.profile_columns))
    staff = pd.DataFrame([{"school_code": c, "P0": 10, "P1": 1, "P2": 1, "P3": 0, "P4": 0, "P5": p5, "P6": 10,
                           "P7": 0, "P8": 0, "P9": 1} for c, p5 in [("01", 5), ("02", 1)]],
                         columns=["school_code", *formbuilder.FORM.staff_codes])
    scores_by_school = {"01": {"M1": (1, "Приказ"), "M2": (2, "")}, "02": {"M3": (None, "")}}
    checklist = pd.DataFrame([
        {"school_code": c, "position": p.code, "score": over.get(p.code, (2, "Приказ"))[0],
         "score_raw": "", "document": over.get(p.code, (2, "Приказ"))[1], "link": "", "link_ok": False,
         "file": f"{c}.xlsx", "cell": "C2"}
        for c, over in scores_by_school.items() for p in METH.positions
    ], columns=OUT["clean"]["checklist.csv"])
    tables = scoring.run(checklist, staff, prof, METH, params)
    write_tables(tmp_path, tables | {"profile.csv": prof})
    read = lambda name: read_table(tmp_path, name)  # noqa: E731
    res = recommendations.run(params, METH, read("scores.csv"), read("positions.csv"), read("targets_school.csv"),
                  profile=read("profile.csv"), targets_municipal=read("targets_municipal.csv"))
    r = res.recommendations.set_index("recommendation_id")
    assert (r.loc["01:M1", "priority"], r.loc["01:M1", "reason"]) == ("средний", "балл 1 из 2")
    assert r.loc["01:M2", "priority"] == "высокий" and "не подтверждено" in r.loc["01:M2", "reason"]
    assert r.loc["02:M3", "reason"] == "позиция не оценена в форме"
    assert r.loc["02:T3", "reason"] == "показатель не достигнут: 10 % при целевом 30 %"
    assert not any(i.startswith("03:") for i in r.index)
    ids = set(res.decisions.decision_id)
    assert {"visit:02", "request:03", "seminar:K1", "seminar:T3"} <= ids   # M1 and M2 (both K1): one topic


BINARY = load_methodology(DEFAULT_METHODOLOGY.parent / "binary.yaml")


def test_followup_after_a_change_of_methodology_compares_only_what_is_comparable():
    """Last year 2/1/0 (default), this year 0/1 (binary): every position's scale changed, so
    none of them is «устранён» because its new maximum is 1; the targets, defined the same way,
    are compared as usual."""
    prev = _prev_year()
    prev.methodology = METH
    codes = ["A", "B"]
    pos = positions_df(codes, methodology=BINARY)          # full marks on the 0/1 scale
    tg = targets_df(codes, {("A", "T3"): {"status": "met", "value": 35.0, "target_value": 30.0}})
    f = stages_followup.build_followup(BINARY, scores_df(codes), pos, tg, prev)
    positions = f[f["kind"] == "position"]
    assert len(positions) and set(positions["status"]) == {"методика изменилась"}
    assert positions["note"].str.contains("не сравниваются").all()
    assert f.set_index("recommendation_id").loc["A:T3", "status"] == "устранён"
    # the same data without last year's methodology: the recorded maximum (2 → 1) tells the same
    prev.methodology = None
    f2 = stages_followup.build_followup(BINARY, scores_df(codes), pos, tg, prev)
    assert set(f2[f2["kind"] == "position"]["status"]) == {"методика изменилась"}


def test_methodology_changes_are_said_in_russian():
    from pipeline.config.methodology import comparable_codes, methodology_changes

    said = " ".join(methodology_changes(METH, BINARY))
    assert "Методика сменилась" in said and "изменилась шкала" in said and "M1" in said
    assert comparable_codes(METH, BINARY) == {t.code for t in METH.targets}
    assert methodology_changes(METH, METH) == []


def _failing(params, failures: dict[str, int], n: int = 10, **decisions):
    """n schools; failures: position → how many of them fail it (the first k schools)."""
    codes = [f"{i:04d}" for i in range(1, n + 1)]
    over = {(c, pos): {"claimed": 0, "points": 0} for pos, k in failures.items() for c in codes[:k]}
    recs = recommendations.build_recommendations(METH, scores_df(codes), positions_df(codes, over), targets_df(codes))
    p = params.model_copy(update={"decisions": params.decisions.model_copy(update=decisions)})
    return recommendations.build_decisions(p, METH, scores_df(codes), recs, targets_df(codes))


def test_seminar_topics_merged_by_criterion_ranked_and_capped(params):
    # M1 and M2.2 are both criterion K1: one topic; M5 (K4) alone; M9 (K6) alone
    dec = _failing(params, {"M1": 4, "M2.2": 5, "M5": 9, "M9": 3}, max_seminars=2)
    sem = dec[dec["kind"] == "seminar"]
    assert sem["decision_id"].tolist() == ["seminar:M5", "seminar:K1"]          # 9 of 10 before 5 of 10
    k1 = sem.set_index("decision_id").loc["seminar:K1"]
    assert k1["n_schools"] == 5 and "M1, M2.2" in k1["topic"]
    later = dec[dec["kind"] == "deferred"]
    assert later["decision_id"].tolist() == ["deferred:M9"] and "перенесено" in later["basis"].iloc[0]
