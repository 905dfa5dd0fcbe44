"""The recommendations stage: targeted recommendations per school, municipal management
decisions, and the follow-up of last year's recommendations.

In the words of the municipal orders this is «адресные рекомендации» → «управленческие
решения» → «анализ эффективности принятых мер». The stage reads the score outputs (and the
clean stage's profile.csv for ШНОР flags) as DataFrames and returns DataFrames; reading and
writing stay at the edges (the notebook, the runner). `load_previous` is the one edge helper
that finds last year's outputs through `previous_params`.

Rules (SPEC §6, the year's `decisions:` block):

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

import math
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .contract import DECISION_KINDS, FOLLOWUP_STATUSES, OUTPUTS, PRIORITIES
from .errors import PipelineError
from .methodology import Methodology
from .params import YearParams, load_params
from .storage import read_table, sha256_file

HIGH, MEDIUM = PRIORITIES  # "высокий", "средний"
FIXED, IMPROVED, UNCHANGED, WORSE, NO_DATA = FOLLOWUP_STATUSES

# Decision kinds (decisions.csv `kind`) and how a person reads them.

# Follow-up availability (RecommendationsResult.followup_state / PreviousYear.state).
FIRST_YEAR = "first_year"
PREVIOUS_MISSING = "previous_missing"
AVAILABLE = "available"

FIRST_YEAR_MESSAGE = (
    "Первый год мониторинга: анализ эффективности принятых мер будет доступен со следующего года."
)

REC_COLUMNS = OUTPUTS["recommendations"]["recommendations.csv"] + (
    "school_name", "kind", "criterion", "indicator_name", "reason",
    "claimed", "points", "max_points", "value", "target_value", "unit",
)
DEC_COLUMNS = OUTPUTS["recommendations"]["decisions.csv"] + (
    "indicator_code", "n_schools", "n_concerned", "share_failed", "threshold", "basis",
)
FOLLOWUP_COLUMNS = OUTPUTS["recommendations"]["followup.csv"] + (
    "kind", "previous_priority", "previous_points", "current_points", "max_points",
    "previous_value", "current_value", "target_value", "note",
)

_TRUE = {"true", "1", "1.0", "да", "yes"}
_FALSE = {"false", "0", "0.0", "нет", "no"}


# --------------------------------------------------------------------------- helpers


def _flag(series: pd.Series) -> pd.Series:
    """True/False/<NA> from booleans or their text forms (True, "True", "да", 1...)."""

    def one(v: Any) -> Any:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return pd.NA
        if isinstance(v, bool):
            return v
        s = str(v).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        return pd.NA

    return series.map(one).astype("boolean")


def _bool(v: Any) -> bool | None:
    """A plain bool, or None for <NA>."""
    return None if v is None or v is pd.NA else bool(v)


def _num(v: Any) -> float | None:
    """A float, or None for empty / non-numeric."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def fmt_number(x: float | None) -> str:
    """Russian number: decimal comma, one decimal rounded half up (42,25 → 42,3), no trailing «,0»."""
    if x is None:
        return "—"
    d = Decimal(repr(float(x))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{d:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace(".", ",")


def _unit(unit: str) -> str:
    return " %" if unit.strip() == "%" else f" {unit.strip()}"


def _order(methodology: Methodology) -> dict[str, tuple[int, int, int]]:
    """Sort key of every indicator: positions (criterion order, position order), then targets."""
    crit = {c.code: i for i, c in enumerate(methodology.criteria)}
    key = {p.code: (0, crit[p.criterion], i) for i, p in enumerate(methodology.positions)}
    key.update({t.code: (1, 0, i) for i, t in enumerate(methodology.targets)})
    return key


def _indicator_order(methodology: Methodology, codes) -> list[str]:
    """Codes in methodology order; unknown codes after, alphabetically."""
    key = _order(methodology)
    return sorted(set(codes), key=lambda c: (0, key[c]) if c in key else (1, (0, 0, 0), c))


def _school_codes(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


def _submitted(scores: pd.DataFrame) -> list[str]:
    flags = _flag(scores["submitted"]).fillna(False).astype(bool)
    return sorted(_school_codes(scores.loc[flags, "school_code"]).tolist())


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _frame(rows: list[dict], columns: tuple[str, ...], ints=(), floats=()) -> pd.DataFrame:
    if not rows:
        return _empty(columns)
    df = pd.DataFrame(rows, columns=list(columns))
    for c in ints:
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    for c in floats:
        df[c] = pd.to_numeric(df[c]).astype("Float64")
    return df


# --------------------------------------------------------------------------- recommendations


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


def target_reason(measure_kind: str, value: float | None, target_value: float | None, unit: str) -> str:
    """Why a school target is not met, in Russian."""
    if measure_kind == "flag":
        return "показатель не достигнут: в форме не указано «да»"
    if value is None:
        return "показатель не достигнут: значение не рассчитано"
    u = _unit(unit)
    text = f"показатель не достигнут: {fmt_number(value)}{u}"
    if target_value is not None:
        text += f" при целевом {fmt_number(target_value)}{u}"
    return text


def build_recommendations(
    methodology: Methodology,
    scores: pd.DataFrame,
    positions: pd.DataFrame,
    targets_school: pd.DataFrame,
) -> pd.DataFrame:
    """recommendations.csv: one row per (school with a form, position or target needing work)."""
    submitted = _submitted(scores)
    names = dict(zip(_school_codes(scores["school_code"]), scores.get("school_name", pd.Series(dtype="object"))))
    order = _order(methodology)

    pos = positions.copy()
    pos["school_code"] = _school_codes(pos["school_code"])
    pos["confirmed_flag"] = _flag(pos["confirmed"]) if "confirmed" in pos else pd.NA
    by_key = {(r.school_code, r.position): r for r in pos.itertuples(index=False)}

    tgt = targets_school.copy()
    tgt["school_code"] = _school_codes(tgt["school_code"])
    tgt_by_key = {(r.school_code, r.target): r for r in tgt.itertuples(index=False)}

    rows: list[dict] = []
    for school in submitted:
        for p in methodology.positions:
            r = by_key.get((school, p.code))
            points = _num(r.points) if r is not None else None
            claimed = _num(r.claimed) if r is not None else None
            confirmed = _bool(r.confirmed_flag) if r is not None else None
            got = position_priority(points, claimed, confirmed, p.max_points)
            if got is None:
                continue
            priority, reason = got
            rows.append({
                "school_code": school, "indicator_code": p.code, "priority": priority,
                "text": p.recommendation, "kind": "position", "criterion": p.criterion,
                "indicator_name": p.short, "reason": reason, "claimed": claimed,
                "points": 0 if points is None else points, "max_points": p.max_points,
            })
        for t in methodology.targets:
            if "school" not in t.scope:
                continue
            r = tgt_by_key.get((school, t.code))
            if r is None or str(r.status) != "not_met":
                continue
            value, target_value = _num(r.value), _num(r.target_value)
            rows.append({
                "school_code": school, "indicator_code": t.code, "priority": HIGH,
                "text": t.recommendation, "kind": "target", "indicator_name": t.name,
                "reason": target_reason(t.measure.kind, value, target_value, t.unit),
                "value": value, "target_value": target_value, "unit": t.unit,
            })
    for r in rows:
        r["recommendation_id"] = recommendation_id(r["school_code"], r["indicator_code"])
        r["school_name"] = names.get(r["school_code"])
    rank = {p: i for i, p in enumerate(PRIORITIES)}
    rows.sort(key=lambda r: (r["school_code"], rank[r["priority"]], order[r["indicator_code"]]))
    return _frame(rows, REC_COLUMNS, ints=("claimed", "points", "max_points"), floats=("value", "target_value"))


def recommendation_id(school_code: str, indicator_code: str) -> str:
    """The stable id of a recommendation: the same school and indicator → the same id every year."""
    return f"{school_code}:{indicator_code}"


# --------------------------------------------------------------------------- decisions


def _meets_threshold(n_failed: int, n_concerned: int, threshold: float) -> bool:
    """n_failed / n_concerned ≥ threshold %, compared exactly (no float rounding at the edge)."""
    return n_concerned > 0 and n_failed > 0 and n_failed * 100 >= threshold * n_concerned


def build_decisions(
    params: YearParams,
    methodology: Methodology,
    scores: pd.DataFrame,
    recommendations: pd.DataFrame,
    targets_school: pd.DataFrame,
    profile: pd.DataFrame | None = None,
    targets_municipal: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """decisions.csv: seminars, municipal measures, visits and form requests, in that order."""
    d = params.decisions
    threshold = d.share_threshold
    submitted = _submitted(scores)
    rows: list[dict] = []

    # seminars: positions not fully achieved by ≥ threshold % of the schools with a form
    recs = recommendations.copy()
    recs["school_code"] = _school_codes(recs["school_code"])
    for p in _sorted_positions(methodology):
        failed = sorted(set(recs.loc[(recs["indicator_code"] == p.code) & (recs["kind"] == "position"), "school_code"]) & set(submitted))
        if _meets_threshold(len(failed), len(submitted), threshold):
            rows.append(_seminar(p.code, p.short, f"критерий {p.criterion} «{methodology.criterion_name(p.criterion)}»",
                                 failed, len(submitted), threshold, d,
                                 "позиция не выполнена в полном объёме (балл ниже максимального)"))
    # seminars: school targets not met by ≥ threshold % of the schools where they apply
    tgt = targets_school.copy()
    tgt["school_code"] = _school_codes(tgt["school_code"])
    for t in methodology.targets:
        if "school" not in t.scope:
            continue
        rows_t = tgt[(tgt["target"] == t.code) & tgt["status"].isin(["met", "not_met"])]
        concerned = set(rows_t["school_code"])
        failed = sorted(set(rows_t.loc[rows_t["status"] == "not_met", "school_code"]))
        if _meets_threshold(len(failed), len(concerned), threshold):
            rows.append(_seminar(t.code, t.name, "целевой показатель", failed, len(concerned), threshold, d,
                                 "целевой показатель не достигнут"))
    # municipal-only targets not met → a municipal measure
    if targets_municipal is not None and len(targets_municipal):
        met = {k: _bool(v) for k, v in zip(targets_municipal["target"], _flag(targets_municipal["met"]))}
        values = dict(zip(targets_municipal["target"], targets_municipal["value"]))
        goals = dict(zip(targets_municipal["target"], targets_municipal["target_value"]))
        for t in methodology.targets:
            if "school" in t.scope or met.get(t.code) is not False:
                continue
            u = _unit(t.unit)
            rows.append({
                "decision_id": f"measure:{t.code}", "kind": "measure", "topic": t.recommendation,
                "schools": "", "responsible": d.seminar_responsible, "due": d.seminar_due,
                "indicator_code": t.code, "n_schools": 0, "n_concerned": pd.NA, "share_failed": pd.NA,
                "threshold": pd.NA,
                "basis": f"муниципальный показатель «{t.name}» не достигнут: "
                         f"{fmt_number(_num(values.get(t.code)))}{u} при целевом {fmt_number(_num(goals.get(t.code)))}{u}",
            })
    # visits: level низкий, or ШНОР without confirmed support
    reasons: dict[str, list[str]] = {}
    sc = scores.copy()
    sc["school_code"] = _school_codes(sc["school_code"])
    for r in sc.itertuples(index=False):
        if str(r.level) == "низкий":
            total = _num(getattr(r, "total_score", None))
            tail = f" (итоговый балл {fmt_number(total)}, зона риска)" if total is not None else " (зона риска)"
            reasons.setdefault(r.school_code, []).append(f"уровень «низкий»{tail}")
    if profile is not None and len(profile):
        pr = profile.copy()
        pr["school_code"] = _school_codes(pr["school_code"])
        low = _flag(pr["low_results"]).fillna(False).astype(bool)
        support = _flag(pr["low_results_support"])
        for code, sup in zip(pr.loc[low, "school_code"], support[low]):
            sup = _bool(sup)
            if sup is True:
                continue
            why = "ШНОР, методическая поддержка не получена" if sup is False else "ШНОР, получение методической поддержки не подтверждено"
            reasons.setdefault(code, []).append(why)
    names = dict(zip(sc["school_code"], sc.get("school_name", pd.Series(dtype="object"))))
    for code in sorted(reasons):
        name = names.get(code)
        label = f"ОО {code}" + (f" «{name}»" if isinstance(name, str) and name else "")
        rows.append({
            "decision_id": f"visit:{code}", "kind": "visit",
            "topic": f"Организовать методический выезд в {label} с целью оказания методической помощи",
            "schools": code, "responsible": d.visit_responsible, "due": d.visit_due,
            "n_schools": 1, "basis": "; ".join(reasons[code]),
        })
    # requests: schools in the registry without an accepted form
    missing = sorted(set(sc["school_code"]) - set(submitted))
    for code in missing:
        name = names.get(code)
        label = f"ОО {code}" + (f" «{name}»" if isinstance(name, str) and name else "")
        rows.append({
            "decision_id": f"request:{code}", "kind": "request",
            "topic": f"Запросить у {label} форму мониторинга за {params.academic_year} учебный год; "
                     "при непредставлении — провести выезд для сбора сведений",
            "schools": code, "responsible": d.visit_responsible, "due": d.visit_due,
            "n_schools": 1, "basis": "форма мониторинга не представлена или не принята",
        })
    return _frame(rows, DEC_COLUMNS, ints=("n_schools", "n_concerned"), floats=("share_failed", "threshold"))


def _sorted_positions(methodology: Methodology):
    order = _order(methodology)
    return sorted(methodology.positions, key=lambda p: order[p.code])


def _seminar(code, name, about, failed, n_concerned, threshold, d, what) -> dict:
    share = len(failed) * 100 / n_concerned
    return {
        "decision_id": f"seminar:{code}", "kind": "seminar",
        "topic": f"Провести муниципальный семинар (заседание РМО) по теме: «{name}» ({about}, {code})",
        "schools": ";".join(failed), "responsible": d.seminar_responsible, "due": d.seminar_due,
        "indicator_code": code, "n_schools": len(failed), "n_concerned": n_concerned,
        "share_failed": round(share, 1), "threshold": threshold,
        "basis": f"{what} в {len(failed)} из {n_concerned} ОО ({fmt_number(share)} %; порог {fmt_number(threshold)} %)",
    }


# --------------------------------------------------------------------------- follow-up


@dataclass
class PreviousYear:
    """Last year's outputs the follow-up needs, and whether they could be found."""

    state: str  # FIRST_YEAR, PREVIOUS_MISSING or AVAILABLE
    message: str
    year: int | None = None
    processed_dir: Path | None = None
    recommendations: pd.DataFrame | None = None
    positions: pd.DataFrame | None = None
    targets_school: pd.DataFrame | None = None

    def inputs_table(self) -> pd.DataFrame:
        """Last year's files the follow-up read, with sha256 (the stage header names only this year's)."""
        return pd.DataFrame([{"файл предыдущего года": str(p), "sha256": sha256_file(p)} for p in self.inputs],
                            columns=["файл предыдущего года", "sha256"])

    @property
    def inputs(self) -> list[Path]:
        """Files read (for the stage header's checksums)."""
        if self.processed_dir is None:
            return []
        return [self.processed_dir / n for n in ("recommendations.csv", "positions.csv", "targets_school.csv")
                if (self.processed_dir / n).is_file()]


def load_previous(params: YearParams) -> PreviousYear:
    """Find last year's outputs through params.previous_params; never raises for absence."""
    if params.previous_params is None:
        return PreviousYear(FIRST_YEAR, FIRST_YEAR_MESSAGE)
    try:
        prev = load_params(params.previous_params, check_files=False)
    except PipelineError as exc:
        return PreviousYear(PREVIOUS_MISSING, f"Параметры предыдущего года не загружены: {exc} "
                            "Анализ эффективности принятых мер в этом году не выполнен.")
    folder = prev.processed_dir
    rec_file = folder / "recommendations.csv"
    if not rec_file.is_file():
        return PreviousYear(
            PREVIOUS_MISSING,
            f"Результаты {prev.year} года не найдены (нет файла {rec_file}): анализ эффективности "
            f"принятых мер не выполнен. Выполните сначала {prev.year} год "
            f"(python -m pipeline run --params {params.previous_params}) и запустите этот год снова.",
            year=prev.year, processed_dir=folder,
        )

    def optional(name: str) -> pd.DataFrame | None:
        return read_table(folder, name) if (folder / name).is_file() else None

    return PreviousYear(
        AVAILABLE, f"Анализ эффективности принятых мер: рекомендации {prev.year} года из {folder}.",
        year=prev.year, processed_dir=folder, recommendations=read_table(folder, "recommendations.csv"),
        positions=optional("positions.csv"), targets_school=optional("targets_school.csv"),
    )


def _compare(current: float | None, previous: float | None) -> str:
    if current is None or previous is None:
        return UNCHANGED
    c, p = round(current, 6), round(previous, 6)
    return IMPROVED if c > p else WORSE if c < p else UNCHANGED


def build_followup(
    methodology: Methodology,
    scores: pd.DataFrame,
    positions: pd.DataFrame,
    targets_school: pd.DataFrame,
    previous: PreviousYear | None,
) -> pd.DataFrame:
    """followup.csv: each of last year's recommendations and what became of it this year."""
    if previous is None or previous.state != AVAILABLE or previous.recommendations is None:
        return _empty(FOLLOWUP_COLUMNS)
    prev = previous.recommendations.copy()
    if prev.empty:
        return _empty(FOLLOWUP_COLUMNS)
    prev["school_code"] = _school_codes(prev["school_code"])
    submitted = set(_submitted(scores))
    pos_codes = {p.code: p for p in methodology.positions}
    tgt_codes = {t.code: t for t in methodology.targets if "school" in t.scope}

    def index(df: pd.DataFrame | None, key: str) -> dict:
        if df is None or df.empty:
            return {}
        df = df.copy()
        df["school_code"] = _school_codes(df["school_code"])
        return {(r.school_code, getattr(r, key)): r for r in df.itertuples(index=False)}

    cur_pos, cur_tgt = index(positions, "position"), index(targets_school, "target")
    old_pos, old_tgt = index(previous.positions, "position"), index(previous.targets_school, "target")

    rows = []
    for r in prev.itertuples(index=False):
        school, code = r.school_code, str(r.indicator_code)
        kind = getattr(r, "kind", None)
        if not isinstance(kind, str):
            kind = "target" if code in tgt_codes else "position"
        row = {"recommendation_id": getattr(r, "recommendation_id", None) or recommendation_id(school, code),
               "school_code": school, "indicator_code": code, "kind": kind,
               "previous_priority": getattr(r, "priority", None)}
        if kind == "position":
            old = old_pos.get((school, code))
            prev_points = _num(old.points) if old is not None else _num(getattr(r, "points", None))
            row["previous_points"] = 0 if prev_points is None else prev_points
            if code not in pos_codes:
                row.update(status=NO_DATA, note="позиция исключена из методики")
            elif school not in submitted:
                row.update(status=NO_DATA, note="форма в этом году не представлена")
            else:
                mx = pos_codes[code].max_points
                cur = cur_pos.get((school, code))
                cur_points = _num(cur.points) if cur is not None else None
                cur_points = 0 if cur_points is None else cur_points
                row.update(current_points=cur_points, max_points=mx)
                row["status"] = FIXED if cur_points >= mx else _compare(cur_points, row["previous_points"])
        else:
            old = old_tgt.get((school, code))
            row["previous_value"] = _num(old.value) if old is not None else _num(getattr(r, "value", None))
            cur = cur_tgt.get((school, code))
            if code not in tgt_codes:
                row.update(status=NO_DATA, note="показатель исключён из методики")
            elif school not in submitted or cur is None or str(cur.status) == "not_submitted":
                row.update(status=NO_DATA, note="форма в этом году не представлена")
            elif str(cur.status) == "not_applicable":
                row.update(status=NO_DATA, note="показатель в этом году к школе не применяется")
            else:
                row.update(current_value=_num(cur.value), target_value=_num(cur.target_value))
                row["status"] = FIXED if str(cur.status) == "met" else _compare(row["current_value"], row["previous_value"])
        rows.append(row)
    return _frame(rows, FOLLOWUP_COLUMNS, ints=("previous_points", "current_points", "max_points"),
                  floats=("previous_value", "current_value", "target_value"))


def followup_summary(followup: pd.DataFrame, methodology: Methodology, *, shares: bool = True) -> pd.DataFrame:
    """Per indicator and overall («всего», last row): n and the share (%) or count of each status.

    Columns: indicator_code, indicator_name, n, then one column per status in FOLLOWUP_STATUSES order.
    """
    cols = ["indicator_code", "indicator_name", "n", *FOLLOWUP_STATUSES]
    if followup.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    names = {p.code: p.short for p in methodology.positions} | {t.code: t.name for t in methodology.targets}
    out = []
    groups = [(c, followup[followup["indicator_code"] == c]) for c in _indicator_order(methodology, followup["indicator_code"])]
    for code, g in groups + [("всего", followup)]:
        counts = g["status"].value_counts()
        n = len(g)
        row = {"indicator_code": code, "indicator_name": names.get(code, "все рекомендации" if code == "всего" else ""), "n": n}
        for s in FOLLOWUP_STATUSES:
            k = int(counts.get(s, 0))
            row[s] = round(k * 100 / n, 1) if shares else k
        out.append(row)
    return pd.DataFrame(out, columns=cols)


# --------------------------------------------------------------------------- the stage


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

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """What the stage writes, by file name."""
        return {"recommendations.csv": self.recommendations, "decisions.csv": self.decisions,
                "followup.csv": self.followup}


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
) -> RecommendationsResult:
    """The whole stage: recommendations, decisions and follow-up from the score outputs."""
    recs = build_recommendations(methodology, scores, positions, targets_school)
    decisions = build_decisions(params, methodology, scores, recs, targets_school, profile, targets_municipal)
    if previous is None:
        previous = PreviousYear(FIRST_YEAR, FIRST_YEAR_MESSAGE) if params.previous_params is None else \
            PreviousYear(PREVIOUS_MISSING, "Данные предыдущего года не переданы: анализ эффективности принятых мер не выполнен.")
    followup = build_followup(methodology, scores, positions, targets_school, previous)
    messages = []
    if profile is None:
        messages.append("Сведения о ШНОР (profile.csv) не переданы: выезды в ШНОР без поддержки не назначались.")
    return RecommendationsResult(recs, decisions, followup, previous.state, previous.message, previous.year, messages)


# --------------------------------------------------------------------------- what the notebook shows


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


def plot_deficits(deficits: pd.DataFrame, ax=None):
    """Horizontal stacked bars: schools with a recommendation per indicator, by priority."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.45 * max(len(deficits), 2) + 1.2))
    d = deficits.iloc[::-1]
    labels = [f"{c} — {_short(n)}" for c, n in zip(d["indicator_code"], d["indicator_name"])]
    left = [0] * len(d)
    for p, colour in zip(PRIORITIES, ("#c0392b", "#f1c40f")):
        ax.barh(labels, d[p], left=left, color=colour, label=f"приоритет «{p}»")
        left = [a + b for a, b in zip(left, d[p])]
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Число школ, получивших рекомендацию")
    ax.set_title("Наиболее частые дефициты")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.figure.tight_layout()
    return ax


def plot_followup(summary: pd.DataFrame, ax=None):
    """Horizontal stacked bars of follow-up status shares per indicator and overall."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.4 * max(len(summary), 2) + 1.5))
    d = summary.iloc[::-1]
    labels = [f"{c} (n={n})" for c, n in zip(d["indicator_code"], d["n"])]
    colours = ("#27ae60", "#a9dfbf", "#bdc3c7", "#e74c3c", "#7f8c8d")
    left = [0.0] * len(d)
    for s, colour in zip(FOLLOWUP_STATUSES, colours):
        ax.barh(labels, d[s], left=left, color=colour, label=s)
        left = [a + b for a, b in zip(left, d[s])]
    ax.set_xlim(0, 100)
    ax.set_xlabel("Доля рекомендаций прошлого года, %")
    ax.set_title("Анализ эффективности принятых мер")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.figure.tight_layout()
    return ax


def _short(text: Any, n: int = 45) -> str:
    text = "" if not isinstance(text, str) else text
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
