"""Tables derived from a year's context for the report, the school pages and Excel; each is
computed once per context (`_cached`)."""

from __future__ import annotations

import functools
import re
from typing import Any

import pandas as pd

from ..config.methodology import Methodology
from ..core.contract import FOLLOWUP_STATUSES, LEVELS, NOT_FORM_STATUSES, PRIORITIES
from ..core.levels import zone_of
from ..core.privacy import is_small, redactor, shown, small_label
from ..core.russian import fmt_pct
from ..core.values import as_bool, num, text
from .context import ReportContext


def school_page(code: str) -> str:
    """File name of a school's page: the code, made safe for any file system and URL."""
    code = text(code).strip()
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", code) or "school"
    if safe != code:
        import hashlib

        safe = f"{safe}-{hashlib.sha256(code.encode('utf-8')).hexdigest()[:8]}"
    return f"{safe}.html"


def cluster_order(ctx: ReportContext) -> list[str]:
    """The clusters as the report lists them: the year's, in the methodology's order, then any
    other label an earlier year had (its threshold may have been another)."""
    key = "cluster_order"
    if key not in ctx.cache:
        order = ctx.methodology.cluster_rule.labels(ctx.params.cluster_threshold)
        seen = {text(c) for hy in ctx.history if hy.data is not None for c in hy.data["scores.csv"]["cluster"]} - {""}
        ctx.cache[key] = order + sorted(seen - set(order))
    return list(ctx.cache[key])


def codes_of(value: Any) -> list[str]:
    """The school codes of a decisions.csv `schools` cell («0101;0102»)."""
    return [c.strip() for c in text(value).split(";") if c.strip()]


def school_list(codes: Any, names: dict[str, str]) -> str:
    """The schools of a `schools` cell by name, «—» for none."""
    return ", ".join(names.get(c, c) for c in codes_of(codes)) or "—"


def _cached(fn):
    """Compute a derived table once per context; callers get a copy they may change."""

    @functools.wraps(fn)
    def wrapper(ctx: ReportContext) -> pd.DataFrame:
        key = fn.__name__
        if key not in ctx.cache:
            ctx.cache[key] = fn(ctx)
        return ctx.cache[key].copy()

    return wrapper


def _shared(ctx: ReportContext, fn) -> pd.DataFrame:
    """The context's one copy of a derived table of @_cached, for reading only."""
    if fn.__name__ not in ctx.cache:
        fn(ctx)
    return ctx.cache[fn.__name__]


def _names(ctx: ReportContext) -> dict[str, str]:
    prof = ctx.data["profile.csv"]
    names = dict(zip(prof["school_code"].map(text), prof["school_name"].map(text)))
    sc = ctx.data["scores.csv"]
    for c, n in zip(sc["school_code"].map(text), sc["school_name"].map(text)):
        names.setdefault(c, n)
    return names


def personal_names(ctx: ReportContext) -> tuple[str, ...]:
    """Names from the forms (the methodology's personal fields, every year of the history) that
    no published page may show, longest first (built once per context)."""
    key = "personal_names"
    if key not in ctx.cache:
        names: set[str] = set()
        for hy in ctx.history:
            if hy.data is None:
                continue
            prof = hy.data["profile.csv"]
            for f in ctx.methodology.personal_fields:
                if f in prof.columns:
                    names.update(v.strip() for v in prof[f].map(text) if len(v.strip()) >= 4)
        ctx.cache[key] = tuple(sorted(names, key=lambda n: (-len(n), n)))
    return ctx.cache[key]


def school_text(ctx: ReportContext, value: Any) -> str:
    """A text a school supplied (a document's title, a link, a file name, a finding quoting
    the form), as a published page may show it: personal names replaced by «[скрыто]»."""
    if "redactor" not in ctx.cache:
        ctx.cache["redactor"] = redactor(personal_names(ctx))
    return ctx.cache["redactor"](text(value))


def indicator_names(m: Methodology) -> dict[str, str]:
    return {p.code: p.short for p in m.positions} | {t.code: t.name for t in m.targets} | {
        c.code: c.name for c in m.criteria}


