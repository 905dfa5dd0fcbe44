"""What each school's page shows, built once per context column by column."""

from __future__ import annotations

import gc
from collections import namedtuple
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ..core.contract import DECISION_KINDS, PRIORITIES
from ..core.levels import trend, zone_of
from ..core.privacy import PERSONAL_FIELDS, is_small, small_label
from ..core.russian import fmt_int, fmt_num, fmt_pct
from ..core.values import as_bool, num, text
from ..fast.columns import _each_number, _in_order, _split, _texts, _values
from ..fast.links import safe_link
from .context import NO_DATA, ReportContext
from .html import trend_chip
from .labels import SEVERITY_LABEL, TARGET_STATUS_LABEL, TARGET_STATUS_MARK, ZONE_CLASS, rule_name
from .sections import _codes
from .tables import _shared, cluster_shares, criteria_table, indicator_names, position_matrix, school_table, staff_denominators


# A school's page rows, one named tuple per table row; the fields are the keys (in order) of
# the row dicts school_view returns. Named tuples because the page template reads a field by
# attribute, which jinja2 tries first (on a dict that attempt fails for every field).
CriterionRow = namedtuple("CriterionRow", "code name pct pct_text mean mean_text points zone zone_class trend")


ShareRow = namedtuple("ShareRow", "code name value cluster")


TargetRow = namedtuple("TargetRow", "code name value goal status status_label mark")


PositionRow = namedtuple("PositionRow", "code short criterion claimed points max state unconfirmed document link href")


RecommendationRow = namedtuple("RecommendationRow", "priority priority_class code name text reason")


FollowupRow = namedtuple("FollowupRow", "code name status status_class")


DecisionRow = namedtuple("DecisionRow", "kind topic responsible due")


IssueRow = namedtuple("IssueRow", "sheet cell severity rule message action")


# the lists of rows of a view (history is a list of {"year", "total"}, as charts.history_svg reads it)
ROW_LISTS = ("criteria", "shares", "targets", "positions", "recommendations", "followup", "decisions", "issues")


def _school_records(ctx: ReportContext, key: str, df: pd.DataFrame, code: str) -> list[dict[str, Any]]:
    """The rows of a table for one school code (compared as text), in file order, as dicts.
    The table is split by school once per context. (The school pages no longer use this:
    they read _school_rows, which keeps only the shown values, not a dict per table row.)"""
    cache_key = f"by_school:{key}"
    if cache_key not in ctx.cache:
        groups: dict[str, list[dict[str, Any]]] = {}
        for c, record in zip(df["school_code"].map(text), df.to_dict("records")):
            groups.setdefault(c, []).append(record)
        ctx.cache[cache_key] = groups
    return ctx.cache[cache_key].get(code, [])


def _first_by(records: list[dict[str, Any]], column: str) -> dict[str, dict[str, Any]]:
    """The first record of each value (as text) of column."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        out.setdefault(text(r.get(column)), r)
    return out


def _decisions_by_school(ctx: ReportContext) -> dict[str, list[dict[str, Any]]]:
    """decisions.csv records per school code they name, in file order (split once)."""
    key = "decisions_by_school"
    if key not in ctx.cache:
        out: dict[str, list[dict[str, Any]]] = {}
        for r in ctx.data["decisions.csv"].to_dict("records"):
            for code in dict.fromkeys(_codes(r["schools"])):
                out.setdefault(code, []).append(r)
        ctx.cache[key] = out
    return ctx.cache[key]


def _history_totals(ctx: ReportContext) -> list[tuple[int, dict[str, Any]]]:
    """(year, {school code: total_score}) of every history year with data (built once)."""
    key = "history_totals"
    if key not in ctx.cache:
        out = []
        for hy in ctx.history:
            if hy.data is None:
                continue
            sc = hy.data["scores.csv"]
            totals: dict[str, Any] = {}
            for c, v in zip(sc["school_code"].map(text), sc["total_score"]):
                totals.setdefault(c, v)  # the first row of a code, as before
            out.append((hy.year, totals))
        ctx.cache[key] = out
    return ctx.cache[key]


def _signed(v: Any) -> str:
    """+2,5 / −1,0 / 0,0: a change against the previous year; '' for empty."""
    f = num(v)
    return "" if f is None else ("+" if f > 0 else "") + fmt_num(f)


@dataclass(frozen=True)
class _SchoolRows:
    """Every school's page rows, built once per context, column by column (numbers formatted
    once per distinct value) and in one pass over each table: no dict per table row, no
    scan per school. header: code → its scores as shown (from its first school_table row,
    in the order school_page_data reads them); rows: list name (ROW_LISTS) → code → the
    school's rows."""

    header: dict[str, list]
    rows: dict[str, dict[str, tuple]]


