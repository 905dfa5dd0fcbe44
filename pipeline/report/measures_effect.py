"""Results related to last year's measures (measures.csv): whether the record was submitted,
the measures by status, the schools visited against the others, the participants of each
seminar topic against the other schools — how their results changed from last year to this.
Pure functions of the report context; the follow-up section (sections/actions.py) shows them.
Groups smaller than `report.min_group_size` schools are counted but their figures hidden."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..core.contract import MEASURE_STATUSES
from ..core.values import num, text
from .context import ReportContext, YearData
from .tables import codes_of

DONE, NOT_DONE, NO_RECORD = MEASURE_STATUSES


def record_submitted(ctx: ReportContext) -> bool:
    """Whether this year's raw folder had the record of last year's measures (measures.xlsx)."""
    files = ctx.data["files.csv"]
    return bool((files["status"].map(text) == "measures").any()) if len(files) else False


@dataclass(frozen=True)
class Group:
    """One group of schools compared: how many, the mean change of the value and the share of
    schools whose value rose; `small` when there are too few schools to show the figures."""

    label: str
    n: int
    mean_change: float | None
    share_improved: float | None
    small: bool


def _group(label: str, codes: set[str], before: dict[str, float], after: dict[str, float], n_small: int) -> Group:
    both = sorted(c for c in codes if c in before and c in after)
    changes = [after[c] - before[c] for c in both]
    if not changes:
        return Group(label, 0, None, None, False)
    mean = sum(changes) / len(changes)
    share = sum(1 for d in changes if round(d, 9) > 0) * 100 / len(changes)
    return Group(label, len(changes), mean, share, 0 < len(changes) < n_small)


def _values(data: YearData, table: str, key: str | None, code: str | None, value: str) -> dict[str, float]:
    """school → value of one table (scores: total; positions: points of a position; criteria:
    pct of a criterion; targets_school: value of a target), submitted schools only."""
    df = data[table]
    if df.empty:
        return {}
    if key is not None:
        df = df[df[key].map(text) == code]
    if "submitted" in df.columns:
        df = df[df["submitted"].astype(bool)]
    out = {}
    for c, v in zip(df["school_code"].map(text), df[value]):
        f = num(v)
        if f is not None:
            out[c] = f
    return out


def total_values(ctx: ReportContext, data: YearData) -> tuple[str, dict[str, float]]:
    """(what is compared, school → value): the total score, or the checklist % without one."""
    if ctx.methodology.has_total:
        return "итоговый балл", _values(data, "scores.csv", None, None, "total_score")
    return "доля баллов самооценки, %", _values(data, "scores.csv", None, None, "checklist_pct")


def topic_values(ctx: ReportContext, data: YearData, code: str) -> tuple[str, dict[str, float]]:
    """(what is compared, school → value) of a seminar topic: a position's points, a criterion's
    %, a target's value."""
    m = ctx.methodology
    if code in {p.code for p in m.positions}:
        return f"балл позиции {code}", _values(data, "positions.csv", "position", code, "points")
    if code in {c.code for c in m.criteria}:
        return f"% баллов критерия {code}", _values(data, "criteria.csv", "criterion", code, "pct")
    if code in {t.code for t in m.targets}:
        return f"значение показателя {code}", _values(data, "targets_school.csv", "target", code, "value")
    return code, {}


def visit_groups(ctx: ReportContext) -> tuple[str, list[Group]]:
    """Schools whose visit took place, those whose visit was planned but not recorded as done,
    and the schools without a visit: how their total changed."""
    measures, prev = ctx.data["measures.csv"], ctx.previous
    if prev is None or measures.empty:
        return "", []
    what, before = total_values(ctx, prev)
    _, after = total_values(ctx, ctx.data)
    kinds, status = measures["kind"].map(text), measures["status"].map(text)
    planned = {text(c) for c in measures.loc[kinds == "visit", "school_code"]}
    visited = {text(c) for c in measures.loc[(kinds == "visit") & (status == DONE), "school_code"]}
    if not planned:
        return what, []
    everyone = set(before) | set(after)
    n = ctx.n_small
    return what, [_group("выезд проведён", visited, before, after, n),
                  _group("выезд назначен, но не проведён или нет сведений", planned - visited, before, after, n),
                  _group("выезд не назначался", everyone - planned, before, after, n)]


@dataclass(frozen=True)
class TopicComparison:
    decision_id: str
    code: str       # the seminar's indicator (position, criterion or target)
    title: str
    what: str
    participants: Group
    others: Group


def seminar_comparisons(ctx: ReportContext) -> list[TopicComparison]:
    """Each seminar held with participants named: their change of the topic's value against
    the other schools'."""
    measures, prev = ctx.data["measures.csv"], ctx.previous
    if prev is None or measures.empty:
        return []
    out = []
    for r in measures.to_dict("records"):
        if text(r.get("kind")) != "seminar" or text(r.get("status")) != DONE:
            continue
        who = set(codes_of(r.get("participants")))
        if not who:
            continue
        code = text(r.get("indicator_code"))
        what, before = topic_values(ctx, prev, code)
        _, after = topic_values(ctx, ctx.data, code)
        if not before or not after:
            continue
        others = (set(before) | set(after)) - who
        out.append(TopicComparison(text(r.get("decision_id")), code, text(r.get("title")), what,
                                   _group("участники", who, before, after, ctx.n_small),
                                   _group("остальные ОО", others, before, after, ctx.n_small)))
    return out


def status_counts(measures: pd.DataFrame) -> dict[str, int]:
    """Measures by status, every status present (0 where none)."""
    got = measures["status"].map(text).value_counts() if len(measures) else pd.Series(dtype="int64")
    return {s: int(got.get(s, 0)) for s in MEASURE_STATUSES}