@_cached
def staff_denominators(ctx: ReportContext) -> pd.DataFrame:
    """Per school: every share's value and its denominator (from staff.csv)."""
    st = ctx.data["staff.csv"]
    rows = []
    head = ctx.methodology.headcount
    for r in st.itertuples(index=False):
        row = {"school_code": text(r.school_code)}
        for s in ctx.methodology.shares:
            n_, d_ = num(getattr(r, s.numerator, None)), num(getattr(r, s.denominator, None))
            row[s.code] = n_ * 100 / d_ if n_ is not None and d_ else None
            row[f"{s.code}_den"] = d_
        row["headcount"] = num(getattr(r, head, None)) if head else None
        rows.append(row)
    return pd.DataFrame(rows)


def cluster_shares(ctx: ReportContext) -> dict[str, dict[str, str]]:
    """Per cluster and share: the ratio of sums over the cluster's schools, as shown (or
    «н/д (менее N)» when the cluster's denominator is small)."""
    key = "cluster_shares"
    if key in ctx.cache:
        return ctx.cache[key]
    sc = ctx.data["scores.csv"]
    clusters = dict(zip(sc["school_code"].map(text), sc["cluster"].map(text)))
    st = ctx.data["staff.csv"].copy()
    st["_cluster"] = st["school_code"].map(text).map(clusters)
    out: dict[str, dict[str, str]] = {}
    for cl, g in st.groupby("_cluster"):
        row = {}
        for s in ctx.methodology.shares:
            both = pd.to_numeric(g[s.numerator], errors="coerce").notna() & pd.to_numeric(g[s.denominator], errors="coerce").notna()
            cn = pd.to_numeric(g.loc[both, s.numerator], errors="coerce").sum()
            cd = pd.to_numeric(g.loc[both, s.denominator], errors="coerce").sum()
            row[s.code] = shown(fmt_pct(cn * 100 / cd) if cd else "—", cd, ctx.n_small)
        out[str(cl)] = row
    ctx.cache[key] = out
    return out


@_cached
def school_table(ctx: ReportContext) -> pd.DataFrame:
    """One row per registry school: the scores with zone, previous total, change and trend,
    the number of teachers (for suppression) and the number of recommendations."""
    sc = ctx.data["scores.csv"].copy()
    sc["school_code"] = sc["school_code"].map(text)
    prof = ctx.data["profile.csv"]
    types = dict(zip(prof["school_code"].map(text), prof["school_type"].map(text)))
    if "school_type" not in sc.columns:
        sc["school_type"] = sc["school_code"].map(types)
    for col in ("checklist_points", "checklist_max", "checklist_pct", "activity_index", "total_score", "rank_in_cluster"):
        sc[col] = pd.to_numeric(sc[col], errors="coerce").astype("float64")
    sc["zone"] = [zone_of(t, ctx.params) if s else "" for t, s in zip(sc["total_score"], sc["submitted"])]
    sizes = sc[sc["rank_in_cluster"].notna()].groupby("cluster")["school_code"].count()
    sc["cluster_size"] = sc["cluster"].map(sizes)
    prev = ctx.previous
    if prev is not None:
        ps = prev["scores.csv"]
        pt = dict(zip(ps["school_code"].map(text), pd.to_numeric(ps["total_score"], errors="coerce")))
        sc["prev_total"] = sc["school_code"].map(pt).astype("float64")
    else:
        sc["prev_total"] = float("nan")
    sc["delta"] = sc["total_score"] - sc["prev_total"]
    dens = staff_denominators(ctx)
    heads = dict(zip(dens["school_code"], dens["headcount"])) if not dens.empty else {}
    sc["headcount"] = sc["school_code"].map(heads).astype("float64")
    sc["small"] = [is_small(v, ctx.n_small) for v in sc["headcount"]]
    recs = ctx.data["recommendations.csv"]
    for p in PRIORITIES:
        cnt = recs[recs["priority"] == p].groupby("school_code")["recommendation_id"].count()
        sc[f"rec_{p}"] = sc["school_code"].map(cnt).fillna(0).astype(int)
    sc["page"] = sc["school_code"].map(school_page)
    order = {c: i for i, c in enumerate(cluster_order(ctx))}
    sc["_c"] = sc["cluster"].map(lambda c: order.get(text(c), 99))
    sc = sc.sort_values(["_c", "rank_in_cluster", "school_code"], na_position="last", kind="mergesort")
    return sc.drop(columns="_c").reset_index(drop=True)