def _school_rows(ctx: ReportContext) -> _SchoolRows:
    key = "school_rows"
    if key not in ctx.cache:
        # hundreds of thousands of tuples that all stay: the cycle collector would walk the
        # whole heap again and again while they are made (none of them is garbage)
        enabled = gc.isenabled()
        gc.disable()
        try:
            ctx.cache[key] = _build_school_rows(ctx)
        finally:
            if enabled:
                gc.enable()
    return ctx.cache[key]


def _build_school_rows(ctx: ReportContext) -> _SchoolRows:
    p, m, n = ctx.params, ctx.methodology, ctx.n_small
    small = small_label(n)
    thr = p.report.trend_threshold

    def pct0(v: Any) -> str:
        return fmt_pct(v, 0)

    strings: dict[str, str] = {}  # one object per distinct built string («3 из 4» …)
    one = strings.setdefault
    rows: dict[str, dict[str, tuple]] = {}

    st = _shared(ctx, school_table)
    header: dict[str, list] = {}
    columns = (
        _texts(st["school_name"]), _texts(st["school_type"]), _texts(st["cluster"]), _values(st["submitted"]),
        _values(st["small"]), _texts(st["level"]), _each_number(st["total_score"], lambda v: zone_of(v, p)),
        _each_number(st["total_score"], fmt_num), _each_number(st["delta"], lambda v: trend(v, thr)),
        _each_number(st["delta"], _signed), _each_number(st["rank_in_cluster"], fmt_int),
        _each_number(st["cluster_size"], fmt_int), _each_number(st["checklist_points"], fmt_int),
        _each_number(st["checklist_max"], fmt_int), _each_number(st["checklist_pct"], fmt_pct),
        _each_number(st["activity_index"], fmt_num), _each_number(st["prev_total"], fmt_num))
    for code, *values in zip(_texts(st["school_code"]), *columns):
        if code not in header:
            header[code] = values

    # criteria, in methodology order
    cr = _shared(ctx, criteria_table)
    crit = {c.code: c for c in m.criteria}
    at, spans = _in_order(_texts(cr["school_code"]), _texts(cr["criterion"]), {c: i for i, c in enumerate(crit)})
    codes = _texts(cr["criterion"])[at]
    zones = _each_number(cr["pct"], lambda v: zone_of(v, p))[at]
    points = [one(x, x) for x in map("{} из {}".format, _each_number(cr["points"], fmt_int)[at],
                                     _each_number(cr["max_points"], fmt_int)[at])]
    rows["criteria"] = _split(list(map(CriterionRow._make, zip(
        codes, [crit[c].name for c in codes], _each_number(cr["pct"], num)[at], _each_number(cr["pct"], pct0)[at],
        _each_number(cr["cluster_mean"], num)[at], _each_number(cr["cluster_mean"], pct0)[at], points, zones,
        [ZONE_CLASS.get(z, "none") for z in zones],
        _each_number(cr["pct"] - cr["prev_pct"], lambda v: trend_chip(v, thr))[at]))), spans)

    # shares (and each school's denominators, for its targets)
    sd = _shared(ctx, staff_denominators)
    cshares = cluster_shares(ctx)
    dens: dict[str, dict[str, float | None]] = {}
    out = {}
    if not sd.empty:
        columns = [x for s in m.shares
                   for x in (_each_number(sd[s.code], fmt_pct), _each_number(sd[f"{s.code}_den"], num))]
        for code, *values in zip(_texts(sd["school_code"]), *columns):
            if code in dens:
                continue
            mine_dens = dens[code] = {}
            cs = cshares.get(text(header[code][2]) if code in header else "", {})
            built = []
            for i, s in enumerate(m.shares):
                den = mine_dens[s.code] = values[2 * i + 1]
                if den is None:
                    value = "—"
                elif den == 0:
                    value = "не применяется"
                elif den < n:
                    value = small
                else:
                    value = values[2 * i]
                built.append(ShareRow(s.code, s.name, value, cs.get(s.code, "—")))
            out[code] = tuple(built)
    rows["shares"] = out

    # targets, in methodology order
    ts = ctx.data["targets_school.csv"]
    tgt = {t.code: t for t in m.targets}
    at, spans = _in_order(_texts(ts["school_code"]), _texts(ts["target"]), {c: i for i, c in enumerate(tgt)})
    share_of: dict[str, Any] = {}  # a target's share, found when first needed
    built = []
    for code, key, status, value, value_pct, value_int, goal_int, goal_pct in zip(
            _texts(ts["school_code"])[at], _texts(ts["target"])[at], _texts(ts["status"])[at],
            _each_number(ts["value"], num)[at], _each_number(ts["value"], fmt_pct)[at],
            _each_number(ts["value"], fmt_int)[at], _each_number(ts["target_value"], fmt_int)[at],
            _each_number(ts["target_value"], pct0)[at]):
        t = tgt[key]
        kind = t.measure.kind
        if status in ("not_submitted",) or value is None:
            vtext = "—"
        elif kind == "share":
            if key not in share_of:
                share_of[key] = m.share(t.measure.share).code
            den = dens[code][share_of[key]] if code in dens else None
            vtext = small if is_small(den, n) else value_pct
        elif kind == "count":
            vtext = small if value < n and value > 0 else value_int
            vtext = value_int if value == 0 else vtext
        else:
            vtext = "да" if value >= 50 else "нет"
        gtext = "да" if kind == "flag" else (f"≥ {goal_int} чел." if kind == "count" else f"≥ {goal_pct}")
        built.append(TargetRow(t.code, t.name, vtext, one(gtext, gtext), status,
                               TARGET_STATUS_LABEL.get(status, status), TARGET_STATUS_MARK.get(status, "")))
    rows["targets"] = _split(built, spans)

    # positions and their evidence, in methodology order
    pos = {x.code: x for x in m.positions}
    order = {c: i for i, c in enumerate(pos)}
    pm = _shared(ctx, position_matrix)
    pm_codes, pm_keys = _texts(pm["school_code"]), _texts(pm["position"])
    at, spans = _in_order(pm_codes, pm_keys, order)
    cl = ctx.data["checklist.csv"]
    cl_codes, cl_keys = _texts(cl["school_code"]), _texts(cl["position"])
    cl_at, _ = _in_order(cl_codes, cl_keys, order)
    # each position's evidence: the checklist row of the same school and position, if any
    where = dict(zip(zip(cl_codes[cl_at], cl_keys[cl_at]), cl_at.tolist()))
    evidence = list(map(where.get, zip(pm_codes[at], pm_keys[at])))
    del where
    docs, links = _texts(cl["document"]), _texts(cl["link"])
    oks = cl["link_ok"].to_numpy(dtype=object) if "link_ok" in cl.columns else None
    docs = ["" if j is None else docs[j] for j in evidence]
    hrefs = [None if j is None or (oks is not None and as_bool(oks[j]) is False) else safe_link(links[j])
             for j in evidence]  # a link found broken is shown, but not as a link
    links = ["" if j is None else links[j] for j in evidence]
    pts, mx = pm["points"].to_numpy(dtype="float64")[at], pm["max_points"].to_numpy(dtype="float64")[at]
    with np.errstate(invalid="ignore"):
        full = ~np.isnan(pts) & ~np.isnan(mx) & (mx != 0) & (pts >= mx)
    zero = ~full & (np.isnan(pts) | (pts == 0))
    codes = pm_keys[at]
    rows["positions"] = _split(list(map(PositionRow._make, zip(
        codes, [pos[c].short for c in codes], [pos[c].criterion for c in codes],
        _each_number(pm["claimed"], fmt_int)[at], _each_number(pm["points"], fmt_int)[at],
        _each_number(pm["max_points"], fmt_int)[at], np.array(["part", "full", "zero"], dtype=object)[full + 2 * zero],
        [bool(u) for u in pm["unconfirmed"].to_numpy(dtype=object)[at]], docs, links, hrefs))), spans)
    del evidence, docs, links, hrefs

    # recommendations, high priority first (stable)
    names = indicator_names(m)
    recs = ctx.data["recommendations.csv"]
    reasons = _texts(recs["reason"]) if "reason" in recs.columns else [""] * len(recs)
    by: dict[str, list] = {}
    for code, prio, ind, words, reason in zip(_texts(recs["school_code"]), _texts(recs["priority"]),
                                              _texts(recs["indicator_code"]), _texts(recs["text"]), reasons):
        row = RecommendationRow(prio, "high" if prio == PRIORITIES[0] else "medium", ind, names.get(ind, ind), words,
                                reason)
        if code in by:
            by[code].append(row)
        else:
            by[code] = [row]
    rank = {pr: i for i, pr in enumerate(PRIORITIES)}
    rows["recommendations"] = {c: tuple(sorted(r, key=lambda x: rank.get(x.priority, 9))) for c, r in by.items()}

    # follow-up of last year's recommendations, in methodology order (stable)
    fu = ctx.data["followup.csv"]
    by = {}
    for code, ind, status in zip(_texts(fu["school_code"]), _texts(fu["indicator_code"]), _texts(fu["status"])):
        by.setdefault(code, []).append(FollowupRow(ind, names.get(ind, ind), status, _fu_class(status)))
    order = {c: i for i, c in enumerate([x.code for x in m.positions] + [t.code for t in m.targets])}
    rows["followup"] = {c: tuple(sorted(r, key=lambda x: order.get(x.code, 999))) for c, r in by.items()}

    # decisions concerning the school, in file order
    dec = ctx.data["decisions.csv"]
    absent = [""] * len(dec)  # r.get(column, "") of a missing column
    by = {}
    for kind, ind, basis, topic, responsible, due, schools in zip(
            _texts(dec["kind"]), _texts(dec["indicator_code"]) if "indicator_code" in dec.columns else absent,
            _texts(dec["basis"]) if "basis" in dec.columns else absent, _texts(dec["topic"]),
            _texts(dec["responsible"]), _texts(dec["due"]), _values(dec["schools"])):
        row = DecisionRow(DECISION_KINDS.get(kind, kind),
                          f"{ind} «{names[ind]}»" if kind == "seminar" and ind in names else basis or topic,
                          responsible, due)
        for code in dict.fromkeys(_codes(schools)):
            by.setdefault(code, []).append(row)
    rows["decisions"] = {c: tuple(r) for c, r in by.items()}

    # issues with the form (no values; no personal fields)
    iss = ctx.data["issues.csv"]
    by = {}
    for code, fld, sheet, cell, severity, rule, message, action in zip(
            _texts(iss["school_code"]), _texts(iss["field"]), _texts(iss["sheet"]), _texts(iss["cell"]),
            _texts(iss["severity"]), _values(iss["rule"]), _texts(iss["message"]), _texts(iss["action"])):
        if fld not in PERSONAL_FIELDS:
            by.setdefault(code, []).append(IssueRow(sheet, cell, SEVERITY_LABEL.get(severity, severity),
                                                    rule_name(rule), message, action))
    rows["issues"] = {c: tuple(r) for c, r in by.items()}
    return _SchoolRows(header, rows)


