"""What each school's page shows, built once per context column by column.

`school_page_data(ctx, code)` is what the page template reads. The rows of every school are
built together, one table at a time (numbers formatted once per distinct value, the first
row of each school and key found with numpy: pipeline/fast/columns.py), because a year of
10,000 schools would otherwise scan each table 10,000 times.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..config.methodology import Methodology
from ..core.contract import DECISION_KINDS, PRIORITIES
from ..core.levels import trend, zone_of
from ..core.privacy import shown, small_label
from ..core.russian import fmt_int, fmt_num, fmt_pct
from ..core.values import as_bool, num, text
from ..fast.columns import _each_number, _in_order, _split, _texts, _values
from ..fast.links import link_ok
from ..fast.memory import gc_paused
from .context import NO_DATA, ReportContext
from .html import trend_chip
from .labels import SEVERITY_LABEL, TARGET_STATUS_LABEL, TARGET_STATUS_MARK, ZONE_CLASS, rule_name
from .tables import _shared, cluster_shares, codes_of, criteria_table, indicator_names, position_matrix, published_school_table, school_table, school_text, staff_denominators


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
        # hundreds of thousands of tuples that all stay: no cycle collection while they are made
        with gc_paused():
            ctx.cache[key] = _SchoolRows(_header_rows(ctx), {
                "criteria": _criterion_rows(ctx), "shares": _share_rows(ctx), "targets": _target_rows(ctx),
                "positions": _position_rows(ctx), "recommendations": _recommendation_rows(ctx),
                "followup": _followup_rows(ctx), "decisions": _decision_rows(ctx), "issues": _issue_rows(ctx),
            })
    return ctx.cache[key]


def _pct0(v: Any) -> str:
    return fmt_pct(v, 0)


def _header_rows(ctx: ReportContext) -> dict[str, list]:
    """code → its scores as shown (from its first school_table row, in the order
    school_page_data reads them)."""
    p, thr = ctx.params, ctx.params.report.trend_threshold
    st = _shared(ctx, published_school_table)
    columns = (
        _texts(st["school_name"]), _texts(st["school_type"]), _texts(st["cluster"]), _values(st["submitted"]),
        _values(st["small"]), _texts(st["level"]), _each_number(st["total_score"], lambda v: zone_of(v, p)),
        _each_number(st["total_score"], fmt_num), _each_number(st["delta"], lambda v: trend(v, thr)),
        _each_number(st["delta"], _signed), _each_number(st["rank_in_cluster"], fmt_int),
        _each_number(st["cluster_size"], fmt_int), _each_number(st["checklist_points"], fmt_int),
        _each_number(st["checklist_max"], fmt_int), _each_number(st["checklist_pct"], fmt_pct),
        _each_number(st["activity_index"], fmt_num), _each_number(st["prev_total"], fmt_num))
    header: dict[str, list] = {}
    for code, *values in zip(_texts(st["school_code"]), *columns):
        if code not in header:
            header[code] = values
    return header


def _criterion_rows(ctx: ReportContext) -> dict[str, tuple]:
    """Each school's criteria, in methodology order, against the cluster's mean."""
    p, m, thr = ctx.params, ctx.methodology, ctx.params.report.trend_threshold
    strings: dict[str, str] = {}  # one object per distinct «3 из 4»
    cr = _shared(ctx, criteria_table)
    crit = {c.code: c for c in m.criteria}
    at, spans = _in_order(_texts(cr["school_code"]), _texts(cr["criterion"]), {c: i for i, c in enumerate(crit)})
    codes = _texts(cr["criterion"])[at]
    zones = _each_number(cr["pct"], lambda v: zone_of(v, p))[at]
    points = [strings.setdefault(x, x) for x in map("{} из {}".format, _each_number(cr["points"], fmt_int)[at],
                                                    _each_number(cr["max_points"], fmt_int)[at])]
    return _split(list(map(CriterionRow._make, zip(
        codes, [crit[c].name for c in codes], _each_number(cr["pct"], num)[at], _each_number(cr["pct"], _pct0)[at],
        _each_number(cr["cluster_mean"], num)[at], _each_number(cr["cluster_mean"], _pct0)[at], points, zones,
        [ZONE_CLASS.get(z, "none") for z in zones],
        _each_number(cr["pct"] - cr["prev_pct"], lambda v: trend_chip(v, thr))[at]))), spans)


def _denominators(ctx: ReportContext) -> dict[str, dict[str, float | None]]:
    """code → share code → the school's denominator of that share (for the small-group rule)."""
    key = "share_denominators"
    if key not in ctx.cache:
        sd = _shared(ctx, staff_denominators)
        dens: dict[str, dict[str, float | None]] = {}
        if not sd.empty:
            columns = [_each_number(sd[f"{s.code}_den"], num) for s in ctx.methodology.shares]
            for code, *values in zip(_texts(sd["school_code"]), *columns):
                dens.setdefault(code, dict(zip((s.code for s in ctx.methodology.shares), values)))
        ctx.cache[key] = dens
    return ctx.cache[key]