# what a published page may not show of a school whose staff is a small group: its total and
# everything derived from it (the internal results.xlsx keeps them)
HIDDEN_WITH_TOTAL = ("total_score", "activity_index", "rank_in_cluster", "prev_total", "delta")


@_cached
def published_school_table(ctx: ReportContext) -> pd.DataFrame:
    """school_table as the published pages show it: for a school of fewer than min_group_size
    teachers the total, level, zone, rank, change and activity index are blank (the level reads
    «н/д (менее N)»), and the school comes after the ranked schools of its cluster."""
    sc = school_table(ctx)
    small = sc["small"].astype(bool) & sc["submitted"].astype(bool)
    if not small.any():
        return sc
    for col in HIDDEN_WITH_TOTAL:
        sc.loc[small, col] = float("nan")
    sc.loc[small, "zone"] = ""
    sc["level"] = sc["level"].astype(object)
    sc.loc[small, "level"] = small_label(ctx.n_small)
    # ranks among the shown schools only: a gap would tell where the hidden one stood
    ranked = sc["rank_in_cluster"].notna()
    # the stage's order with the hidden schools left out: 1 + the shown schools of the cluster
    # ranked before (ties share a place), one grouped rank rather than a scan per school
    sc.loc[ranked, "rank_in_cluster"] = (sc.loc[ranked].groupby("cluster", dropna=False)["rank_in_cluster"]
                                         .rank(method="min").astype("float64"))
    sc["cluster_size"] = sc["cluster"].map(sc[ranked].groupby("cluster")["school_code"].count())
    order = {c: i for i, c in enumerate(cluster_order(ctx))}
    sc["_c"] = sc["cluster"].map(lambda c: order.get(text(c), 99))
    sc = sc.sort_values(["_c", "rank_in_cluster", "school_code"], na_position="last", kind="mergesort")
    return sc.drop(columns="_c").reset_index(drop=True)


@_cached
def criteria_table(ctx: ReportContext) -> pd.DataFrame:
    """criteria.csv with cluster, the cluster mean per criterion and last year's pct."""
    cr = ctx.data["criteria.csv"].copy()
    cr["school_code"] = cr["school_code"].map(text)
    cr["pct"] = pd.to_numeric(cr["pct"], errors="coerce").astype("float64")
    clusters = dict(zip(ctx.data["scores.csv"]["school_code"].map(text), ctx.data["scores.csv"]["cluster"].map(text)))
    cr["cluster"] = cr["school_code"].map(clusters)
    cr["cluster_mean"] = cr.groupby(["cluster", "criterion"])["pct"].transform("mean")
    cr["all_mean"] = cr.groupby("criterion")["pct"].transform("mean")
    prev = ctx.previous
    if prev is not None:
        pc = prev["criteria.csv"]
        key = dict(zip(zip(pc["school_code"].map(text), pc["criterion"].map(text)), pd.to_numeric(pc["pct"], errors="coerce")))
        cr["prev_pct"] = [key.get((s, c)) for s, c in zip(cr["school_code"], cr["criterion"])]
        cr["prev_pct"] = pd.to_numeric(cr["prev_pct"], errors="coerce").astype("float64")
    else:
        cr["prev_pct"] = float("nan")
    return cr