def school_page_data(ctx: ReportContext, code: str) -> SimpleNamespace:
    """Everything a school's page shows, as plain values (the template escapes them): what
    school_view returns, read by attribute, the rows as named tuples (ROW_LISTS)."""
    p = ctx.params
    built = _school_rows(ctx)
    (name, school_type, cluster, submitted, small_staff, level, zone, total, (mark, trend_class, words), delta, rank,
     cluster_size, points, max_points, checklist_pct, activity, prev_total) = built.header[code]
    small = small_label(ctx.n_small)
    view: dict[str, Any] = {
        "code": code, "name": name, "type": school_type, "cluster": cluster, "submitted": bool(submitted),
        "year": p.year, "academic_year": p.academic_year, "level": level or NO_DATA, "small_label": small,
    }
    if submitted:
        shown = not small_staff
        view.update(
            total=total if shown else small,
            zone=zone, zone_class=ZONE_CLASS.get(zone, "none") if shown else "none",
            rank=rank, cluster_size=cluster_size, checklist=f"{points} из {max_points}", checklist_pct=checklist_pct,
            activity=activity if shown else small,
            trend_mark=mark if shown else "", trend_class=trend_class, trend_words=words if shown else "",
            delta=delta if shown else "", prev_total=prev_total if shown else "",
        )
    for rows in ROW_LISTS[:-2]:
        view[rows] = built.rows[rows].get(code, ())
    view["followup_note"] = ("Первый год мониторинга: рекомендаций прошлого года нет." if p.previous_params is None
                             else "Данных прошлого года нет." if ctx.previous is None else "")
    view["decisions"] = built.rows["decisions"].get(code, ())
    view["issues"] = built.rows["issues"].get(code, ())
    view["history"] = [{"year": year, "total": None if small_staff or code not in totals else num(totals[code])}
                       for year, totals in _history_totals(ctx)]
    return SimpleNamespace(**view)


def school_view(ctx: ReportContext, code: str) -> dict[str, Any]:
    """Everything a school's page shows, as plain values (the template escapes them); the
    rows of ROW_LISTS as dicts."""
    view = vars(school_page_data(ctx, code))
    for name in ROW_LISTS:
        view[name] = [r._asdict() for r in view[name]]
    return view


def _fu_class(status: str) -> str:
    return _FU_CLASS.get(status, "na")


_FU_CLASS = {"устранён": "fixed", "улучшение": "better", "без изменений": "same", "ухудшение": "worse"}
