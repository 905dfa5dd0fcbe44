"""Municipal management decisions («управленческие решения») from a year's results: a seminar
(заседание РМО) on every position or target failed by at least `decisions.share_threshold` %
of the schools concerned (positions of one criterion merged, most widespread first, at most
`decisions.max_seminars` a year, the rest deferred), a municipal measure for every municipal-only target not met, a
methodological visit to every school at level «низкий» and to every school the methodology's
visit rules name (a ШНОР without support), and a request for every missing form.

Ids: ``seminar:<code>`` (a position, a target, or a criterion whose positions were merged),
``deferred:<code>``, ``measure:<code>``, ``visit:<school>``, ``request:<school>``.

When: `schedule` gives each decision its month of the next school year (`due_month`,
«YYYY-MM», and `due`, «октябрь 2026»), the one place the roadmap (roadmap.py) takes them from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..config.methodology import Methodology
from ..config.params import Decisions, YearParams
from ..core.contract import OUTPUTS
from ..core.russian import fmt_month, fmt_number
from ..core.values import flags, num
from .indicators import _bool, _frame, _school_codes, _submitted

DEC_COLUMNS = OUTPUTS["recommendations"]["decisions.csv"] + (
    "indicator_code", "n_schools", "n_concerned", "share_failed", "threshold", "basis", "due_month",
)
DEFERRED_DUE = "следующий учебный год"


def _meets_threshold(n_failed: int, n_concerned: int, threshold: float) -> bool:
    """n_failed / n_concerned ≥ threshold %, compared exactly (no float rounding at the edge)."""
    return n_concerned > 0 and n_failed > 0 and n_failed * 100 >= threshold * n_concerned


def _seminar(code: str, name: str, about: str, failed: list[str], n_concerned: int, d: Decisions, what: str) -> dict:
    share = len(failed) * 100 / n_concerned
    return {
        "decision_id": f"seminar:{code}", "kind": "seminar",
        "topic": f"Провести муниципальный семинар (заседание РМО) по теме: «{name}» ({about}, {code})",
        "schools": ";".join(failed), "responsible": d.seminar_responsible,
        "indicator_code": code, "n_schools": len(failed), "n_concerned": n_concerned,
        "share_failed": round(share, 1), "threshold": d.share_threshold,
        "basis": f"{what} в {len(failed)} из {n_concerned} ОО ({fmt_number(share)} %; порог {fmt_number(d.share_threshold)} %)",
    }


def seminars(d: Decisions, methodology: Methodology, submitted: list[str], recommendations: pd.DataFrame,
             targets_school: pd.DataFrame) -> list[dict]:
    """Seminar topics, most widespread first: positions not fully achieved by ≥ threshold % of
    the schools with a form — several positions of one criterion merged into one topic — and
    school targets not met by ≥ threshold % of the schools where they apply. At most
    `max_seminars` a year; the rest are listed as deferred to next year, with the reason."""
    # the schools of each position's recommendations (one pass over a year's 200,000 rows)
    schools_of: dict[Any, set[Any]] = {}
    is_position = (recommendations["kind"] == "position").to_numpy(dtype=bool, na_value=False)
    for code, school in zip(recommendations["indicator_code"].to_numpy(dtype=object)[is_position].tolist(),
                            _school_codes(recommendations["school_code"]).to_numpy(dtype=object)[is_position].tolist()):
        schools_of.setdefault(code, set()).add(school)
    with_form = set(submitted)
    order = methodology.indicator_order()
    by_criterion: dict[str, list[tuple[Any, list[str]]]] = {}
    for p in sorted(methodology.positions, key=lambda p: order[p.code]):
        failed = sorted(schools_of.get(p.code, set()) & with_form)
        if _meets_threshold(len(failed), len(submitted), d.share_threshold):
            by_criterion.setdefault(p.criterion, []).append((p, failed))
    rows = []
    for crit, items in by_criterion.items():
        about = f"критерий {crit} «{methodology.criterion_name(crit)}»"
        what = "позиция не выполнена в полном объёме (балл ниже максимального)"
        if len(items) == 1:
            p, failed = items[0]
            rows.append(_seminar(p.code, p.short, about, failed, len(submitted), d, what))
            continue
        codes = ", ".join(p.code for p, _ in items)
        failed = sorted(set().union(*(set(f) for _, f in items)))
        row = _seminar(crit, methodology.criterion_name(crit), f"позиции {codes}", failed, len(submitted), d,
                       f"хотя бы одна из позиций {codes} не выполнена в полном объёме")
        rows.append(row)
    # each target's schools where it applies (met or not met) and those that did not meet it
    concerned: dict[Any, set[Any]] = {}
    not_met: dict[Any, set[Any]] = {}
    for code, status, school in zip(targets_school["target"].tolist(), targets_school["status"].tolist(),
                                    _school_codes(targets_school["school_code"]).tolist()):
        if status == "met" or status == "not_met":
            concerned.setdefault(code, set()).add(school)
            if status == "not_met":
                not_met.setdefault(code, set()).add(school)
    for t in methodology.targets:
        if "school" not in t.scope:
            continue
        failed = sorted(not_met.get(t.code, set()))
        n_concerned = len(concerned.get(t.code, ()))
        if _meets_threshold(len(failed), n_concerned, d.share_threshold):
            rows.append(_seminar(t.code, t.name, "целевой показатель", failed, n_concerned, d,
                                 "целевой показатель не достигнут"))
    # most widespread first (exact shares: failed × concerned of the other), stable for ties
    rows.sort(key=lambda r: -r["n_schools"] / r["n_concerned"])
    for r in rows[d.max_seminars:]:
        r.update(decision_id=f"deferred:{r['indicator_code']}", kind="deferred", due=DEFERRED_DUE,
                 basis=r["basis"] + f"; перенесено: в году не больше {d.max_seminars} тем семинаров, "
                                    "темы выбраны по доле ОО, которых они касаются")
    return rows


def municipal_measures(d: Decisions, methodology: Methodology, targets_municipal: pd.DataFrame | None) -> list[dict]:
    """A municipal-only target that is not met becomes a municipal measure (its recommendation)."""
    if targets_municipal is None or not len(targets_municipal):
        return []
    met = {k: _bool(v) for k, v in zip(targets_municipal["target"], flags(targets_municipal["met"]))}
    values = dict(zip(targets_municipal["target"], targets_municipal["value"]))
    goals = dict(zip(targets_municipal["target"], targets_municipal["target_value"]))
    rows = []
    for t in methodology.targets:
        if "school" in t.scope or met.get(t.code) is not False:
            continue
        u = " %" if t.unit.strip() == "%" else f" {t.unit.strip()}"
        rows.append({
            "decision_id": f"measure:{t.code}", "kind": "measure", "topic": t.recommendation,
            "schools": "", "responsible": d.seminar_responsible,
            "indicator_code": t.code, "n_schools": 0, "n_concerned": pd.NA, "share_failed": pd.NA, "threshold": pd.NA,
            "basis": f"муниципальный показатель «{t.name}» не достигнут: "
                     f"{fmt_number(num(values.get(t.code)))}{u} при целевом {fmt_number(num(goals.get(t.code)))}{u}",
        })
    return rows


def visit_reasons(methodology: Methodology, scores: pd.DataFrame, profile: pd.DataFrame | None) -> dict[str, list[str]]:
    """Why each school gets a methodological visit: level «низкий», and the methodology's visit
    rules (a да in `when` without a да in `unless`)."""
    reasons: dict[str, list[str]] = {}
    for code, level, total in zip(_school_codes(scores["school_code"]), scores["level"], scores.get("total_score", [None] * len(scores))):
        if str(level) == "низкий":
            total = num(total)
            tail = f" (итоговый балл {fmt_number(total)}, зона риска)" if total is not None else " (зона риска)"
            reasons.setdefault(code, []).append(f"уровень «низкий»{tail}")
    if profile is None or not len(profile):
        return reasons
    codes = _school_codes(profile["school_code"])
    for rule in methodology.visits:
        when = flags(profile[rule.when]).fillna(False).astype(bool)
        unless = flags(profile[rule.unless]) if rule.unless else pd.Series(pd.NA, index=profile.index, dtype="boolean")
        for code, sup in zip(codes[when], unless[when]):
            sup = _bool(sup)
            if sup is True:
                continue
            reasons.setdefault(code, []).append(rule.reason if sup is False or not rule.unless else (rule.reason_unknown or rule.reason))
    return reasons


def _named(code: str, names: dict[str, Any]) -> str:
    name = names.get(code)
    return f"ОО {code}" + (f" «{name}»" if isinstance(name, str) and name else "")


def visits_and_requests(params: YearParams, reasons: dict[str, list[str]], scores: pd.DataFrame,
                        submitted: list[str]) -> list[dict]:
    """One visit per school with a reason (reasons merged), one request per school without a form."""
    d = params.decisions
    codes = _school_codes(scores["school_code"])
    names = dict(zip(codes, scores.get("school_name", pd.Series(dtype="object"))))
    rows = []
    for code in sorted(reasons):
        rows.append({
            "decision_id": f"visit:{code}", "kind": "visit",
            "topic": f"Организовать методический выезд в {_named(code, names)} с целью оказания методической помощи",
            "schools": code, "responsible": d.visit_responsible,
            "n_schools": 1, "basis": "; ".join(reasons[code]),
        })
    for code in sorted(set(codes) - set(submitted)):
        rows.append({
            "decision_id": f"request:{code}", "kind": "request",
            "topic": f"Запросить у {_named(code, names)} форму мониторинга за {params.academic_year} учебный год; "
                     "при непредставлении — провести выезд для сбора сведений",
            "schools": code, "responsible": d.visit_responsible,
            "n_schools": 1, "basis": "форма мониторинга не представлена или не принята",
        })
    return rows


def school_month(year: int, month: int) -> str:
    """«YYYY-MM» of a month number of the school year after the June review of `year`: months
    7–12 fall in `year`, months 1–6 in the next (the review of June 2026 → 2026-10, 2027-02)."""
    return f"{year if month >= 7 else year + 1}-{month:02d}"


def spread(n: int, months: list[int]) -> list[int]:
    """The month of each of n items in order: one a month while there are fewer items than
    months, else the months shared out evenly, earlier months first."""
    k = len(months)
    return [months[i * k // max(n, k)] for i in range(n)]


def schedule(rows: list[dict], params: YearParams) -> list[dict]:
    """Give each decision its month (`due_month`, `due`): seminars and municipal measures in
    their order (most important first) over `decisions.seminar_months`, visits in school order
    evenly over `decisions.visit_months`, requests for forms in the first visit month;
    deferred topics none. The one home of a decision's date."""
    d = params.decisions

    def month_of(kinds: tuple[str, ...], months: list[int]) -> None:
        picked = [r for r in rows if r["kind"] in kinds]
        for r, m in zip(picked, spread(len(picked), months)):
            r["due_month"] = school_month(params.year, m)

    month_of(("seminar", "measure"), d.seminar_months)
    month_of(("visit",), d.visit_months)
    for r in rows:
        if r["kind"] == "request":
            r["due_month"] = school_month(params.year, d.visit_months[0])
        r["due"] = fmt_month(r["due_month"]) if r.get("due_month") else DEFERRED_DUE
    return rows


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
    submitted = _submitted(scores)
    rows = seminars(d, methodology, submitted, recommendations, targets_school)
    rows += municipal_measures(d, methodology, targets_municipal)
    rows += visits_and_requests(params, visit_reasons(methodology, scores, profile), scores, submitted)
    rows = schedule(rows, params)
    return _frame(rows, DEC_COLUMNS, ints=("n_schools", "n_concerned"), floats=("share_failed", "threshold"))