def cluster_profile(ctx: ReportContext) -> pd.DataFrame:
    """Mean criterion pct per cluster (rows: criteria in methodology order; columns: clusters
    present, then «все ОО»)."""
    cr = criteria_table(ctx)
    present = [c for c in cluster_order(ctx) if c in set(cr["cluster"])]
    out = pd.DataFrame(index=[c.code for c in ctx.methodology.criteria])
    for cl in present:
        out[cl] = cr[cr["cluster"] == cl].groupby("criterion")["pct"].mean()
    out["все ОО"] = cr.groupby("criterion")["pct"].mean()
    return out


@_cached
def position_matrix(ctx: ReportContext) -> pd.DataFrame:
    """positions.csv as schools × positions: points, claimed, max, confirmed (long, ordered)."""
    pos = ctx.data["positions.csv"].copy()
    pos["school_code"] = pos["school_code"].map(text)
    for c in ("claimed", "points", "max_points"):
        pos[c] = pd.to_numeric(pos[c], errors="coerce").astype("float64")
    pos["confirmed"] = pos["confirmed"].map(as_bool)
    pos["unconfirmed"] = (pos["claimed"].fillna(0) > 0) & (pos["confirmed"] == False)  # noqa: E712
    return pos


def deficits(ctx: ReportContext) -> pd.DataFrame:
    """Per position: schools with a form, schools below the maximum, with 0 points, with an
    unconfirmed claim; the share of schools not at the maximum."""
    pos = position_matrix(ctx)
    rows = []
    for p in ctx.methodology.positions:
        g = pos[pos["position"] == p.code]
        n = g["school_code"].nunique()
        below = int((g["points"] < g["max_points"]).sum())
        rows.append({
            "position": p.code, "criterion": p.criterion, "short": p.short, "n": n,
            "zero": int((g["points"] == 0).sum()), "below": below,
            "unconfirmed": int(g["unconfirmed"].sum()),
            "mean_pct": float(g["points"].sum() * 100 / g["max_points"].sum()) if n and g["max_points"].sum() else float("nan"),
            "share_below": below * 100 / n if n else float("nan"),
        })
    return pd.DataFrame(rows)


def participation(ctx: ReportContext) -> dict[str, Any]:
    """Forms expected / received / accepted / rejected / superseded; schools without a form."""
    prof = ctx.data["profile.csv"]
    files = ctx.data["files.csv"].copy()
    forms = files[~files["status"].map(text).isin(NOT_FORM_STATUSES)]
    expected = len(prof)
    accepted_schools = int(prof["submitted"].sum()) if "submitted" in prof else 0
    by_status = forms["status"].map(text).value_counts().to_dict()
    missing = prof[~prof["submitted"]]
    return {
        "expected": expected,
        "received": len(forms),
        "accepted": int(by_status.get("accepted", 0)),
        "rejected": int(by_status.get("rejected", 0)),
        "superseded": int(by_status.get("superseded", 0)),
        "schools_submitted": accepted_schools,
        "rate": accepted_schools * 100 / expected if expected else float("nan"),
        "rejected_files": forms[forms["status"].map(text) == "rejected"],
        "superseded_files": forms[forms["status"].map(text) == "superseded"],
        "missing_schools": missing,
    }


def municipal_targets(ctx: ReportContext) -> pd.DataFrame:
    """targets_municipal.csv with names, units and suppression of small share denominators."""
    tm = ctx.data["targets_municipal.csv"].copy()
    names = {t.code: t for t in ctx.methodology.targets}
    tm["name"] = tm["target"].map(lambda c: names[c].name if c in names else c)
    tm["kind"] = tm["target"].map(lambda c: names[c].measure.kind if c in names else "")
    tm["met"] = tm["met"].map(as_bool)
    tm["note"] = tm["note"].map(text) if "note" in tm.columns else ""  # why a target is not computed
    for c in ("numerator", "denominator", "value", "target_value"):
        tm[c] = pd.to_numeric(tm[c], errors="coerce").astype("float64")
    tm["small"] = [c in names and names[c].kind.municipal_small(d, ctx.n_small) for c, d in zip(tm["target"], tm["denominator"])]
    tm["how"] = [names[c].kind.municipal_how(nu, de, sm, ctx.n_small) if c in names else ""
                 for c, nu, de, sm in zip(tm["target"], tm["numerator"], tm["denominator"], tm["small"])]
    return tm