def _share_rows(ctx: ReportContext) -> dict[str, tuple]:
    """Each school's shares, with its cluster's share beside it."""
    m, n = ctx.methodology, ctx.n_small
    sd = _shared(ctx, staff_denominators)
    if sd.empty:
        return {}
    dens, cshares = _denominators(ctx), cluster_shares(ctx)
    clusters = dict(zip(_texts(_shared(ctx, school_table)["school_code"]), _texts(_shared(ctx, school_table)["cluster"])))
    texts = [_each_number(sd[s.code], fmt_pct) for s in m.shares]
    out: dict[str, tuple] = {}
    for i, code in enumerate(_texts(sd["school_code"])):
        if code in out:
            continue
        cs = cshares.get(clusters.get(code, ""), {})
        built = []
        for s, column in zip(m.shares, texts):
            den = dens[code][s.code]
            value = "—" if den is None else "не применяется" if den == 0 else shown(column[i], den, n)
            built.append(ShareRow(s.code, s.name, value, cs.get(s.code, "—")))
        out[code] = tuple(built)
    return out


def _target_rows(ctx: ReportContext) -> dict[str, tuple]:
    """Each school's targets, in methodology order, as the target's kind shows them."""
    m, n = ctx.methodology, ctx.n_small
    ts = ctx.data["targets_school.csv"]
    tgt = {t.code: t for t in m.targets}
    dens = _denominators(ctx)
    at, spans = _in_order(_texts(ts["school_code"]), _texts(ts["target"]), {c: i for i, c in enumerate(tgt)})
    memo: dict[tuple, str] = {}
    built = []
    for code, key, status, value, goal in zip(
            _texts(ts["school_code"])[at], _texts(ts["target"])[at], _texts(ts["status"])[at],
            _each_number(ts["value"], num)[at], _each_number(ts["target_value"], num)[at]):
        t = tgt[key]
        if status == "not_submitted" or value is None:
            vtext = "—"
        else:
            mine = dens.get(code, {})
            den = t.kind.denominator(t.measure, mine)
            vtext = memo.get((key, value, den))
            if vtext is None:
                vtext = memo[(key, value, den)] = t.kind.school_value_text(t.measure, m, value, mine, n)
        gtext = memo.get((key, "goal", goal))
        if gtext is None:
            gtext = memo[(key, "goal", goal)] = t.kind.goal_text(goal)
        built.append(TargetRow(t.code, t.name, vtext, gtext, status, TARGET_STATUS_LABEL.get(status, status),
                               TARGET_STATUS_MARK.get(status, "")))
    return _split(built, spans)


