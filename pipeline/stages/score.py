"""Score stage: the clean tables, a methodology and a year's parameters in; the score tables out.

Pure functions over DataFrames, vectorised (no loop over schools), so a year of 10,000
schools costs the same code path as a year of 30. Reading and writing are left to the edges
(the notebook's first and last cells, the runner).

    positions.csv          one row per (submitted school, position): claimed and counted points
    criteria.csv           criterion subtotals per submitted school
    scores.csv             one row per registry school: checklist %, activity index, total, rank, level
    targets_school.csv     one row per (registry school, target with scope school)
    targets_municipal.csv  one row per target with scope municipal: ratios of sums

Rules (see methodology/README.md for the full text):

* Evidence: a claimed 1 or 2 on a position that requires evidence, with an empty document,
  counts 0 and is marked confirmed = False («не подтверждено»). A missing score counts 0.
* Shares are numerator × 100 / denominator; not applicable (empty) when the denominator is 0
  or missing, empty when the numerator is missing.
* Activity index: every share marked in_activity_index is min-max scaled within the school's
  cluster over the schools that reported it; where max = min the scaled value is 1 if max > 0,
  else 0; a missing share is scaled as 0 (a school that reports nothing does not gain, and it
  does not move the other schools' minimum). Index = mean of the scaled values × 100.
* Ranks and levels compare totals rounded to RANK_DECIMALS, so float noise neither breaks a
  tie nor drops a school below a threshold it reached; the CSV keeps full precision.
* A school without a form is listed with submitted = False, empty numbers, level «нет данных»,
  no zone and no rank: never a zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.contract import LEVELS, NO_LEVEL, OUTPUTS, ZONES
from ..core.errors import StageError
from ..core.progress import SCHOOLS_SCORED, Counter
from ..core.values import flags, stripped
from ..config.methodology import Methodology, check_targets
from ..config.params import YearParams
from ..config.targets import NO_DEPARTMENT, Department
from ..io.storage import read_table

NO_DATA = NO_LEVEL                                     # level of a school without a result
RANK_DECIMALS = 9                                      # totals are compared at this precision

NOTE_NOT_SUBMITTED = "форма не представлена"
NOTE_NO_CLUSTER = "кластер не определён (нет численности обучающихся или типа ОО): индекс активности и итог не рассчитаны"

# --------------------------------------------------------------------------------------------
# input normalisation


def _inconsistent(problem: str) -> StageError:
    return StageError(
        "score", f"данные этапа clean не согласованы с методикой или между собой: {problem}",
        "Перезапустите этап clean с той же методикой и параметрами года (python -m pipeline run --force).",
    )


def _counts(df: pd.DataFrame, columns: list[str], table: str) -> pd.DataFrame:
    """Columns that must hold whole numbers ≥ 0 (or be empty), as float64 for arithmetic."""
    out = df.copy()
    for col in columns:
        if col not in out.columns:
            raise _inconsistent(f"в таблице {table} нет столбца {col}")
        num = pd.to_numeric(out[col], errors="coerce").astype("float64")
        bad = (out[col].notna() & num.isna()) | (num.notna() & ((num % 1 != 0) | (num < 0)))
        if bad.any():
            row = out.loc[bad].iloc[0]
            raise _inconsistent(f"{table}: школа {row.get('school_code')}, {col} = «{row[col]}» — не целое число ≥ 0")
        out[col] = num
    return out


def _codes(values: pd.Series) -> pd.Series:
    return stripped(values)


def prepare_profile(profile: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """profile.csv with typed columns (the methodology's да/нет and number fields), one row per
    school, sorted by school_code."""
    p = profile.copy()
    p["school_code"] = _codes(p["school_code"])
    if p["school_code"].duplicated().any():
        raise _inconsistent(f"profile.csv: школа {p.loc[p['school_code'].duplicated(), 'school_code'].iloc[0]} указана дважды")
    p["submitted"] = flags(p["submitted"]).fillna(False).astype(bool)
    for col in methodology.fields_of_type("yesno"):
        p[col] = flags(p[col]) if col in p.columns else pd.Series(pd.NA, index=p.index, dtype="boolean")
    p = _counts(p, [c for c in methodology.fields_of_type("integer") if c in p.columns], "profile.csv")
    p["school_type"] = stripped(p["school_type"])
    return p.sort_values("school_code", kind="mergesort").reset_index(drop=True)


def prepare_staff(staff: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """staff.csv restricted to and aligned with the submitted schools (one row each, in order).

    A submitted school without a staff row gets empty counts."""
    s = staff.copy()
    s["school_code"] = _codes(s["school_code"])
    if s["school_code"].duplicated().any():
        raise _inconsistent(f"staff.csv: школа {s.loc[s['school_code'].duplicated(), 'school_code'].iloc[0]} указана дважды")
    submitted = profile.loc[profile["submitted"], ["school_code"]]
    extra = set(s["school_code"]) - set(submitted["school_code"])
    if extra:
        raise _inconsistent(f"staff.csv содержит школу {sorted(extra)[0]}, форма которой не принята (profile.csv)")
    cols = [c for c in s.columns if c != "school_code"]
    s = _counts(s, [c for c in cols if c.startswith("P")], "staff.csv")
    return submitted.merge(s, on="school_code", how="left").reset_index(drop=True)


def _positions_meta(methodology: Methodology) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "position": [p.code for p in methodology.positions],
            "criterion": [p.criterion for p in methodology.positions],
            "max_points": [p.max_points for p in methodology.positions],
            "evidence_required": [p.evidence_required for p in methodology.positions],
        }
    ).astype({"position": "string", "criterion": "string"})


# --------------------------------------------------------------------------------------------
# checklist


def score_positions(checklist: pd.DataFrame, profile: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """positions.csv: every submitted school × every methodology position, in that order.

    claimed   the score from the form (empty when missing or invalid)
    points    what counts: claimed, or 0 when missing or unconfirmed
    confirmed True — a claim > 0 that is backed (document given, or none required);
              False — a claim > 0 without the required document («не подтверждено»);
              empty — nothing was claimed (0 or missing), so nothing to confirm.
    """
    meta = _positions_meta(methodology)
    codes = np.sort(profile.loc[profile["submitted"], "school_code"].to_numpy(dtype=object))
    n = len(meta)
    grid = pd.DataFrame(
        {
            "school_code": pd.array(np.repeat(codes, n), dtype="string"),
            "position": pd.array(np.tile(meta["position"].to_numpy(dtype=object), len(codes)), dtype="string"),
        }
    )
    c = checklist[["school_code", "position", "score", "document"]].copy()
    c["school_code"] = _codes(c["school_code"])
    c["position"] = _codes(c["position"])
    if c.duplicated(["school_code", "position"]).any():
        row = c.loc[c.duplicated(["school_code", "position"])].iloc[0]
        raise _inconsistent(f"checklist.csv: школа {row['school_code']}, позиция {row['position']} указана дважды")
    unknown = ~c["position"].isin(meta["position"])
    if unknown.any():
        row = c.loc[unknown].iloc[0]
        raise _inconsistent(f"checklist.csv: позиция «{row['position']}» (школа {row['school_code']}) не описана в методике")
    stray = ~c["school_code"].isin(pd.Series(codes, dtype="string"))
    if stray.any():
        raise _inconsistent(f"checklist.csv содержит школу {c.loc[stray, 'school_code'].iloc[0]}, форма которой не принята (profile.csv)")
    c = _counts(c, ["score"], "checklist.csv")

    df = grid.merge(c, on=["school_code", "position"], how="left", validate="one_to_one")
    df = df.merge(meta, on="position", how="left", validate="many_to_one")

    # a claimed value outside the position's scale means clean ran with another methodology
    allowed = pd.MultiIndex.from_tuples(
        [(p.code, float(v)) for p in methodology.positions for v in p.scale], names=["position", "score"]
    )
    claimed_rows = df["score"].notna()
    in_scale = pd.MultiIndex.from_arrays([df["position"].astype(object), df["score"]]).isin(allowed)
    if (claimed_rows & ~in_scale).any():
        row = df.loc[claimed_rows & ~in_scale].iloc[0]
        raise _inconsistent(
            f"checklist.csv: школа {row['school_code']}, позиция {row['position']}: балл {row['score']:g} вне шкалы "
            f"{methodology.position(row['position']).scale}"
        )

    claimed = df["score"]
    document = stripped(df["document"])
    has_document = document.notna() & (document != "")
    claim = claimed.fillna(0) > 0
    unconfirmed = claim & df["evidence_required"].astype(bool) & ~has_document.astype(bool)
    points = claimed.fillna(0).where(~unconfirmed, 0)
    confirmed = pd.Series(pd.NA, index=df.index, dtype="boolean")
    confirmed[claim] = ~unconfirmed[claim]

    return pd.DataFrame(
        {
            "school_code": df["school_code"],
            "position": df["position"],
            "criterion": df["criterion"],
            "claimed": claimed.astype("Int64"),
            "points": points.astype("int64"),
            "max_points": df["max_points"].astype("int64"),
            "confirmed": confirmed,
        }
    )


def checklist_totals(positions: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """Per submitted school: checklist_points, checklist_max (the methodology's computed
    maximum), checklist_pct = points × 100 / max. Indexed by school_code."""
    points = positions.groupby("school_code", sort=True)["points"].sum()
    out = pd.DataFrame({"checklist_points": points.astype("int64")})
    out["checklist_max"] = int(methodology.max_points)
    out["checklist_pct"] = out["checklist_points"] * 100 / out["checklist_max"]
    return out


def criteria_subtotals(positions: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """criteria.csv: points, max_points and pct per (submitted school, criterion), criteria in
    methodology order. A criterion without positions has no rows (the methodology warns)."""
    order = [c.code for c in methodology.criteria]
    g = positions.groupby(["school_code", "criterion"], sort=False)[["points", "max_points"]].sum().reset_index()
    g["criterion"] = pd.Categorical(g["criterion"], categories=order, ordered=True)
    g = g.sort_values(["school_code", "criterion"], kind="mergesort").reset_index(drop=True)
    g["criterion"] = g["criterion"].astype("string")
    g["points"] = g["points"].astype("int64")
    g["max_points"] = g["max_points"].astype("int64")
    g["pct"] = g["points"] * 100 / g["max_points"]
    return g[list(OUTPUTS["score"]["criteria.csv"])]


# --------------------------------------------------------------------------------------------
# shares, clusters, activity index


def compute_shares(staff: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """Every share of the methodology in %, numerator × 100 / denominator, per school of staff
    (same index). Empty when the denominator is 0 or missing or the numerator is missing."""
    out = pd.DataFrame(index=staff.index)
    for s in methodology.shares:
        num, den = staff[s.numerator].astype("float64"), staff[s.denominator].astype("float64")
        ok = num.notna() & (den > 0)
        out[s.code] = (num * 100).where(ok) / den.where(ok)
    return out


def assign_clusters(profile: pd.DataFrame, methodology: Methodology, threshold: int) -> pd.Series:
    """Cluster label per school of profile (same index), by the methodology's cluster rule: the
    group of the school's type, split by the size field at the year's threshold (exactly the
    threshold → «≤»). Empty for a school without a form and where the type or size is unknown."""
    rule = methodology.cluster_rule
    kind = profile["school_type"].astype("string")
    size = profile[rule.size_field].astype("float64") if rule.size_field else pd.Series(np.nan, index=profile.index)
    conditions, labels = [], []
    for g in rule.groups:
        member = kind.isin(g.types).fillna(False).astype(bool).to_numpy()
        if g.split:
            conditions += [member & (size > threshold).to_numpy(), member & (size <= threshold).to_numpy()]
            labels += [f"{g.label}>{threshold}", f"{g.label}≤{threshold}"]
        else:
            conditions.append(member)
            labels.append(g.label)
    label = np.select(conditions, labels, default="")
    out = pd.Series(label, index=profile.index, dtype="string").replace("", pd.NA)
    return out.where(profile["submitted"].astype(bool))


def scale_within_clusters(values: pd.DataFrame, clusters: pd.Series) -> pd.DataFrame:
    """Min-max scale every column within each cluster: (x − min) / (max − min).

    min and max are taken over the schools that reported the value; where max = min the
    scaled value is 1 if max > 0 else 0; a missing value, or a school without a cluster, is 0.
    """
    values = values.astype("float64")
    if not clusters.notna().any():
        return pd.DataFrame(0.0, index=values.index, columns=values.columns)
    g = values.groupby(clusters, dropna=True)
    lo = g.transform("min").reindex(values.index)
    hi = g.transform("max").reindex(values.index)
    span = hi - lo
    scaled = (values - lo) / span.where(span > 0)
    scaled = scaled.where(span > 0, (hi > 0).astype("float64"))
    reported = values.notna() & np.broadcast_to(clusters.notna().to_numpy()[:, None], values.shape)
    return scaled.where(reported, 0.0)


def activity_index(shares: pd.DataFrame, clusters: pd.Series, methodology: Methodology) -> pd.DataFrame:
    """Scaled in-index shares (columns «<code>_scaled») and activity_index = their mean × 100;
    the index is empty for a school without a cluster or when no share is in the index."""
    codes = methodology.index_shares
    scaled = scale_within_clusters(shares[codes], clusters) if codes else pd.DataFrame(index=shares.index)
    has_cluster = clusters.notna()
    out = scaled.rename(columns=lambda c: f"{c}_scaled")
    out = out.where(np.broadcast_to(has_cluster.to_numpy()[:, None], out.shape))
    if codes:
        out["activity_index"] = (scaled.sum(axis=1) * 100 / len(codes)).where(has_cluster)
    else:
        out["activity_index"] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# total, rank, level


def total_score(checklist_pct: pd.Series, activity: pd.Series, weight: float, *, with_index: bool = True,
                with_checklist: bool = True) -> pd.Series:
    """w·checklist_pct + (1 − w)·activity_index; just one of them when the methodology has only
    a checklist or only an activity index; empty when it has neither."""
    if with_checklist and with_index:
        return weight * checklist_pct.astype("float64") + (1 - weight) * activity.astype("float64")
    if with_checklist:
        return checklist_pct.astype("float64")
    if with_index:
        return activity.astype("float64")
    return pd.Series(np.nan, index=checklist_pct.index, dtype="float64")


def rank_in_cluster(total: pd.Series, clusters: pd.Series) -> pd.Series:
    """Competition ranking ("1224") by total, descending, within each cluster; empty where the
    total or the cluster is empty. Totals are compared rounded to RANK_DECIMALS."""
    key = total.astype("float64").round(RANK_DECIMALS)
    ranks = key.groupby(clusters, dropna=True).rank(method="min", ascending=False)
    return ranks.reindex(total.index).astype("Int64")


def assign_levels(total: pd.Series, high: float, medium: float) -> tuple[pd.Series, pd.Series]:
    """(level, zone): высокий/зелёная ≥ high, средний/жёлтая ≥ medium, else низкий/красная;
    «нет данных» and no zone where the total is empty."""
    key = total.astype("float64").round(RANK_DECIMALS)
    level = np.select([key >= high, key >= medium, key.notna()], list(LEVELS), default=NO_DATA)
    zone = np.select([key >= high, key >= medium, key.notna()], list(ZONES), default="")
    level_s = pd.Series(level, index=total.index, dtype="string")
    zone_s = pd.Series(zone, index=total.index, dtype="string").replace("", pd.NA)
    return level_s, zone_s


def build_scores(
    profile: pd.DataFrame, staff: pd.DataFrame, positions: pd.DataFrame, methodology: Methodology, params: YearParams
) -> pd.DataFrame:
    """scores.csv: one row per registry school (profile, typed and sorted). Contract columns
    first, then school_type, the cluster's size field (pupils), the shares, their scaled values
    and a note."""
    p = profile
    size = [methodology.cluster_rule.size_field] if methodology.cluster_rule.size_field else []
    totals = checklist_totals(positions, methodology)
    shares = compute_shares(staff, methodology)
    shares.index = staff["school_code"].to_numpy()
    df = p[["school_code", "school_name", "school_type", "submitted", *size]].copy()
    df = df.join(totals, on="school_code").join(shares, on="school_code")
    df["cluster"] = assign_clusters(p, methodology, params.cluster_threshold)
    share_cols = [s.code for s in methodology.shares]
    df = pd.concat([df, activity_index(df[share_cols], df["cluster"], methodology)], axis=1)
    df["total_score"] = total_score(
        df["checklist_pct"], df["activity_index"], params.weights.checklist, with_index=bool(methodology.index_shares),
        with_checklist=bool(methodology.positions),
    ).where(df["cluster"].notna())
    df["rank_in_cluster"] = rank_in_cluster(df["total_score"], df["cluster"])
    df["level"], df["zone"] = assign_levels(df["total_score"], params.levels.high, params.levels.medium)
    df["checklist_points"] = df["checklist_points"].astype("Int64")
    df["checklist_max"] = df["checklist_max"].astype("Int64")
    for col in size:
        df[col] = df[col].astype("Int64")
    note = np.select(
        [~df["submitted"], df["cluster"].isna()], [NOTE_NOT_SUBMITTED, NOTE_NO_CLUSTER], default=""
    )
    df["note"] = pd.Series(note, index=df.index, dtype="string").replace("", pd.NA)
    lead = list(OUTPUTS["score"]["scores.csv"])
    extra = ["school_type", *size, *share_cols, *[f"{c}_scaled" for c in methodology.index_shares], "note"]
    df = df.astype({"school_code": "string", "school_name": "string", "school_type": "string"})
    return df[lead + extra].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# targets


def school_targets(profile: pd.DataFrame, staff: pd.DataFrame, methodology: Methodology, params: YearParams) -> pd.DataFrame:
    """targets_school.csv: every registry school × every target whose scope includes school,
    value and status as the target's kind computes them (pipeline/config/targets.py). A
    school without a form: not_submitted, empty value."""
    p = profile
    st = p[["school_code"]].merge(staff, on="school_code", how="left")
    submitted = p["submitted"].astype(bool)
    frames = []
    for t in methodology.targets:
        if "school" not in t.scope:
            continue
        goal = float(params.targets[t.code])
        value, status = t.kind.school(t.measure, methodology, p, st, goal)
        status = status.copy()
        status[~submitted] = "not_submitted"
        frames.append(pd.DataFrame({
            "school_code": p["school_code"].to_numpy(), "target": t.code,
            "value": value.where(submitted).to_numpy(dtype="float64"), "target_value": goal,
            "status": status.to_numpy(), "kind": t.measure.kind, "_order": len(frames),
        }))
    cols = list(OUTPUTS["score"]["targets_school.csv"]) + ["kind"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    out = pd.concat(frames, ignore_index=True).sort_values(["school_code", "_order"], kind="mergesort")
    out = out[cols].reset_index(drop=True)
    return out.astype({"school_code": "string", "target": "string", "status": "string", "kind": "string"})


DEPARTMENT_TABLES = ("department_rmo.csv", "department_network.csv", "department_visits.csv")


def department_of(files: pd.DataFrame, rmo: pd.DataFrame, network: pd.DataFrame, visits: pd.DataFrame) -> Department:
    """The department's tables of the year; present when ingest found its department.xlsx
    (files.csv status «department»)."""
    present = bool((files["status"].astype("string") == "department").any())
    return Department(rmo, network, visits, present)


def read_department(folder: str | Path) -> Department:
    """The department's tables from a processed folder (files.csv and clean's department_*.csv);
    a folder without them (written before department.xlsx was read): not present."""
    folder = Path(folder)
    names = ("files.csv", *DEPARTMENT_TABLES)
    if not all((folder / n).is_file() for n in names):
        empty = {n: pd.DataFrame(columns=list(OUTPUTS["clean"][n])) for n in DEPARTMENT_TABLES}
        return Department(*empty.values(), present=False)
    return department_of(*(read_table(folder, n) for n in names))


def municipal_targets(profile: pd.DataFrame, staff: pd.DataFrame, methodology: Methodology, params: YearParams,
                      department: Department | None = None) -> pd.DataFrame:
    """targets_municipal.csv over the submitted schools, always a ratio of sums as the target's
    kind makes it (numerator, denominator, value in %, the goal it is compared with); value and
    met are empty when the denominator is 0. A kind of the department's data gets `department`;
    without its workbook the row is empty with the reason in `note`."""
    p = profile.loc[profile["submitted"].astype(bool)].reset_index(drop=True)
    st = p[["school_code"]].merge(staff, on="school_code", how="left")
    rows = []
    for t in methodology.targets:
        if "municipal" not in t.scope:
            continue
        goal_value = float(params.targets[t.code])
        row = {"target": t.code, "kind": t.measure.kind, "school_threshold": t.kind.school_threshold(goal_value), "note": ""}
        if t.kind.municipal_only and (department is None or not department.present):
            rows.append({**row, "numerator": pd.NA, "denominator": pd.NA, "value": np.nan, "met": pd.NA,
                         "target_value": 100.0 if not np.isnan(row["school_threshold"]) else goal_value, "note": NO_DEPARTMENT})
            continue
        extra = {"department": department} if t.kind.municipal_only else {}
        numerator, denominator, goal = t.kind.municipal(t.measure, methodology, p, st, goal_value, **extra)
        pct = numerator * 100 / denominator if denominator else np.nan
        met = pd.NA if denominator == 0 else bool(round(pct, RANK_DECIMALS) >= goal)
        rows.append({**row, "numerator": numerator, "denominator": denominator, "value": pct, "target_value": goal, "met": met})
    cols = list(OUTPUTS["score"]["targets_municipal.csv"]) + ["kind", "school_threshold", "note"]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype(
        {"target": "string", "numerator": "Int64", "denominator": "Int64", "value": "float64",
         "target_value": "float64", "met": "boolean", "kind": "string", "school_threshold": "float64", "note": "string"}
    )


# --------------------------------------------------------------------------------------------
# the stage


def run(
    checklist: pd.DataFrame, staff: pd.DataFrame, profile: pd.DataFrame, methodology: Methodology, params: YearParams,
    department: Department | None = None,
) -> dict[str, pd.DataFrame]:
    """The whole score stage: clean tables in, {file name: table} out (see the contract);
    `department`: the department's tables (clean's department_*.csv), for the kinds using them."""
    check_targets(methodology, params)
    p = prepare_profile(profile, methodology)
    # every school is scored at once (whole columns): the display shows 0, then all of them
    counter = Counter(SCHOOLS_SCORED, len(p))
    st = prepare_staff(staff, p)
    positions = score_positions(checklist, p, methodology)
    scores = build_scores(p, st, positions, methodology, params)
    counter.finish()
    return {
        "scores.csv": scores,
        "positions.csv": positions,
        "criteria.csv": criteria_subtotals(positions, methodology),
        "targets_school.csv": school_targets(p, st, methodology, params),
        "targets_municipal.csv": municipal_targets(p, st, methodology, params, department),
    }


def cluster_summary(scores: pd.DataFrame, methodology: Methodology, params: YearParams) -> pd.DataFrame:
    """Per cluster: schools, mean/min/max total and the count of each level (for the notebook
    and the report)."""
    s = scores.loc[scores["cluster"].notna()]
    g = s.groupby("cluster", sort=False)["total_score"]
    out = pd.DataFrame({"школ": g.size(), "средний итог": g.mean(), "минимум": g.min(), "максимум": g.max()})
    levels = pd.crosstab(s["cluster"], s["level"]).reindex(columns=list(LEVELS), fill_value=0)
    order = methodology.cluster_rule.labels(params.cluster_threshold)
    out = out.join(levels).reindex([c for c in order if c in out.index])
    out.index.name = "кластер"
    return out


def target_summary(targets_school: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """Per school target: how many schools met it, did not, were not concerned or sent no
    form, and the share of schools that met it among those assessed (met + not_met)."""
    order = [t.code for t in methodology.targets if "school" in t.scope]
    counts = pd.crosstab(targets_school["target"], targets_school["status"]).reindex(
        index=order, columns=["met", "not_met", "not_applicable", "not_submitted"], fill_value=0
    )
    assessed = counts["met"] + counts["not_met"]
    counts["met_pct"] = (counts["met"] * 100 / assessed.where(assessed > 0)).astype("float64")
    counts.index.name = "target"
    counts.columns.name = None
    return counts


def _num(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def findings(tables: dict[str, pd.DataFrame], methodology: Methodology) -> str:
    """One Russian paragraph of findings for the notebook and the report."""
    scores = tables["scores.csv"]
    sub = scores.loc[scores["submitted"].astype(bool)]
    scored = sub.loc[sub["total_score"].notna()]
    parts = [f"Формы представили {len(sub)} из {len(scores)} школ реестра."]
    if len(scored):
        lv = scored["level"].value_counts()
        parts.append(
            f"Средний итоговый балл — {_num(scored['total_score'].mean())} (от {_num(scored['total_score'].min())} "
            f"до {_num(scored['total_score'].max())}); уровень высокий — у {lv.get('высокий', 0)}, "
            f"средний — у {lv.get('средний', 0)}, низкий (зона риска) — у {lv.get('низкий', 0)} школ."
        )
        pos = tables["positions.csv"]
        unconfirmed = int((pos["confirmed"] == False).sum())  # noqa: E712 - nullable boolean
        if unconfirmed:
            parts.append(f"Заявленных баллов без подтверждающего документа (засчитаны как 0): {unconfirmed}.")
        weakest = pos.groupby("position", sort=False)["points"].sum() / pos.groupby("position", sort=False)["max_points"].sum()
        if len(weakest):  # a methodology without a checklist has no positions
            code = weakest.idxmin()
            parts.append(
                f"Самая слабая позиция чек-листа — {code} «{methodology.position(code).short}» "
                f"({_num(weakest.min() * 100)} % от максимума по всем школам)."
            )
    mun = tables["targets_municipal.csv"]
    if len(mun):
        failed = mun.loc[mun["met"] == False, "target"].tolist()  # noqa: E712
        met = int((mun["met"] == True).sum())  # noqa: E712
        text = f"Муниципальные целевые показатели: достигнуто {met} из {len(mun)}"
        parts.append(text + (f"; не достигнуты: {', '.join(failed)}." if failed else "."))
    return " ".join(parts)