@_cached
def target_school_matrix(ctx: ReportContext) -> pd.DataFrame:
    """targets_school.csv pivoted: schools × targets → status."""
    ts = ctx.data["targets_school.csv"].copy()
    ts["school_code"] = ts["school_code"].map(text)
    if ts.empty:
        return pd.DataFrame()
    return ts.pivot_table(index="school_code", columns="target", values="status", aggfunc="first")


def hidden_schools(ctx: ReportContext, data: Any) -> set[str]:
    """The schools of a year's data (this or an earlier one) whose staff is a small group: the
    published pages leave their totals and levels out of every count and mean."""
    head = ctx.methodology.headcount
    st = data["staff.csv"]
    if not head or head not in st.columns:
        return set()
    return {text(c) for c, v in zip(st["school_code"], st[head]) if is_small(v, ctx.n_small)}


def shown_scores(ctx: ReportContext, data: Any) -> pd.DataFrame:
    """A year's scores.csv without the rows of its hidden schools."""
    sc = data["scores.csv"]
    hidden = hidden_schools(ctx, data)
    return sc[~sc["school_code"].map(text).isin(hidden)] if hidden else sc


def history_table(ctx: ReportContext) -> pd.DataFrame:
    """One row per year of the history: schools, forms, mean total, level counts, municipal
    targets met — or a note when the year has no data."""
    rows = []
    for hy in ctx.history:
        row: dict[str, Any] = {"year": hy.year, "academic_year": hy.academic_year, "note": hy.note}
        if hy.data is not None:
            sc = shown_scores(ctx, hy.data)
            tot = pd.to_numeric(sc["total_score"], errors="coerce")
            row.update(
                schools=len(hy.data["scores.csv"]), submitted=int(hy.data["scores.csv"]["submitted"].sum()),
                mean_total=tot.mean(),
                **{lv: int((sc["level"].map(text) == lv).sum()) for lv in LEVELS},
            )
            for cl in cluster_order(ctx):
                row[f"mean_{cl}"] = tot[sc["cluster"].map(text) == cl].mean()
            tm = hy.data["targets_municipal.csv"]
            met = tm["met"].map(as_bool)
            row["targets_met"] = int((met == True).sum())  # noqa: E712
            row["targets_total"] = int(met.notna().sum())
            for t, v in zip(tm["target"].map(text), pd.to_numeric(tm["value"], errors="coerce")):
                row[f"target_{t}"] = v
            cr = hy.data["criteria.csv"]
            for c, v in cr.groupby(cr["criterion"].map(text))["pct"].apply(lambda s: pd.to_numeric(s, errors="coerce").mean()).items():
                row[f"crit_{c}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def followup_summary(ctx: ReportContext) -> pd.DataFrame:
    """Per indicator and overall: number of last year's recommendations and the share (%) of
    each follow-up status."""
    fu = ctx.data["followup.csv"]
    cols = ["indicator_code", "name", "n", *FOLLOWUP_STATUSES]
    if fu.empty:
        return pd.DataFrame(columns=cols)
    names = indicator_names(ctx.methodology)
    order = [p.code for p in ctx.methodology.positions] + [t.code for t in ctx.methodology.targets]
    codes = [c for c in order if c in set(fu["indicator_code"])] + sorted(set(fu["indicator_code"].dropna()) - set(order))
    rows = []
    for code, g in [(c, fu[fu["indicator_code"] == c]) for c in codes] + [("всего", fu)]:
        counts = g["status"].map(text).value_counts()
        n = len(g)
        row = {"indicator_code": code, "name": names.get(code, "все рекомендации прошлого года" if code == "всего" else code), "n": n}
        for s in FOLLOWUP_STATUSES:
            row[s] = int(counts.get(s, 0)) * 100 / n if n else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)
