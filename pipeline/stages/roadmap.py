"""Next year's roadmap («дорожная карта», the form of seed 004): one row per measure the
municipality takes — each seminar (заседание РМО) topic, each municipal measure, each
methodological visit with its school — with its number, name, month, indicative indicator and
executors. Deferred topics and requests for forms are not measures and are left out.

A pure function of decisions.csv (its `due_month`/`due` come from decisions.py `schedule`, the
one home of a decision's date), the year's parameters, the methodology (names of topics) and
scores.csv (names and levels of schools). Rows are ordered by month, then seminars, measures,
visits in the decisions' order, and numbered 1…n in that order.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..config.methodology import Methodology
from ..config.params import YearParams
from ..core.contract import DECISION_KINDS, OUTPUTS
from ..core.russian import fmt_number
from ..core.values import num, text
from .indicators import _frame, _school_codes

ROADMAP_KINDS = ("seminar", "measure", "visit")   # decision kinds that are measures of the roadmap
ROADMAP_COLUMNS = OUTPUTS["recommendations"]["roadmap.csv"] + ("indicator_code", "schools")


def _topic_name(methodology: Methodology, code: str) -> tuple[str, str]:
    """(what the topic is, its name) of a seminar's indicator code: a position, a criterion whose
    positions were merged, or a school target."""
    positions = {p.code: p for p in methodology.positions}
    criteria = {c.code: c for c in methodology.criteria}
    targets = {t.code: t for t in methodology.targets}
    if code in positions:
        return f"выполнивших в полном объёме позицию {code}", positions[code].short
    if code in criteria:
        return f"выполнивших в полном объёме позиции критерия {code}", criteria[code].name
    if code in targets:
        return f"достигших целевого показателя {code}", targets[code].name
    return f"выполнивших {code}", code


def _achieved(row: Any) -> str:
    """The share of the schools concerned that achieved the topic this year, as text."""
    n, of = num(row.get("n_schools")), num(row.get("n_concerned"))
    if n is None or not of:
        return ""
    return f"{fmt_number((of - n) * 100 / of)} %"


def _seminar(row: dict, params: YearParams, methodology: Methodology) -> tuple[str, str]:
    code = text(row.get("indicator_code"))
    what, name = _topic_name(methodology, code)
    goal = fmt_number(100 - params.decisions.share_threshold)
    now = _achieved(row)
    tail = f" (по итогам {params.academic_year} учебного года — {now})" if now else ""
    title = f"{DECISION_KINDS['seminar']} «{name}»"
    indicator = (f"проведено заседание, протокол; доля ОО, {what} «{name}», — не менее {goal} %"
                 f" в мониторинге {params.year + 1} года{tail}")
    return title, indicator


def _measure(row: dict, params: YearParams, methodology: Methodology) -> tuple[str, str]:
    code = text(row.get("indicator_code"))
    targets = {t.code: t for t in methodology.targets}
    t = targets.get(code)
    if t is None:
        return text(row.get("topic")), "мера выполнена"
    goal = params.targets.get(code)
    level = f" ({t.kind.goal_text(goal)})" if goal is not None else ""
    return text(row.get("topic")), f"муниципальный показатель {code} «{t.name}» достигнут{level}"


def _visit(row: dict, params: YearParams, names: dict[str, str], levels: dict[str, str]) -> tuple[str, str]:
    code = text(row.get("schools"))
    name = names.get(code) or "ОО"
    title = f"{DECISION_KINDS['visit']} в {name} (код {code})"
    indicator = "проведён выезд, справка по его итогам; согласован план устранения дефицитов ОО"
    if levels.get(code) == "низкий":
        indicator += f"; в мониторинге {params.year + 1} года уровень ОО не ниже «средний»"
    return title, indicator


def build_roadmap(decisions: pd.DataFrame, params: YearParams, methodology: Methodology,
                  scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """roadmap.csv: each seminar, municipal measure and visit of decisions.csv, by month."""
    names: dict[str, str] = {}
    levels: dict[str, str] = {}
    if scores is not None and len(scores):
        codes = _school_codes(scores["school_code"])
        names = {c: text(n) for c, n in zip(codes, scores.get("school_name", [None] * len(scores))) if text(n)}
        levels = {c: text(v) for c, v in zip(codes, scores.get("level", [None] * len(scores)))}
    rank = {k: i for i, k in enumerate(ROADMAP_KINDS)}
    rows = []
    for i, row in enumerate(decisions.to_dict("records")):
        kind = text(row.get("kind"))
        if kind not in rank:
            continue
        if kind == "seminar":
            title, indicator = _seminar(row, params, methodology)
        elif kind == "measure":
            title, indicator = _measure(row, params, methodology)
        else:
            title, indicator = _visit(row, params, names, levels)
        rows.append({
            "decision_id": text(row.get("decision_id")), "kind": kind, "title": title,
            "due_month": text(row.get("due_month")), "due": text(row.get("due")), "indicator": indicator,
            "executors": text(row.get("responsible")), "school_code": text(row.get("schools")) if kind == "visit" else "",
            "indicator_code": text(row.get("indicator_code")), "schools": text(row.get("schools")),
            "_order": (text(row.get("due_month")), rank[kind], i),
        })
    rows.sort(key=lambda r: r.pop("_order"))
    for n, r in enumerate(rows, start=1):
        r["number"] = n
    return _frame(rows, ROADMAP_COLUMNS, ints=("number",))
