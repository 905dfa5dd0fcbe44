"""The recommendations stage: targeted recommendations per school, municipal management
decisions, and the follow-up of last year's recommendations.

In the words of the municipal orders this is «адресные рекомендации» → «управленческие
решения» → «анализ эффективности принятых мер». The stage reads the score outputs (and the
clean stage's profile.csv for ШНОР flags) as DataFrames and returns DataFrames; reading and
writing stay at the edges (the notebook, the runner). `load_previous` is the one edge helper
that finds last year's outputs through `previous_params`.

Rules (the year's `decisions:` block):

* **Recommendations** (one row per school × indicator that needs work). Only schools with a
  form (`submitted`) get them. A position with points 0 — scored 0, not scored at all, or
  scored 1/2 without a supporting document — is priority «высокий»; points above 0 but below
  the position's maximum is «средний» (a {0,1} position therefore never yields «средний»). A
  school target with status `not_met` is «высокий»; met, not applicable and not submitted
  yield nothing. The text is the methodology's recommendation for that position or target.
  Order: school_code, priority (высокий first), positions before targets, positions by the
  methodology's criterion order then position order, targets in methodology order.
* **recommendation_id** is ``"<school_code>:<indicator_code>"``: derived from content, not
  from a row number, so the same school and indicator carry the same id every year and the
  follow-up can find last year's recommendation.
* **Decisions.** A position counts as *failed* by a school when it is not fully achieved
  (points below the maximum, i.e. the school received a recommendation for it); the schools
  concerned are those with a form. A school target is failed when `not_met`; the schools
  concerned are those where it applies (met or not_met). Failed by at least
  `decisions.share_threshold` % of the schools concerned → a municipal seminar (заседание
  РМО) on that topic naming the schools. Every school at level «низкий» and every ШНОР school
  without confirmed support (low_results true, low_results_support not true) → one
  methodological visit per school, the reasons merged. Every school without a form → a
  request for the form (or a visit to collect the data). A municipal-only target that is not
  met (e.g. T9) → a municipal measure with the target's recommendation text. Ids:
  ``seminar:<code>``, ``measure:<code>``, ``visit:<school>``, ``request:<school>``.
* **Follow-up.** Each of last year's recommendations is marked: «устранён» (position at its
  maximum now / target met), «улучшение» (more points, or a target value higher than last
  year — every target of the methodology is "not lower than"), «без изменений», «ухудшение»,
  «нет данных» (the school has no form this year, the target does not apply, or the indicator
  left the methodology).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..config.methodology import Methodology
from ..config.params import YearParams
from ..core.contract import OUTPUTS, PRIORITIES
from ..core.progress import SCHOOLS_ADVISED, Counter
from ..core.russian import fmt_number
from ..core.values import flags, nums
from .decisions import build_decisions
from .followup import FIRST_YEAR, FIRST_YEAR_MESSAGE, PREVIOUS_MISSING, PreviousYear, build_followup
from .indicators import HIGH, MEDIUM, _indicator_order, _school_codes, _submitted, _frame, recommendation_id
from .measures import build_measures, unknown_ids
from .roadmap import build_roadmap

REC_COLUMNS = OUTPUTS["recommendations"]["recommendations.csv"] + (
    "school_name", "kind", "criterion", "indicator_name", "reason",
    "claimed", "points", "max_points", "value", "target_value", "unit",
)


def position_priority(points: float | None, claimed: float | None, confirmed: Any, max_points: int) -> tuple[str, str] | None:
    """(priority, reason) for one position of one school, or None when nothing is needed.

    `points` is what counts after the evidence rule; None means the position is missing.
    """
    if points is None:
        if claimed is not None and claimed > 0 and confirmed is not True:
            return HIGH, f"не подтверждено документом (заявлен балл {fmt_number(claimed)})"
        return HIGH, "позиция не оценена в форме"
    if points >= max_points:
        return None
    if points <= 0:
        if claimed is None:
            return HIGH, "позиция не оценена в форме"
        if claimed > 0:
            return HIGH, f"не подтверждено документом (заявлен балл {fmt_number(claimed)})"
        return HIGH, "балл 0"
    return MEDIUM, f"балл {fmt_number(points)} из {max_points}"


def build_recommendations(
    methodology: Methodology,
    scores: pd.DataFrame,
    positions: pd.DataFrame,
    targets_school: pd.DataFrame,
) -> pd.DataFrame:
    """recommendations.csv: one row per (school with a form, position or target needing work).

    Ten thousand schools × forty indicators: the tables are read by whole columns once, a
    position's verdict is worked out once per distinct (points, claimed, confirmed, maximum),
    and the rows are tuples sorted school by school."""
    submitted = _submitted(scores)
    names = dict(zip(_school_codes(scores["school_code"]).tolist(),
                     scores.get("school_name", pd.Series(dtype="object")).tolist()))
    order = methodology.indicator_order()
    rank = {p: i for i, p in enumerate(PRIORITIES)}

    # (school, position) → (points, claimed, confirmed): the last row of a pair, as num / _bool read them
    confirmed = ([None if v is pd.NA else bool(v) for v in flags(positions["confirmed"]).tolist()]
                 if "confirmed" in positions else [None] * len(positions))
    by_key = dict(zip(zip(_school_codes(positions["school_code"]).tolist(), positions["position"].tolist()),
                      zip(nums(positions["points"]), nums(positions["claimed"]), confirmed)))
    # (school, target) → (status, value, target value)
    tgt_by_key = dict(zip(zip(_school_codes(targets_school["school_code"]).tolist(), targets_school["target"].tolist()),
                          zip(map(str, targets_school["status"].tolist()), nums(targets_school["value"]),
                              nums(targets_school["target_value"]))))

    # per position: what its rows share, and its place in a school's rows
    pos_items = [(p, p.max_points, (rank[HIGH], order[p.code]), (rank[MEDIUM], order[p.code])) for p in methodology.positions]
    tgt_items = [(t, (rank[HIGH], order[t.code])) for t in methodology.targets if "school" in t.scope]
    verdicts: dict[tuple[Any, ...], tuple[str, str] | None] = {}
    reasons: dict[tuple[Any, ...], str] = {}
    missing = (None, None, None)
    na = float("nan")  # a cell a row of the other kind does not have

    rows: list[tuple[Any, ...]] = []
    counter = Counter(SCHOOLS_ADVISED, len(submitted))
    for school, repeats in itertools.groupby(submitted):
        school_rows: list[tuple[tuple[int, tuple[int, int, int]], tuple[Any, ...]]] = []
        name = names.get(school)
        for _ in repeats:
            counter.add()
            for p, max_points, high, medium in pos_items:
                got = by_key.get((school, p.code), missing)
                key = (*got, max_points)
                if key in verdicts:
                    verdict = verdicts[key]
                else:
                    verdict = verdicts[key] = position_priority(*key)
                if verdict is None:
                    continue
                priority, reason = verdict
                points, claimed = got[0], got[1]
                school_rows.append((high if priority == HIGH else medium, (
                    recommendation_id(school, p.code), school, p.code, priority, p.recommendation, name, "position",
                    p.criterion, p.short, reason, claimed, 0 if points is None else points, max_points, na, na, na)))
            for t, high in tgt_items:
                r = tgt_by_key.get((school, t.code))
                if r is None or r[0] != "not_met":
                    continue
                value, target_value = r[1], r[2]
                reason = reasons.get((t.code, value, target_value))
                if reason is None:
                    reason = reasons[t.code, value, target_value] = t.kind.reason(value, target_value, t.unit)
                school_rows.append((high, (
                    recommendation_id(school, t.code), school, t.code, HIGH, t.recommendation, name, "target",
                    na, t.name, reason, na, na, na, value, target_value, t.unit)))
        school_rows.sort(key=lambda r: r[0])
        rows += [r for _, r in school_rows]
    return _frame(rows, REC_COLUMNS, ints=("claimed", "points", "max_points"), floats=("value", "target_value"))


@dataclass
class RecommendationsResult:
    """The stage's tables, whether a follow-up was possible (and why not), and other warnings."""

    recommendations: pd.DataFrame
    decisions: pd.DataFrame
    followup: pd.DataFrame
    followup_state: str
    followup_message: str
    previous_year: int | None = None
    messages: list[str] = field(default_factory=list)
    roadmap: pd.DataFrame | None = None
    measures: pd.DataFrame | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """What the stage writes, by file name."""
        return {"recommendations.csv": self.recommendations, "decisions.csv": self.decisions,
                "followup.csv": self.followup, "roadmap.csv": self.roadmap, "measures.csv": self.measures}