def _position_rows(ctx: ReportContext) -> dict[str, tuple]:
    """Each school's positions, in methodology order, with the evidence it gave."""
    m = ctx.methodology
    pos = {x.code: x for x in m.positions}
    order = {c: i for i, c in enumerate(pos)}
    pm = _shared(ctx, position_matrix)
    pm_codes, pm_keys = _texts(pm["school_code"]), _texts(pm["position"])
    at, spans = _in_order(pm_codes, pm_keys, order)
    docs, links, hrefs = _evidence(ctx, pm_codes[at], pm_keys[at], order)
    pts, mx = pm["points"].to_numpy(dtype="float64")[at], pm["max_points"].to_numpy(dtype="float64")[at]
    with np.errstate(invalid="ignore"):
        full = ~np.isnan(pts) & ~np.isnan(mx) & (mx != 0) & (pts >= mx)
    zero = ~full & (np.isnan(pts) | (pts == 0))
    codes = pm_keys[at]
    return _split(list(map(PositionRow._make, zip(
        codes, [pos[c].short for c in codes], [pos[c].criterion for c in codes],
        _each_number(pm["claimed"], fmt_int)[at], _each_number(pm["points"], fmt_int)[at],
        _each_number(pm["max_points"], fmt_int)[at], np.array(["part", "full", "zero"], dtype=object)[full + 2 * zero],
        [bool(u) for u in pm["unconfirmed"].to_numpy(dtype=object)[at]], docs, links, hrefs))), spans)


def _evidence(ctx: ReportContext, codes: np.ndarray, keys: np.ndarray, order: dict[str, int]) -> tuple[list, list, list]:
    """For each (school, position): the document, the link, and the link as a live address
    (None where it is not one: shown as text, never as a link)."""
    cl = ctx.data["checklist.csv"]
    cl_codes, cl_keys = _texts(cl["school_code"]), _texts(cl["position"])
    cl_at, _ = _in_order(cl_codes, cl_keys, order)
    where = dict(zip(zip(cl_codes[cl_at], cl_keys[cl_at]), cl_at.tolist()))
    evidence = list(map(where.get, zip(codes, keys)))
    docs, links = _texts(cl["document"]), _texts(cl["link"])
    shown_docs, shown_links = _school_texts(ctx, docs), _school_texts(ctx, links)
    oks = cl["link_ok"].to_numpy(dtype=object) if "link_ok" in cl.columns else None
    # a link that carried a name is shown redacted, as text: never a live address
    hrefs = [None if j is None or (oks is not None and as_bool(oks[j]) is False) or not link_ok(links[j])
             or shown_links[j] != links[j] else links[j] for j in evidence]
    docs, links = shown_docs, shown_links
    return (["" if j is None else docs[j] for j in evidence], ["" if j is None else links[j] for j in evidence], hrefs)


def _school_texts(ctx: ReportContext, values: Any) -> list[str]:
    """school_text of each value, once per distinct value."""
    memo: dict[str, str] = {}
    return [memo[v] if v in memo else memo.setdefault(v, school_text(ctx, v)) for v in values]


def _recommendation_rows(ctx: ReportContext) -> dict[str, tuple]:
    """Each school's recommendations, high priority first (stable)."""
    names = indicator_names(ctx.methodology)
    recs = ctx.data["recommendations.csv"]
    reasons = _school_texts(ctx, _texts(recs["reason"])) if "reason" in recs.columns else [""] * len(recs)
    by: dict[str, list] = {}
    for code, prio, ind, words, reason in zip(_texts(recs["school_code"]), _texts(recs["priority"]),
                                              _texts(recs["indicator_code"]), _texts(recs["text"]), reasons):
        row = RecommendationRow(prio, "high" if prio == PRIORITIES[0] else "medium", ind, names.get(ind, ind), words, reason)
        by.setdefault(code, []).append(row)
    rank = {pr: i for i, pr in enumerate(PRIORITIES)}
    return {c: tuple(sorted(r, key=lambda x: rank.get(x.priority, 9))) for c, r in by.items()}