def run(
    params: YearParams,
    methodology: Methodology,
    scores: pd.DataFrame,
    positions: pd.DataFrame,
    targets_school: pd.DataFrame,
    *,
    profile: pd.DataFrame | None = None,
    targets_municipal: pd.DataFrame | None = None,
    previous: PreviousYear | None = None,
    measures_reported: pd.DataFrame | None = None,
) -> RecommendationsResult:
    """The whole stage: recommendations, decisions, next year's roadmap, the follow-up of last
    year's recommendations and what became of last year's roadmap (`measures_reported`: the
    clean stage's record of it)."""
    recs = build_recommendations(methodology, scores, positions, targets_school)
    decisions = build_decisions(params, methodology, scores, recs, targets_school, profile, targets_municipal)
    if previous is None:
        previous = PreviousYear(FIRST_YEAR, FIRST_YEAR_MESSAGE) if params.previous_params is None else \
            PreviousYear(PREVIOUS_MISSING, "Данные предыдущего года не переданы: анализ эффективности принятых мер не выполнен.")
    followup = build_followup(methodology, scores, positions, targets_school, previous)
    messages = []
    if profile is None and methodology.visits:
        messages.append("Сведения об ОО (profile.csv) не переданы: выезды по правилам методики (visits) не назначались.")
    roadmap = build_roadmap(decisions, params, methodology, scores)
    measures = build_measures(previous.roadmap, measures_reported)
    unknown = unknown_ids(previous.roadmap, measures_reported)
    if unknown and previous.roadmap is not None:
        messages.append(f"В measures.xlsx есть коды мер, которых нет в дорожной карте {previous.year} года "
                        f"(не учтены): {', '.join(unknown)}.")
    return RecommendationsResult(recs, decisions, followup, previous.state, previous.message, previous.year, messages,
                                 roadmap, measures)


def priority_counts(recommendations: pd.DataFrame) -> pd.DataFrame:
    """Recommendations by priority: priority, рекомендаций, школ."""
    rows = []
    for p in PRIORITIES:
        g = recommendations[recommendations["priority"] == p]
        rows.append({"приоритет": p, "рекомендаций": len(g), "школ": g["school_code"].nunique()})
    rows.append({"приоритет": "всего", "рекомендаций": len(recommendations),
                 "школ": recommendations["school_code"].nunique()})
    return pd.DataFrame(rows)


def deficit_counts(recommendations: pd.DataFrame, methodology: Methodology, top: int = 10) -> pd.DataFrame:
    """The most frequent deficits: indicator, its name and the number of schools per priority."""
    cols = ["indicator_code", "indicator_name", *PRIORITIES, "всего"]
    if recommendations.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    t = pd.crosstab(recommendations["indicator_code"], recommendations["priority"])
    for p in PRIORITIES:
        if p not in t:
            t[p] = 0
    t.columns.name = None
    t["всего"] = t[list(PRIORITIES)].sum(axis=1)
    order = {c: i for i, c in enumerate(_indicator_order(methodology, t.index))}
    t = t.reset_index()
    t["_o"] = t["indicator_code"].map(order)
    t = t.sort_values(["всего", "_o"], ascending=[False, True]).head(top)
    names = {p.code: p.short for p in methodology.positions} | {tt.code: tt.name for tt in methodology.targets}
    t["indicator_name"] = t["indicator_code"].map(names)
    return t[cols].reset_index(drop=True)