def _followup_rows(ctx: ReportContext) -> dict[str, tuple]:
    """What became of each school's recommendations of last year, in methodology order."""
    m = ctx.methodology
    names = indicator_names(m)
    fu = ctx.data["followup.csv"]
    by: dict[str, list] = {}
    for code, ind, status in zip(_texts(fu["school_code"]), _texts(fu["indicator_code"]), _texts(fu["status"])):
        by.setdefault(code, []).append(FollowupRow(ind, names.get(ind, ind), status, _fu_class(status)))
    order = {c: i for i, c in enumerate([x.code for x in m.positions] + [t.code for t in m.targets])}
    return {c: tuple(sorted(r, key=lambda x: order.get(x.code, 999))) for c, r in by.items()}


def _decision_rows(ctx: ReportContext) -> dict[str, tuple]:
    """The municipal decisions that name the school, in file order."""
    names = indicator_names(ctx.methodology)
    dec = ctx.data["decisions.csv"]
    absent = [""] * len(dec)  # a column an older file lacks
    by: dict[str, list] = {}
    for kind, ind, basis, topic, responsible, due, schools in zip(
            _texts(dec["kind"]), _texts(dec["indicator_code"]) if "indicator_code" in dec.columns else absent,
            _texts(dec["basis"]) if "basis" in dec.columns else absent, _texts(dec["topic"]),
            _texts(dec["responsible"]), _texts(dec["due"]), _values(dec["schools"])):
        row = DecisionRow(DECISION_KINDS.get(kind, kind),
                          f"{ind} «{names[ind]}»" if kind == "seminar" and ind in names else basis or topic,
                          responsible, due)
        for code in dict.fromkeys(codes_of(schools)):
            by.setdefault(code, []).append(row)
    return {c: tuple(r) for c, r in by.items()}


def _issue_rows(ctx: ReportContext) -> dict[str, tuple]:
    """The problems of the school's form (no values, nothing about a personal field)."""
    personal = {f"info.{k}" for k in _personal_fields(ctx.methodology)}
    iss = ctx.data["issues.csv"]
    by: dict[str, list] = {}
    for code, fld, sheet, cell, severity, rule, message, action in zip(
            _texts(iss["school_code"]), _texts(iss["field"]), _texts(iss["sheet"]), _texts(iss["cell"]),
            _texts(iss["severity"]), _values(iss["rule"]), _school_texts(ctx, _texts(iss["message"])), _texts(iss["action"])):
        if fld not in personal:
            by.setdefault(code, []).append(IssueRow(sheet, cell, SEVERITY_LABEL.get(severity, severity),
                                                    rule_name(rule), message, action))
    return {c: tuple(r) for c, r in by.items()}


def _personal_fields(m: Methodology) -> tuple[str, ...]:
    return m.personal_fields


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
        visible = not small_staff
        view.update(
            total=total if visible else small,
            zone=zone, zone_class=ZONE_CLASS.get(zone, "none") if visible else "none",
            rank=rank if visible else small, cluster_size=cluster_size if visible else "", checklist=f"{points} из {max_points}", checklist_pct=checklist_pct,
            activity=activity if visible else small,
            trend_mark=mark if visible else "", trend_class=trend_class, trend_words=words if visible else "",
            delta=delta if visible else "", prev_total=prev_total if visible else "",
        )
    for rows in ROW_LISTS[:-2]:
        view[rows] = built.rows[rows].get(code, ())
    view["followup_note"] = ("Первый год мониторинга: рекомендаций прошлого года нет." if p.previous_params is None
                             else "Данных прошлого года нет." if ctx.previous is None else "")
    view["decisions"] = built.rows["decisions"].get(code, ())
    view["issues"] = built.rows["issues"].get(code, ())
    view["history"] = [{"year": year, "total": None if small_staff or code not in totals else num(totals[code])}
                       for year, totals in _history_totals(ctx)]
    from .sections.per_school import page_of_school, split

    # at scale the school's rows of the ranking and other tables are on its cluster's page
    view["cluster_page"] = f"../{page_of_school(ctx)[code]}" if split(ctx) else ""
    m = ctx.methodology  # the page shows only the parts the methodology has
    view.update(has_total=m.has_total, has_checklist=m.has_checklist, has_index=bool(m.index_shares),
                has_sources=bool(m.positions or m.targets))
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
