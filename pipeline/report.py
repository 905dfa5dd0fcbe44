"""The analytic report («Аналитическая справка») of a monitoring year, assembled from the
processed tables.

Reading happens at one edge (`build_context`: the year's processed tables and every earlier
year reachable through `previous_params`); everything else is a pure function of that context
and returns a section of the report as HTML (what the 05_report notebook displays) or a table
(what the Excel and the school pages use). `export_html` turns the executed notebook into the
published `index.html`: no code, no prompts, no external resources, deterministic.

Published figures follow three rules (SPEC §7):
* every string that came from a form is HTML-escaped (markupsafe; only `Markup` built here
  is trusted);
* no personal data: the `responsible` field is never shown, and `redact` removes the names
  from any published page as a last line of defence;
* no figure computed from fewer than `params.report.min_group_size` people: such a figure is
  shown as «н/д (менее N)».
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import math
import re
import textwrap
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from .contract import CLUSTERS, DECISION_KINDS, RULE_NAMES, FOLLOWUP_STATUSES, LEVELS, OUTPUTS, PRIORITIES, ZONES
from .methodology import Methodology, load_methodology
from .params import YearParams, load_params
from .storage import read_table

NO_DATA = "нет данных"
SUBMITTED_TRUE = {"true", "1", "1.0", "да", "yes"}

# The management cycle the report follows (federal guidance on municipal quality mechanisms):
# anchor, title of the step.
CYCLE: tuple[tuple[str, str], ...] = (
    ("goals", "Цели"),
    ("indicators", "Показатели"),
    ("methods", "Методы сбора информации"),
    ("monitoring", "Мониторинг"),
    ("analysis", "Анализ"),
    ("recommendations", "Адресные рекомендации"),
    ("measures", "Меры"),
    ("decisions", "Управленческие решения"),
    ("effectiveness", "Анализ эффективности принятых мер"),
)

ZONE_CLASS = {"зелёная": "green", "жёлтая": "yellow", "красная": "red"}
LEVEL_ZONE = dict(zip(LEVELS, ZONES))
TARGET_STATUS_LABEL = {
    "met": "достигнут",
    "not_met": "не достигнут",
    "not_applicable": "не применяется",
    "not_submitted": "форма не представлена",
}
TARGET_STATUS_MARK = {"met": "✓", "not_met": "✗", "not_applicable": "—", "not_submitted": "·"}
FILE_STATUS_LABEL = {
    "accepted": "принята",
    "rejected": "отклонена",
    "superseded": "заменена более поздней",
    "registry": "реестр школ",
}
SEVERITY_LABEL = {"error": "ошибка", "warning": "предупреждение"}


def rule_name(rule: Any) -> str:
    """The Russian name of a data-quality rule (the code itself when unknown)."""
    r = text(rule)
    return RULE_NAMES.get(r, r)
MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
              "октября", "ноября", "декабря")
# Profile fields that are personal data: never on a published page.
PERSONAL_FIELDS = ("responsible",)


# ============================================================================ loading (edge)


@dataclass(frozen=True)
class YearData:
    """The processed tables of one year (by file name); a missing file is an empty table with
    the contract's columns, listed in `missing`."""

    params: YearParams
    tables: dict[str, pd.DataFrame]
    missing: tuple[str, ...] = ()

    @property
    def year(self) -> int:
        return self.params.year

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


@dataclass(frozen=True)
class HistoryYear:
    """One year of the dynamics: its parameters and data, or why it has none."""

    year: int
    academic_year: str
    data: YearData | None
    note: str = ""


def _empty(stage: str, name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in OUTPUTS[stage][name]})


def load_year(params: YearParams) -> YearData | None:
    """Every contract table of the year's processed_dir; None when the year has no scores."""
    folder = Path(params.processed_dir)
    if not (folder / "scores.csv").is_file():
        return None
    tables, missing = {}, []
    for stage in ("ingest", "clean", "score", "recommendations"):
        for name in OUTPUTS[stage]:
            if (folder / name).is_file():
                tables[name] = _normalise(read_table(folder, name))
            else:
                tables[name] = _empty(stage, name)
                missing.append(name)
    return YearData(params, tables, tuple(missing))


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for col in ("school_code", "recommendation_id", "indicator_code", "position", "target", "criterion"):
        if col in df.columns:
            df[col] = df[col].astype("string").str.strip()
    if "submitted" in df.columns:
        df["submitted"] = df["submitted"].map(as_bool).fillna(False).astype(bool)
    return df


def load_history(params: YearParams) -> list[HistoryYear]:
    """The year and every earlier one reachable through previous_params, oldest first. A year
    whose parameter file or processed data is missing is kept with a note and no data."""
    chain: list[HistoryYear] = []
    seen: set[Path] = set()
    current: YearParams | None = params
    while current is not None:
        data = load_year(current)
        note = "" if data is not None else f"обработанные данные не найдены ({Path(current.processed_dir).name})"
        chain.append(HistoryYear(current.year, current.academic_year, data, note))
        if current.source is not None:
            seen.add(Path(current.source).resolve())
        prev = current.previous_params
        if prev is None or Path(prev).resolve() in seen:
            break
        try:
            current = load_params(prev, check_files=False)
        except Exception:  # an unreadable earlier year: say so, stop following the chain
            chain.append(HistoryYear(current.year - 1, "", None, f"файл параметров «{Path(prev).name}» не читается"))
            break
    return list(reversed(chain))


@dataclass
class ReportContext:
    """Everything the report of one year is made from."""

    params: YearParams
    methodology: Methodology
    data: YearData
    history: list[HistoryYear] = field(default_factory=list)
    # derived tables, computed once per context (the school pages ask for them per school)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_small(self) -> int:
        return int(self.params.report.min_group_size)

    @property
    def previous(self) -> YearData | None:
        """The previous year's data, when it was run."""
        if len(self.history) >= 2 and self.history[-2].year == self.params.year - 1:
            return self.history[-2].data
        return None


def build_context(params: YearParams | str | Path, methodology: Methodology | None = None) -> ReportContext:
    """Load the year (and its history) for the report. The one place that reads files."""
    if not isinstance(params, YearParams):
        params = load_params(params)
    methodology = methodology or load_methodology(params.methodology)
    history = load_history(params)
    data = history[-1].data
    if data is None:
        from .errors import PipelineError

        raise PipelineError(
            f"Нет обработанных данных {params.year} года в папке «{params.processed_dir}»",
            "Сначала выполните этапы ingest, clean, score и recommendations (python -m pipeline run --params …).",
        )
    return ReportContext(params, methodology, data, history)


def audit_notes(ctx: ReportContext) -> pd.DataFrame:
    """For the auditor: which years the dynamics use (or why not) and which tables are missing."""
    rows = []
    for hy in ctx.history:
        what = "данные есть" if hy.data is not None else hy.note
        if hy.data is not None and hy.data.missing:
            what += "; нет файлов: " + ", ".join(hy.data.missing)
        rows.append({"год": hy.year, "учебный год": hy.academic_year, "обработанные данные": what,
                     "папка": str(hy.data.params.processed_dir) if hy.data is not None else ""})
    return pd.DataFrame(rows)


# ============================================================================ small helpers


def as_bool(v: Any) -> bool | None:
    """True/False/None from booleans or their text forms."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float) and math.isnan(v):
        return None
    s = str(v).strip().lower()
    if s in SUBMITTED_TRUE:
        return True
    if s in {"false", "0", "0.0", "нет", "no"}:
        return False
    return None


def num(v: Any) -> float | None:
    """A float, or None for empty / non-numeric / NaN."""
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def text(v: Any) -> str:
    """A cell as text ('' for empty)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def fmt_num(v: Any, digits: int = 1) -> str:
    """72,5 — Russian decimal comma; '—' for empty."""
    f = num(v)
    if f is None:
        return "—"
    s = f"{f:.{digits}f}".replace(".", ",").replace("-", "−")
    return s


def fmt_int(v: Any) -> str:
    f = num(v)
    return "—" if f is None else f"{int(round(f)):,}".replace(",", "\u00a0")


def fmt_pct(v: Any, digits: int = 1) -> str:
    f = num(v)
    return "—" if f is None else f"{fmt_num(f, digits)}\u00a0%"


def fmt_date(d: dt.date) -> str:
    """15 июня 2026 г."""
    return f"{d.day} {MONTHS_GEN[d.month - 1]} {d.year}\u00a0г."


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural: 1 школа, 2 школы, 5 школ."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def small_label(n: int) -> str:
    return f"н/д (менее {n})"


def is_small(denominator: Any, n: int) -> bool:
    """A figure computed from fewer than n people (a known denominator below n, but above 0)."""
    d = num(denominator)
    return d is not None and 0 < d < n


def zone_of(value: Any, params: YearParams) -> str:
    """зелёная / жёлтая / красная from the level thresholds; '' for empty."""
    f = num(value)
    if f is None:
        return ""
    f = round(f, 9)
    if f >= params.levels.high:
        return ZONES[0]
    if f >= params.levels.medium:
        return ZONES[1]
    return ZONES[2]


def trend(delta: Any, threshold: float) -> tuple[str, str, str]:
    """(mark, css class, words) of a change against the previous year."""
    d = num(delta)
    if d is None:
        return "", "none", "нет данных за прошлый год"
    if d > threshold:
        return "▲", "up", f"рост на {fmt_num(d)}"
    if d < -threshold:
        return "▼", "down", f"снижение на {fmt_num(-d)}"
    return "→", "flat", "без существенных изменений"


def short(s: str, n: int = 48) -> str:
    s = text(s)
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def school_page(code: str) -> str:
    """File name of a school's page: the code, made safe for any file system and URL."""
    code = text(code).strip()
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", code) or "school"
    if safe != code:
        import hashlib

        safe = f"{safe}-{hashlib.sha256(code.encode('utf-8')).hexdigest()[:8]}"
    return f"{safe}.html"


_NOT_IN_LINK = re.compile(r"[\x00-\x1f\x7f ]")  # control characters and the space
# an http(s) address with a plain ASCII host: what urlsplit accepts, without calling it
_PLAIN_LINK = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~!$&'()*+,;=:@%-]+(?:[/?#]|\Z)")
# the same, already stripped and without control characters or spaces: the address as it is
_SIMPLE_LINK = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~!$&'()*+,;=:@%-]+"
                          r"(?:[/?#](?:[^\x00-\x20\x7f]*[^\s\x00-\x20\x7f])?)?")


def safe_link(url: Any) -> str | None:
    """The address if it is an http(s) URL that is safe to render as a link; else None."""
    s = text(url)
    if _SIMPLE_LINK.fullmatch(s):
        return s
    s = s.strip()
    if not s or _NOT_IN_LINK.search(s):
        return None
    if _PLAIN_LINK.match(s):
        return s
    try:
        parts = urlsplit(s)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return s


# ---------------------------------------------------------------------------- HTML builders


def _cell(v: Any) -> Markup:
    if isinstance(v, Markup):
        return v
    return escape(text(v))


def h(tag: str, content: Any = "", **attrs: Any) -> Markup:
    """<tag attrs>content</tag>; content escaped unless Markup; `class_` → class."""
    parts = []
    for k, v in attrs.items():
        if v is None or v is False:
            continue
        k = k.rstrip("_").replace("_", "-")
        parts.append(f' {k}="{escape(text(v))}"')
    if isinstance(content, (list, tuple)):
        inner = Markup("").join(_cell(c) for c in content)
    else:
        inner = _cell(content)
    return Markup(f"<{tag}{''.join(parts)}>{inner}</{tag}>")


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, cls: str = "data",
          num_cols: Sequence[int] = (), caption: str | None = None, row_classes: Sequence[str] | None = None,
          nowrap: Sequence[int] = (), widths: Sequence[str | None] | None = None) -> Markup:
    """A plain HTML table; numeric columns right-aligned, `nowrap` columns kept on one line,
    `widths` (CSS widths per column) fix the layout so that tables of one kind line up."""
    numeric, keep = set(num_cols), set(nowrap)

    def klass(i: int) -> str | None:
        names = [n for n, on in (("num", i in numeric), ("nowrap", i in keep)) if on]
        return " ".join(names) or None

    head = Markup("").join(h("th", c, class_=klass(i), scope="col") for i, c in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        cells = Markup("").join(h("td", c, class_=klass(i)) for i, c in enumerate(row))
        rc = row_classes[r] if row_classes and r < len(row_classes) else None
        body.append(h("tr", cells, class_=rc or None))
    cap = h("caption", caption) if caption else Markup("")
    cols = Markup("")
    if widths:
        cols = h("colgroup", Markup("").join(Markup(f'<col style="width:{escape(w)}">') if w else Markup("<col>")
                                             for w in widths))
        cls += " fixed"
    return Markup(f'<div class="table-wrap"><table class="{escape(cls)}">{cap}{cols}<thead><tr>{head}</tr></thead>'
                  f"<tbody>{Markup('').join(body)}</tbody></table></div>")


def zone_chip(value: Any, params: YearParams, label: str | None = None) -> Markup:
    z = zone_of(value, params)
    if not z:
        return h("span", label if label is not None else "—", class_="chip none")
    return h("span", label if label is not None else fmt_num(value), class_=f"chip {ZONE_CLASS[z]}", title=f"{z} зона")


def trend_chip(delta: Any, threshold: float) -> Markup:
    mark, cls, words = trend(delta, threshold)
    if not mark:
        return h("span", "—", class_="trend none", title=words)
    sign = "+" if (num(delta) or 0) > 0 else ""
    return h("span", f"{mark} {sign}{fmt_num(delta)}", class_=f"trend {cls}", title=words)


def bar_cell(value: Any, params: YearParams) -> Markup:
    """An inline bar 0–100 coloured by zone (CSS only)."""
    f = num(value)
    if f is None:
        return Markup('<span class="bar empty"></span>')
    z = ZONE_CLASS.get(zone_of(f, params), "none")
    w = max(0.0, min(100.0, f))
    return Markup(f'<span class="bar"><span class="fill {z}" style="width:{w:.1f}%"></span></span>')


def section(anchor: str, number: str, title: str, *content: Any, lead: str | None = None) -> str:
    head = h("h2", [h("span", number, class_="num"), " ", title] if number else title)
    parts = [head]
    if lead:
        parts.append(h("p", lead, class_="lead"))
    parts.extend(_cell(c) for c in content)
    return str(h("section", Markup("").join(parts), id=anchor, class_="report-section"))


def sub(title: str, *content: Any, anchor: str | None = None) -> Markup:
    """A titled part of a section; with an anchor it is a block the contents can link to."""
    inner = Markup("").join([h("h3", title)] + [_cell(c) for c in content])
    return h("div", inner, id=anchor, class_="subsection") if anchor else inner


def para(*sentences: Any, cls: str | None = None) -> Markup:
    return h("p", Markup(" ").join(_cell(s) for s in sentences if s), class_=cls)


def note(*sentences: Any) -> Markup:
    return para(*sentences, cls="note")


def figure(uri: str, alt: str, caption: str | None = None, width: int | None = None) -> Markup:
    img = Markup(f'<img src="{escape(uri)}" alt="{escape(alt)}"' + (f' width="{int(width)}"' if width else "") + ">")
    cap = h("figcaption", caption) if caption else Markup("")
    return h("figure", img + cap, class_="chart")


# ============================================================================ derived tables


def _cached(fn):
    """Compute a derived table once per context; callers get a copy they may change."""
    import functools

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


def indicator_names(m: Methodology) -> dict[str, str]:
    return {p.code: p.short for p in m.positions} | {t.code: t.name for t in m.targets} | {
        c.code: c.name for c in m.criteria}


@_cached
def staff_denominators(ctx: ReportContext) -> pd.DataFrame:
    """Per school: every share's value and its denominator (from staff.csv)."""
    st = ctx.data["staff.csv"]
    rows = []
    for r in st.itertuples(index=False):
        row = {"school_code": text(r.school_code)}
        for s in ctx.methodology.shares:
            n_, d_ = num(getattr(r, s.numerator, None)), num(getattr(r, s.denominator, None))
            row[s.code] = n_ * 100 / d_ if n_ is not None and d_ else None
            row[f"{s.code}_den"] = d_
        row["P0"] = num(getattr(r, "P0", None))
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
            row[s.code] = small_label(ctx.n_small) if 0 < cd < ctx.n_small else (fmt_pct(cn * 100 / cd) if cd else "—")
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
    p0 = dict(zip(dens["school_code"], dens["P0"])) if not dens.empty else {}
    sc["P0"] = sc["school_code"].map(p0).astype("float64")
    sc["small"] = [is_small(v, ctx.n_small) for v in sc["P0"]]
    recs = ctx.data["recommendations.csv"]
    for p in PRIORITIES:
        cnt = recs[recs["priority"] == p].groupby("school_code")["recommendation_id"].count()
        sc[f"rec_{p}"] = sc["school_code"].map(cnt).fillna(0).astype(int)
    sc["page"] = sc["school_code"].map(school_page)
    order = {c: i for i, c in enumerate(CLUSTERS)}
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
    present = [c for c in CLUSTERS if c in set(cr["cluster"])] + sorted(set(cr["cluster"].dropna()) - set(CLUSTERS))
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
    forms = files[files["status"].map(text) != "registry"]
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
    for c in ("numerator", "denominator", "value", "target_value"):
        tm[c] = pd.to_numeric(tm[c], errors="coerce").astype("float64")
    tm["small"] = [k == "share" and is_small(d, ctx.n_small) for k, d in zip(tm["kind"], tm["denominator"])]
    return tm


def target_school_matrix(ctx: ReportContext) -> pd.DataFrame:
    """targets_school.csv pivoted: schools × targets → status."""
    ts = ctx.data["targets_school.csv"].copy()
    ts["school_code"] = ts["school_code"].map(text)
    if ts.empty:
        return pd.DataFrame()
    return ts.pivot_table(index="school_code", columns="target", values="status", aggfunc="first")


def history_table(ctx: ReportContext) -> pd.DataFrame:
    """One row per year of the history: schools, forms, mean total, level counts, municipal
    targets met — or a note when the year has no data."""
    rows = []
    for hy in ctx.history:
        row: dict[str, Any] = {"year": hy.year, "academic_year": hy.academic_year, "note": hy.note}
        if hy.data is not None:
            sc = hy.data["scores.csv"]
            tot = pd.to_numeric(sc["total_score"], errors="coerce")
            row.update(
                schools=len(sc), submitted=int(sc["submitted"].sum()), mean_total=tot.mean(),
                **{lv: int((sc["level"].map(text) == lv).sum()) for lv in LEVELS},
            )
            for cl in CLUSTERS:
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


# ============================================================================ sections (HTML)


def summary_line(ctx: ReportContext) -> str:
    """One line for the site index: the order, participation, mean score and levels."""
    hd = ctx.params.header
    part = participation(ctx)
    st = school_table(ctx)
    sub_ = st[st["submitted"]]
    levels = {lv: int((sub_["level"].map(text) == lv).sum()) for lv in LEVELS}
    return (f"Приказ {hd.order_number} от {hd.order_date:%d.%m.%Y} · формы представили {part['schools_submitted']} из "
            f"{part['expected']} ОО · средний итоговый балл {fmt_num(sub_['total_score'].mean())} · высокий уровень — "
            f"{levels['высокий']}, средний — {levels['средний']}, зона риска — {levels['низкий']}")


def header_html(params: YearParams) -> str:
    """The order header: organization, approval, title, order number and date, executors."""
    hd = params.header
    approve = h("div", [h("div", "УТВЕРЖДАЮ", class_="approve-title"), h("div", hd.approved_by),
                        h("div", fmt_date(hd.order_date))], class_="approve")
    org = h("div", hd.organization, class_="org")
    order = h("div", f"Приложение к приказу от {hd.order_date:%d.%m.%Y} {hd.order_number}", class_="order")
    title = h("h1", hd.title)
    meta = h("div", f"Мониторинговый год {params.year} · {params.academic_year} учебный год", class_="meta")
    execs = h("div", [h("span", "Исполнители: ", class_="label"), "; ".join(hd.executors)], class_="executors")
    return str(h("header", Markup("").join([org, approve, order, title, meta, execs]), class_="doc-header"))


def cycle_html(ctx: ReportContext) -> str:
    """The management cycle as a row of steps linking to the sections, plus the contents."""
    steps = Markup("").join(
        h("li", h("a", [h("span", str(i), class_="step-no"), h("span", title, class_="step-title")], href=f"#{anchor}"))
        for i, (anchor, title) in enumerate(CYCLE, start=1)
    )
    extra = Markup("").join(
        h("li", h("a", t, href=f"#{a}")) for a, t in (("summary", "Основные итоги"), ("schools", "Страницы школ"),
                                                      ("appendix", "Приложение: методика расчёта"))
    )
    return str(h("nav", [h("div", "Управленческий цикл", class_="cycle-title"), h("ol", steps, class_="cycle"),
                         h("ul", extra, class_="toc-extra")], class_="cycle-nav", aria_label="Содержание"))


def summary_html(ctx: ReportContext) -> str:
    """Key figures and the main findings in plain Russian."""
    p = ctx.params
    part = participation(ctx)
    st = school_table(ctx)
    sub_ = st[st["submitted"]]
    mean_total = sub_["total_score"].mean()
    levels = {lv: int((sub_["level"].map(text) == lv).sum()) for lv in LEVELS}
    tm = municipal_targets(ctx)
    met = int((tm["met"] == True).sum())  # noqa: E712
    known = int(tm["met"].notna().sum())
    recs = ctx.data["recommendations.csv"]
    cards = [
        ("Форм принято", f"{part['schools_submitted']} из {part['expected']}", f"{fmt_pct(part['rate'])} ОО реестра", ""),
        ("Средний итоговый балл", fmt_num(mean_total), f"{zone_of(mean_total, p) or 'нет'} зона", ZONE_CLASS.get(zone_of(mean_total, p), "")),
        ("Высокий уровень", str(levels["высокий"]), plural(levels["высокий"], "школа", "школы", "школ"), "green"),
        ("Средний уровень", str(levels["средний"]), plural(levels["средний"], "школа", "школы", "школ"), "yellow"),
        ("Зона риска (низкий)", str(levels["низкий"]), plural(levels["низкий"], "школа", "школы", "школ"), "red"),
        ("Целевые показатели", f"{met} из {known}", "достигнуто на уровне муниципалитета", ""),
        ("Адресные рекомендации", str(len(recs)), f"из них высокого приоритета — {int((recs['priority'] == 'высокий').sum())}", ""),
    ]
    card_html = Markup("").join(
        h("div", [h("div", label, class_="card-label"), h("div", value, class_="card-value"), h("div", sub_text, class_="card-sub")],
          class_=f"card {cls}".strip())
        for label, value, sub_text, cls in cards
    )
    findings = [f"Формы мониторинга представили {part['schools_submitted']} из {part['expected']} ОО реестра "
                f"({fmt_pct(part['rate'])}); отклонено файлов — {part['rejected']}."]
    if not math.isnan(mean_total):
        findings.append(f"Средний итоговый балл — {fmt_num(mean_total)} ({zone_of(mean_total, p)} зона); "
                        f"высокий уровень — {levels['высокий']}, средний — {levels['средний']}, "
                        f"низкий (зона риска) — {levels['низкий']} ОО.")
    prev = ctx.previous
    if prev is not None:
        pt = pd.to_numeric(prev["scores.csv"]["total_score"], errors="coerce").mean()
        if not math.isnan(pt) and not math.isnan(mean_total):
            mark, _, words = trend(mean_total - pt, p.report.trend_threshold)
            findings.append(f"По сравнению с {prev.year} годом средний балл: {fmt_num(pt)} → {fmt_num(mean_total)} "
                            f"({words}{' ' + mark if mark else ''}).")
    d = deficits(ctx)
    if not d.empty and d["n"].max() > 0:
        worst = d.sort_values(["share_below", "zero"], ascending=False).head(3)
        findings.append("Наиболее частые дефициты (доля ОО, не набравших максимум): " + "; ".join(
            f"{r.position} «{r.short}» — {fmt_pct(r.share_below, 0)}" for r in worst.itertuples()) + ".")
    findings.append(f"На уровне муниципалитета достигнуто целевых показателей: {met} из {known}.")
    fu = ctx.data["followup.csv"]
    if not fu.empty:
        fixed = int((fu["status"].map(text).isin(["устранён", "улучшение"])).sum())
        findings.append(f"Из {len(fu)} рекомендаций прошлого года устранено или улучшено {fixed} "
                        f"({fmt_pct(fixed * 100 / len(fu))}).")
    items = Markup("").join(h("li", f) for f in findings)
    return section("summary", "", "Основные итоги", h("div", card_html, class_="cards"),
                   sub("Выводы", h("ul", items, class_="findings")))


def goals_html(ctx: ReportContext) -> str:
    """1. Цели — what the monitoring is for."""
    p = ctx.params
    goals = [
        "получение объективной информации о состоянии и динамике методической работы в общеобразовательных организациях (ОО);",
        "выявление дефицитов в деятельности школьных методических служб по обеспечению системной методической работы;",
        "разработка адресных рекомендаций школам и управленческих решений муниципального уровня;",
        "оценка эффективности мер, принятых по итогам мониторинга прошлого года.",
    ]
    return section(
        "goals", "1", "Цели мониторинга",
        para(f"Мониторинг эффективности деятельности школьных методических служб проводится ежегодно "
             f"по итогам учебного года; настоящая справка подводит итоги {p.academic_year} учебного года. Цели:"),
        h("ul", Markup("").join(h("li", g) for g in goals)),
    )


def indicators_html(ctx: ReportContext) -> str:
    """2. Показатели — criteria, shares and this year's target values."""
    m, p = ctx.methodology, ctx.params
    counts = {c.code: sum(1 for x in m.positions if x.criterion == c.code) for c in m.criteria}
    maxes = {c.code: sum(x.max_points for x in m.positions if x.criterion == c.code) for c in m.criteria}
    crit = table(["Код", "Критерий", "Позиций", "Макс. балл"],
                 [[c.code, c.name, counts[c.code], maxes[c.code]] for c in m.criteria], num_cols=(2, 3))
    shares = table(["Код", "Показатель", "Расчёт", "В индексе активности"],
                   [[s.code, s.name, f"{s.numerator} / {s.denominator} × 100 %", "да" if s.in_activity_index else "нет"]
                    for s in m.shares], nowrap=(2,))
    trows = []
    for t in m.targets:
        tv = p.targets.get(t.code)
        scope = ", ".join({"school": "ОО", "municipal": "муниципалитет"}[s] for s in t.scope)
        trows.append([t.code, t.name, f"≥ {fmt_num(tv, 0)} {t.unit}".strip() if tv is not None else "—", scope])
    targets = table(["Код", "Целевой показатель", f"Значение {p.year} г.", "Уровень"], trows)
    return section(
        "indicators", "2", "Показатели",
        para(f"Самооценка ОО по {len(m.positions)} позициям, сгруппированным в {len(m.criteria)} критериев "
             f"(максимум {m.max_points} баллов), доли педагогов по сведениям о кадрах и целевые показатели года."),
        sub("Критерии", crit), sub("Доли педагогов", shares), sub("Целевые показатели года", targets),
    )


def methods_html(ctx: ReportContext) -> str:
    """3. Методы сбора информации."""
    m = ctx.methodology
    scale = "/".join(str(s) for s in sorted({s for p in m.positions for s in p.scale}, reverse=True))
    items = [
        f"Самооценка ОО по единой форме (лист «Показатели»): балл {scale} по каждой позиции с указанием "
        "названия и реквизитов подтверждающего документа и ссылки на его размещение на сайте ОО.",
        "Сведения о кадрах (лист «Кадры»): численность педагогов, участие в муниципальных мероприятиях и конкурсах, "
        "публикации, повышение квалификации, диагностика дефицитов, наставничество молодых педагогов.",
        "Сведения об ОО (лист «Сведения»): тип, численность обучающихся, статус инновационной площадки и ШНОР, "
        "мониторинг кадровых потребностей.",
        "Аудит документационного обеспечения: балл без подтверждающего документа не засчитывается "
        "(«не подтверждено»), ссылка, не являющаяся адресом http(s), не используется.",
        "Автоматическая проверка форм: каждое замечание к данным фиксируется с указанием файла, листа и ячейки.",
    ]
    return section("methods", "3", "Методы сбора информации", h("ul", Markup("").join(h("li", i) for i in items)))


def monitoring_html(ctx: ReportContext) -> str:
    """4. Мониторинг — participation and data quality."""
    part = participation(ctx)
    names = _names(ctx)
    rows = [
        ["ОО в реестре (ожидалось форм)", part["expected"]],
        ["Получено файлов форм", part["received"]],
        ["Принято (по одной на ОО)", part["accepted"]],
        ["Отклонено", part["rejected"]],
        ["Заменено более поздней формой той же ОО", part["superseded"]],
        ["ОО без принятой формы", len(part["missing_schools"])],
    ]
    blocks: list[Any] = [sub("Участие ОО", table(["", "Количество"], rows, num_cols=(1,), cls="data compact")),
                         para(f"Охват мониторингом: {fmt_pct(part['rate'])} ОО реестра.")]
    if len(part["rejected_files"]):
        blocks.append(sub("Отклонённые файлы", table(
            ["Файл", "Причина"], [[text(r.file), text(r.reason)] for r in part["rejected_files"].itertuples()])))
    if len(part["superseded_files"]):
        blocks.append(sub("Заменённые файлы", table(
            ["Файл", "ОО", "Дата заполнения", "Причина"],
            [[text(r.file), names.get(text(r.school_code), text(r.school_code)), text(r.filled_date), text(r.reason)]
             for r in part["superseded_files"].itertuples()])))
    if len(part["missing_schools"]):
        blocks.append(sub("ОО, не представившие форму", h("ul", Markup("").join(
            h("li", f"{text(r.school_code)} — {text(r.school_name)}") for r in part["missing_schools"].itertuples()),
            class_="cols")))
    blocks.append(data_quality_html(ctx))
    return section("monitoring", "4", "Мониторинг", *blocks,
                   lead="Кто представил формы, какие файлы не приняты и почему, какие замечания к данным найдены.")


def data_quality_html(ctx: ReportContext) -> Markup:
    """Issues by rule and severity (no values: they may carry personal data)."""
    iss = ctx.data["issues.csv"]
    if iss.empty:
        return sub("Качество данных", para("Замечаний к данным нет."))
    g = iss.assign(rule=iss["rule"].map(text), severity=iss["severity"].map(text), action=iss["action"].map(text),
                   school_code=iss["school_code"].map(text))
    rows = []
    for (rule, sev), grp in g.groupby(["rule", "severity"], sort=True):
        actions = "; ".join(sorted({a for a in grp["action"] if a}))
        rows.append([h("span", rule_name(rule), title=rule), SEVERITY_LABEL.get(sev, sev), len(grp),
                     grp.loc[grp["school_code"] != "", "school_code"].nunique(), actions])
    rows.sort(key=lambda r: (r[1] != "ошибка", -r[2], str(r[0])))
    n_err = int((g["severity"] == "error").sum())
    n_warn = int((g["severity"] == "warning").sum())
    return sub("Качество данных", para(
        f"Всего замечаний: {len(g)} (ошибок — {n_err}, предупреждений — {n_warn}). Ошибка: значение или форма не "
        "использованы; предупреждение: значение использовано, но требует внимания. Полный перечень с файлами, "
        "листами и ячейками передан ОО и приведён в служебной таблице results.xlsx."),
        table(["Правило проверки", "Вид", "Замечаний", "ОО", "Принятые меры"], rows, num_cols=(2, 3)))


def distribution_html(ctx: ReportContext) -> Markup:
    from . import charts

    st = school_table(ctx)
    sub_ = st[st["submitted"] & st["total_score"].notna()]
    if sub_.empty:
        return sub("Распределение итоговых баллов", para("Нет ОО с рассчитанным итоговым баллом."), anchor="distribution")
    uri = charts.distribution_chart(sub_, ctx.params)
    desc = sub_["total_score"].describe()
    text_ = (f"Итоговый балл рассчитан для {len(sub_)} ОО: минимум {fmt_num(desc['min'])}, медиана "
             f"{fmt_num(sub_['total_score'].median())}, максимум {fmt_num(desc['max'])}, среднее {fmt_num(desc['mean'])}.")
    return sub("Распределение итоговых баллов", para(text_),
               figure(uri, "Гистограмма итоговых баллов и уровни по кластерам",
                      f"Зоны: зелёная — высокий уровень (≥ {fmt_num(ctx.params.levels.high, 0)}), жёлтая — средний "
                      f"(≥ {fmt_num(ctx.params.levels.medium, 0)}), красная — низкий (зона риска).",
                      width=charts.WIDTH_PX), anchor="distribution")


def ranking_html(ctx: ReportContext) -> Markup:
    """Clusters and ranking: one table per cluster with zone, bar and trend mark."""
    st = school_table(ctx)
    p = ctx.params
    thr = p.report.trend_threshold
    small = small_label(ctx.n_small)
    blocks = []
    for cl in [c for c in CLUSTERS if c in set(st["cluster"].map(text))] + sorted(set(st["cluster"].dropna().map(text)) - set(CLUSTERS)):
        g = st[st["cluster"].map(text) == cl]
        rows, classes = [], []
        for r in g.itertuples():
            link = h("a", text(r.school_name), href=f"schools/{r.page}")
            if not r.submitted:
                rows.append(["—", link, Markup('<span class="muted">форма не представлена</span>'), "", "", "", "", ""])
                classes.append("no-data")
                continue
            total = zone_chip(r.total_score, p) if not r.small else h("span", small, class_="chip none")
            rows.append([
                fmt_int(r.rank_in_cluster), link, total, bar_cell(r.total_score if not r.small else None, p),
                text(r.level), fmt_pct(r.checklist_pct), small if r.small else fmt_num(r.activity_index),
                trend_chip(r.delta, thr) if not r.small else "—",
            ])
            classes.append("")
        n_sub = int(g["submitted"].sum())
        blocks.append(sub(f"Кластер «{cl}» — {n_sub} {plural(n_sub, 'школа', 'школы', 'школ')}", table(
            ["Место", "ОО", "Итог", "", "Уровень", "Само­оценка", "Индекс актив­ности", f"К {p.year - 1} г."],
            rows, num_cols=(0, 5, 6), cls="data ranking", row_classes=classes, nowrap=(2, 7),
            widths=("6%", "29%", "9%", "16%", "9%", "11%", "10%", "10%"))))
    return sub("Кластеры и рейтинг", para(
        f"ОО сравниваются внутри кластера: «СОШ>500» — СОШ, гимназии, лицеи и ЦО с числом обучающихся более "
        f"{p.cluster_threshold}, «СОШ≤500» — те же типы ОО до {p.cluster_threshold} обучающихся, «ООШ» — ООШ и НОШ. "
        f"Итог = {fmt_num(p.weights.checklist, 2)} × самооценка + {fmt_num(1 - p.weights.checklist, 2)} × индекс "
        f"активности. Отметка тренда ▲/▼ — изменение более чем на {fmt_num(thr, 0)} баллов к прошлому году."),
        *blocks, anchor="ranking")


def heatmap_html(ctx: ReportContext) -> Markup:
    from . import charts

    pos = position_matrix(ctx)
    if pos.empty:
        return sub("Карта дефицитов", para("Нет данных самооценки."), anchor="heatmap")
    st = school_table(ctx)
    uri, height = charts.heatmap_chart(pos, st, ctx.methodology)
    d = deficits(ctx)
    rows = [[r.position, r.short, r.criterion, r.n, r.zero, r.unconfirmed, fmt_pct(r.share_below, 0)]
            for r in d.sort_values(["share_below", "zero"], ascending=False).itertuples()]
    return sub("Карта дефицитов (ОО × позиции самооценки)",
               figure(uri, "Тепловая карта баллов ОО по позициям самооценки",
                      "Цвет — засчитанный балл позиции: зелёный — максимальный, жёлтый — частично, красный — 0. "
                      "Знак × — балл заявлен, но не подтверждён документом (засчитан 0).", width=charts.WIDTH_PX),
               table(["Позиция", "Содержание", "Критерий", "ОО", "С 0 баллов", "Не подтверждено", "Не на максимуме"],
                     rows, num_cols=(3, 4, 5, 6)), anchor="heatmap")


def criteria_html(ctx: ReportContext) -> Markup:
    from . import charts

    prof = cluster_profile(ctx)
    if prof.empty or prof.isna().all().all():
        return sub("Профиль по критериям", para("Нет данных по критериям."), anchor="criteria")
    uri = charts.criteria_chart(prof, ctx.methodology, ctx.params)
    rows = []
    for c in ctx.methodology.criteria:
        rows.append([c.code, c.name] + [zone_chip(prof.loc[c.code, col], ctx.params, fmt_pct(prof.loc[c.code, col]))
                                        for col in prof.columns])
    return sub("Профиль по критериям", para("Средний процент выполнения каждого критерия в кластере; цвет — зона."),
               figure(uri, "Средний процент выполнения критериев по кластерам", None, width=charts.WIDTH_PX),
               table(["Код", "Критерий", *prof.columns], rows, num_cols=tuple(range(2, 2 + len(prof.columns)))),
               anchor="criteria")


def targets_html(ctx: ReportContext) -> Markup:
    from . import charts

    p = ctx.params
    tm = municipal_targets(ctx)
    small = small_label(ctx.n_small)
    rows, classes = [], []
    for r in tm.itertuples():
        if r.kind == "count":
            how = f"{fmt_int(r.numerator)} из {fmt_int(r.denominator)} ОО"
        elif r.kind == "flag":
            how = f"{fmt_int(r.numerator)} из {fmt_int(r.denominator)} ОО"
        else:
            how = f"{fmt_int(r.numerator)} из {fmt_int(r.denominator)} педагогов" if not r.small else small
        value = small if r.small else fmt_pct(r.value)
        status = "н/д" if r.met is None or r.small else ("достигнут" if r.met else "не достигнут")
        rows.append([r.target, r.name, how, value, f"≥ {fmt_pct(r.target_value, 0)}",
                     h("span", status, class_="status " + ("met" if r.met and not r.small else "not-met" if r.met is False and not r.small else "na"))])
        classes.append("")
    blocks: list[Any] = [para("Значения муниципального уровня рассчитаны по суммарным данным ОО (сумма числителей / "
                              "сумма знаменателей), а не как среднее процентов.")]
    if not tm.empty:
        blocks.append(figure(charts.targets_chart(tm, ctx.params), "Значения муниципальных целевых показателей", None,
                             width=charts.WIDTH_PX))
        blocks.append(table(["Код", "Показатель", "Расчёт", "Значение", "Цель", "Итог"], rows, num_cols=(3, 4), nowrap=(5,)))
    # school matrix
    mat = target_school_matrix(ctx)
    if not mat.empty:
        st = school_table(ctx)
        codes = [t.code for t in ctx.methodology.targets if t.code in mat.columns]
        head = ["ОО", *codes, "Достигнуто"]
        mrows = []
        for r in st.itertuples():
            if r.school_code not in mat.index:
                continue
            cells: list[Any] = [h("a", text(r.school_name), href=f"schools/{r.page}")]
            met = total = 0
            for c in codes:
                s = text(mat.loc[r.school_code, c])
                cells.append(h("span", TARGET_STATUS_MARK.get(s, "?"), class_=f"tstat {s}", title=TARGET_STATUS_LABEL.get(s, s)))
                met += s == "met"
                total += s in ("met", "not_met")
            cells.append(f"{met} из {total}" if total else "—")
            mrows.append(cells)
        blocks.append(sub("Целевые показатели по ОО", para(
            "✓ — достигнут, ✗ — не достигнут, — — не применяется (например, нет молодых педагогов или ОО не относится "
            "к ШНОР), · — форма не представлена."),
            table(head, mrows, cls="data matrix", num_cols=(len(head) - 1,))))
    return sub("Целевые показатели", *blocks, anchor="targets")


def dynamics_html(ctx: ReportContext) -> Markup:
    from . import charts

    ht = history_table(ctx)
    with_data = ht[ht["note"] == ""]
    absent = ht[ht["note"] != ""]
    blocks: list[Any] = []
    if len(with_data) < 2:
        blocks.append(para("Динамика по годам появится, когда будут обработаны данные как минимум двух лет мониторинга."))
    else:
        blocks.append(figure(charts.dynamics_chart(with_data, ctx.params), "Динамика среднего итогового балла и уровней по годам",
                             None, width=charts.WIDTH_PX))
        tcodes = [t.code for t in ctx.methodology.targets if "municipal" in t.scope]
        head = ["Год", "Учебный год", "ОО (форм)", "Средний балл", "Высокий", "Средний", "Низкий", "Целевых достигнуто"]
        rows = []
        prev_mean = None
        for r in with_data.itertuples():
            delta = None if prev_mean is None else r.mean_total - prev_mean
            rows.append([str(r.year), r.academic_year, f"{r.submitted} из {r.schools}",
                         Markup(f"{fmt_num(r.mean_total)} ") + (trend_chip(delta, ctx.params.report.trend_threshold) if delta is not None else Markup("")),
                         r.высокий, r.средний, r.низкий, f"{r.targets_met} из {r.targets_total}"])
            prev_mean = r.mean_total
        blocks.append(table(head, rows, num_cols=(3, 4, 5, 6)))
        trows = []
        for c in tcodes:
            trows.append([c, short(ctx.methodology.target(c).name, 70)] + [fmt_pct(getattr(r, f"target_{c}", None)) if hasattr(r, f"target_{c}") else "—"
                                                                           for r in with_data.itertuples()])
        blocks.append(sub("Муниципальные целевые показатели по годам",
                          table(["Код", "Показатель", *[str(y) for y in with_data["year"]]], trows,
                                num_cols=tuple(range(2, 2 + len(with_data))))))
        crows = []
        for c in ctx.methodology.criteria:
            vals = [with_data[f"crit_{c.code}"].iloc[i] if f"crit_{c.code}" in with_data else None for i in range(len(with_data))]
            crows.append([c.code, short(c.name, 70)] + [zone_chip(v, ctx.params, fmt_pct(v)) for v in vals])
        blocks.append(sub("Средний процент выполнения критериев по годам",
                          table(["Код", "Критерий", *[str(y) for y in with_data["year"]]], crows,
                                num_cols=tuple(range(2, 2 + len(with_data))))))
    if len(absent):
        blocks.append(note("Не вошли в динамику: " + "; ".join(f"{r.year} год — {r.note}" for r in absent.itertuples()) + "."))
    return sub("Динамика", *blocks, anchor="dynamics")


def analysis_html(ctx: ReportContext) -> str:
    """5. Анализ — distribution, ranking, heat map, criteria, targets, dynamics."""
    return section("analysis", "5", "Анализ", distribution_html(ctx), ranking_html(ctx), heatmap_html(ctx),
                   criteria_html(ctx), targets_html(ctx), dynamics_html(ctx))


def recommendations_html(ctx: ReportContext) -> str:
    """6. Адресные рекомендации — the most frequent deficits and the per-school summary."""
    recs = ctx.data["recommendations.csv"]
    names = indicator_names(ctx.methodology)
    if recs.empty:
        return section("recommendations", "6", "Адресные рекомендации", para("Рекомендаций нет."))
    ct = pd.crosstab(recs["indicator_code"].map(text), recs["priority"].map(text))
    for pr in PRIORITIES:
        if pr not in ct:
            ct[pr] = 0
    ct["всего"] = ct[list(PRIORITIES)].sum(axis=1)
    order = {c: i for i, c in enumerate([p.code for p in ctx.methodology.positions] + [t.code for t in ctx.methodology.targets])}
    top = ct.reset_index().assign(_o=lambda d: d["indicator_code"].map(lambda c: order.get(c, 999)))
    top = top.sort_values(["всего", "_o"], ascending=[False, True]).head(10)
    rows = [[r["indicator_code"], names.get(r["indicator_code"], r["indicator_code"]), int(r["высокий"]), int(r["средний"]), int(r["всего"])]
            for _, r in top.iterrows()]
    st = school_table(ctx)
    high: dict[str, list[str]] = {}
    for c, pr, ind in zip(recs["school_code"].map(text), recs["priority"], recs["indicator_code"]):
        if pr == "высокий":
            high.setdefault(c, []).append(text(ind))
    srows = []
    for r in st[st["submitted"]].itertuples():
        hi = high.get(r.school_code, [])
        srows.append([h("a", text(r.school_name), href=f"schools/{r.page}"), r.rec_высокий, r.rec_средний,
                      ", ".join(hi[:8]) + (" …" if len(hi) > 8 else "") or "—"])
    return section(
        "recommendations", "6", "Адресные рекомендации",
        para(f"Каждая ОО получила адресные рекомендации по позициям и целевым показателям, по которым не достигнут "
             f"максимум: приоритет «высокий» — 0 баллов, балл не подтверждён документом или целевой показатель не "
             f"достигнут; «средний» — балл ниже максимального. Всего рекомендаций: {len(recs)} для "
             f"{recs['school_code'].nunique()} ОО. Тексты рекомендаций — на страницах школ."),
        sub("Наиболее частые дефициты", table(["Код", "Показатель", "Высокий", "Средний", "Всего ОО"], rows, num_cols=(2, 3, 4))),
        sub("Рекомендации по ОО", table(["ОО", "Высокий приоритет", "Средний приоритет", "Показатели высокого приоритета"],
                                         srows, num_cols=(1, 2))),
    )


def _school_list(codes: str, names: dict[str, str]) -> str:
    items = [c.strip() for c in text(codes).split(";") if c.strip()]
    if not items:
        return "—"
    return ", ".join(names.get(c, c) for c in items)


def _codes(v: Any) -> list[str]:
    return [c.strip() for c in text(v).split(";") if c.strip()]


def _school_links(codes: Sequence[str], names: dict[str, str]) -> Markup:
    return Markup(", ").join(h("a", names.get(c, c), href=f"schools/{school_page(c)}") for c in codes)


def _who_when(g: pd.DataFrame) -> tuple[Markup, bool]:
    """«Ответственные: …; срок: …» once for a group whose rows share them."""
    pairs = {(text(r), text(d)) for r, d in zip(g["responsible"], g["due"])}
    if len(pairs) == 1:
        r, d = pairs.pop()
        return h("p", [h("span", "Ответственные: ", class_="label"), r, h("span", "; срок: ", class_="label"), d]), True
    return Markup(""), False


def measures_html(ctx: ReportContext) -> str:
    """7. Меры — the municipal measures of decisions.csv: seminar topics with the schools that
    failed them, methodological visits, requests for forms, other municipal measures."""
    dec = ctx.data["decisions.csv"]
    names = _names(ctx)
    ind = indicator_names(ctx.methodology)
    thr = ctx.params.decisions.share_threshold
    lead = para(f"Темой муниципального семинара (заседания РМО) становится позиция или целевой показатель, не "
                f"выполненные не менее чем {fmt_num(thr, 0)} % ОО; каждая ОО с низким уровнем и каждая ШНОР без "
                f"методической поддержки получает методический выезд; у ОО без принятой формы форма запрашивается.")
    if dec.empty:
        return section("measures", "7", "Меры", lead, para("Мер муниципального уровня не потребовалось."))
    kinds = dec["kind"].map(text)
    blocks: list[Any] = []
    sem = dec[kinds == "seminar"].copy()
    if len(sem):
        if "share_failed" in sem:
            sem["_share"] = pd.to_numeric(sem["share_failed"], errors="coerce")
            sem = sem.sort_values("_share", ascending=False, kind="mergesort")
        who, same = _who_when(sem)
        rows = []
        for r in sem.to_dict("records"):
            code = text(r.get("indicator_code", ""))
            codes = _codes(r["schools"])
            n, of = num(r.get("n_schools")), num(r.get("n_concerned"))
            failed = (f"{fmt_int(n)} из {fmt_int(of)} ({fmt_pct(r.get('share_failed'), 0)})" if n is not None and of
                      else str(len(codes)))
            topic = Markup(f"<strong>{escape(code)}</strong> {escape(ind.get(code, ''))}") if code in ind else escape(text(r["topic"]))
            schools = h("details", [h("summary", f"{len(codes)} {plural(len(codes), 'ОО', 'ОО', 'ОО')}"),
                                    h("div", _school_links(codes, names), class_="school-links")]) if codes else "—"
            row = [topic, failed, schools]
            if not same:
                row += [text(r["responsible"]), text(r["due"])]
            rows.append(row)
        head = ["Тема семинара", "Не выполнили", "ОО"] + ([] if same else ["Ответственные", "Срок"])
        blocks.append(sub(f"{DECISION_KINDS['seminar']}: тем — {len(sem)}", who,
                          table(head, rows, num_cols=(1,), nowrap=(1,))))
    for kind in ("visit", "request"):
        g = dec[kinds == kind]
        if g.empty:
            continue
        who, same = _who_when(g)
        rows = []
        for r in g.to_dict("records"):
            codes = _codes(r["schools"])
            basis = text(r.get("basis", "")) or text(r["topic"])
            row = [_school_links(codes, names) if codes else "—", basis]
            if not same:
                row += [text(r["responsible"]), text(r["due"])]
            rows.append(row)
        head = ["ОО", "Основание"] + ([] if same else ["Ответственные", "Срок"])
        blocks.append(sub(f"{DECISION_KINDS[kind]} — {len(g)}", who, table(head, rows)))
    other = dec[~kinds.isin(["seminar", "visit", "request"])]
    if len(other):
        rows = [[DECISION_KINDS.get(text(r.kind), text(r.kind)), text(r.topic), text(r.responsible), text(r.due)]
                for r in other.itertuples()]
        blocks.append(sub("Другие меры муниципального уровня", table(["Вид", "Мера", "Ответственные", "Срок"], rows)))
    return section("measures", "7", "Меры", lead, *blocks)


def decisions_html(ctx: ReportContext) -> str:
    """8. Управленческие решения — the draft decisions of the order."""
    p = ctx.params
    dec = ctx.data["decisions.csv"]
    names = _names(ctx)
    items = [f"Принять к сведению результаты мониторинга эффективности деятельности школьных методических служб "
             f"за {p.academic_year} учебный год."]
    kinds = dec["kind"].map(text) if not dec.empty else pd.Series(dtype="object")
    sem = dec[kinds == "seminar"]
    if len(sem):
        ind = indicator_names(ctx.methodology)
        topics = Markup("").join(
            h("li", f"{text(r.get('indicator_code', ''))} «{ind[text(r.get('indicator_code', ''))]}»"
                    if text(r.get("indicator_code", "")) in ind else text(r["topic"]))
            for r in sem.to_dict("records"))
        items.append(Markup(escape(f"Провести муниципальные семинары (заседания РМО) по темам ({len(sem)}); ответственные: "
                                   f"{text(sem['responsible'].iloc[0])}; срок: {text(sem['due'].iloc[0])}:"))
                     + h("ul", topics, class_="cols topics"))
    vis = dec[kinds == "visit"]
    if len(vis):
        items.append(f"Организовать методические выезды в ОО: {_school_list(';'.join(vis['schools'].map(text)), names)}. "
                     f"Ответственные: {text(vis['responsible'].iloc[0])}; срок: {text(vis['due'].iloc[0])}.")
    req = dec[kinds == "request"]
    if len(req):
        items.append(f"Получить формы мониторинга от ОО, не представивших их: {_school_list(';'.join(req['schools'].map(text)), names)}.")
    mea = dec[kinds == "measure"]
    for r in mea.itertuples():
        items.append(f"{text(r.topic)} Ответственные: {text(r.responsible)}; срок: {text(r.due)}.")
    items.append("Руководителям ОО рассмотреть адресные рекомендации на заседаниях методических советов и внести "
                 f"изменения в планы методической работы на {p.year}-{p.year + 1} учебный год.")
    items.append(f"Провести повторный мониторинг по итогам {p.year}-{p.year + 1} учебного года и оценить "
                 "эффективность принятых мер.")
    return section("decisions", "8", "Управленческие решения",
                   para("Предлагаемые управленческие решения по итогам мониторинга:"),
                   h("ol", Markup("").join(h("li", i) for i in items), class_="decisions"))


def effectiveness_html(ctx: ReportContext) -> str:
    """9. Анализ эффективности принятых мер — the follow-up of last year's recommendations."""
    from . import charts

    p = ctx.params
    fu = ctx.data["followup.csv"]
    if p.previous_params is None:
        return section("effectiveness", "9", "Анализ эффективности принятых мер", para(
            f"{p.year} год — первый год мониторинга: рекомендаций прошлого года нет. Анализ эффективности мер, "
            f"принятых по итогам этой справки, будет выполнен при мониторинге {p.year + 1} года."))
    if ctx.previous is None or fu.empty:
        why = ("обработанные данные прошлого года не найдены" if ctx.previous is None
               else "в прошлом году рекомендаций не было")
        return section("effectiveness", "9", "Анализ эффективности принятых мер",
                       para(f"Анализ эффективности мер не выполнен: {why}."))
    summ = followup_summary(ctx)
    total = summ.iloc[-1]
    lead = (f"Рекомендации {p.year - 1} года ({int(total['n'])}) сопоставлены с результатами {p.year} года: "
            f"устранено — {fmt_pct(total['устранён'])}, улучшение — {fmt_pct(total['улучшение'])}, без изменений — "
            f"{fmt_pct(total['без изменений'])}, ухудшение — {fmt_pct(total['ухудшение'])}, нет данных — "
            f"{fmt_pct(total['нет данных'])}.")
    rows = []
    for r in summ.to_dict("records"):
        rows.append([r["indicator_code"], r["name"], r["n"]] + [fmt_pct(r[s], 0) for s in FOLLOWUP_STATUSES])
    classes = [""] * (len(rows) - 1) + ["total"]
    return section(
        "effectiveness", "9", "Анализ эффективности принятых мер", para(lead),
        figure(charts.followup_chart(summ), "Что стало с рекомендациями прошлого года", None, width=charts.WIDTH_PX),
        table(["Код", "Показатель", "Рекомендаций", *[s.capitalize() for s in FOLLOWUP_STATUSES]], rows,
              num_cols=tuple(range(2, 3 + len(FOLLOWUP_STATUSES))), row_classes=classes),
    )


def schools_html(ctx: ReportContext) -> str:
    """The list of school pages."""
    st = _shared(ctx, school_table).sort_values("school_code")
    chips: dict[tuple[str, str], Markup] = {}  # a chip is one of a few: made once each
    items = []
    for code, name, page, zone, level, submitted, small in zip(
            _texts(st["school_code"]), _texts(st["school_name"]), _texts(st["page"]),
            _each_number(st["total_score"], lambda v: zone_of(v, ctx.params)), _texts(st["level"]),
            _values(st["submitted"]), _values(st["small"])):
        key = (zone, level) if submitted and not small else ("", "нет данных" if not submitted else level)
        chip = chips.get(key)
        if chip is None:
            chip = chips[key] = (h("span", level, class_=f"chip {ZONE_CLASS[zone]}", title=f"{zone} зона") if key[0]
                                 else h("span", key[1], class_="chip none"))
        # h("li", [h("a", …, href=…), " ", chip]), written out
        items.append(f'<li><a href="{escape("schools/" + page)}">{escape(f"{code} — {name}")}</a> {chip}</li>')
    return section("schools", "", "Страницы школ", para(
        "Для каждой ОО — итоговый балл, место в кластере, профиль по критериям, динамика, адресные рекомендации "
        "и подтверждающие документы."), h("ul", Markup("".join(items)), class_="school-list"))


def appendix_html(ctx: ReportContext) -> str:
    """Приложение: positions, criteria, formulas and the methodology's warnings."""
    m, p = ctx.methodology, ctx.params
    prow = [[x.code, x.text, x.criterion, "/".join(str(s) for s in sorted(x.scale, reverse=True)),
             "да" if x.evidence_required else "нет"] for x in m.positions]
    formulas = [
        f"Процент самооценки = сумма засчитанных баллов / {m.max_points} × 100. Балл 1 или 2 без подтверждающего "
        "документа засчитывается как 0 («не подтверждено»).",
        "Доли педагогов: S1…S6 — в % от числа педагогов (P0); S7 — доля молодых педагогов, охваченных наставничеством "
        "(P8 / P7), не применяется при отсутствии молодых педагогов.",
        "Индекс активности: доли, входящие в индекс, приводятся к шкале 0–1 внутри кластера ((x − min) / (max − min); "
        "при max = min — 1, если max > 0, иначе 0); индекс = среднее × 100.",
        f"Итоговый балл = {fmt_num(p.weights.checklist, 2)} × процент самооценки + "
        f"{fmt_num(1 - p.weights.checklist, 2)} × индекс активности.",
        "Место в кластере — по итоговому баллу по убыванию; при равенстве баллов ОО делят место (1, 2, 2, 4).",
        f"Уровни и зоны: высокий (зелёная) ≥ {fmt_num(p.levels.high, 0)}, средний (жёлтая) ≥ "
        f"{fmt_num(p.levels.medium, 0)}, низкий (красная, зона риска) < {fmt_num(p.levels.medium, 0)}; "
        "зоны критериев — по тем же порогам от процента выполнения критерия.",
        f"Тренд: ▲ / ▼ — изменение более чем на {fmt_num(p.report.trend_threshold, 0)} баллов к прошлому году, "
        "→ — без существенных изменений.",
        "Муниципальные значения целевых показателей — отношение сумм по ОО (а не среднее процентов).",
        f"Показатели, рассчитанные по группе менее {ctx.n_small} человек, не публикуются («{small_label(ctx.n_small)}»). "
        "Персональные данные (ответственные лица ОО) не публикуются.",
    ]
    warn = [h("div", [h("strong", "Замечание к методике: "), w], class_="callout warning") for w in m.warnings]
    return section(
        "appendix", "", "Приложение: методика расчёта",
        para(f"Методика: {m.name} (версия {m.version})."), *warn,
        sub("Формулы", h("ol", Markup("").join(h("li", f) for f in formulas))),
        sub("Позиции самооценки", table(["Код", "Позиция оценивания", "Критерий", "Шкала", "Документ обязателен"], prow)),
    )


def footer_html(ctx: ReportContext) -> str:
    hd = ctx.params.header
    return str(h("footer", [h("div", [h("span", "Исполнители: ", class_="label"), "; ".join(hd.executors)]),
                            h("div", f"{hd.organization} · {hd.order_number} от {hd.order_date:%d.%m.%Y}")],
                 class_="doc-footer"))


SECTIONS = ("header_html", "cycle_html", "summary_html", "goals_html", "indicators_html", "methods_html",
            "monitoring_html", "analysis_html", "recommendations_html", "measures_html", "decisions_html",
            "effectiveness_html", "schools_html", "appendix_html", "footer_html")


def all_sections(ctx: ReportContext) -> list[str]:
    """Every section of the report, in order (what the notebook displays cell by cell)."""
    out = [header_html(ctx.params)]
    for name in SECTIONS[1:]:
        out.append(globals()[name](ctx))
    return out


# ============================================================================ school view

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


class _ByNumber(dict):
    """fn(v) computed once per distinct number num(v), for the formatters that read their
    argument only through num() (fmt_*, zone_of, trend_chip). −0.0 (equal to 0.0 as a key,
    but formatted «−0,0») is never cached."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, key):
        value = self[key] = self.fn(key)
        return value

    def __call__(self, v: Any) -> Any:
        f = num(v)
        if f == 0 and math.copysign(1.0, f) < 0:
            return self.fn(f)
        return self[f]


def _values(column: pd.Series) -> Any:
    """A column's values as Python objects, fast to iterate (a text column is a pandas array
    that boxes every value through __getitem__ when iterated)."""
    return column.to_numpy(dtype=object)


def _texts(column: pd.Series) -> Any:
    """text() of every value of a column."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.fillna("").to_numpy(dtype=object)
    out = np.empty(len(column), dtype=object)
    out[:] = [text(v) for v in column.to_numpy(dtype=object)]
    return out


def _each_number(column: pd.Series, fn) -> Any:
    """fn(v) of every value of a column, for a formatter fn that reads v only through num():
    computed once per distinct number (a numeric column is factorised, not walked)."""
    values = column.to_numpy()
    if values.dtype.kind in "biuf":
        floats = values.astype("float64")
        if not ((floats == 0) & np.signbit(floats)).any():  # −0.0 would share 0.0's text
            codes, uniques = pd.factorize(floats)  # NaN: −1, the last entry
            table = np.empty(len(uniques) + 1, dtype=object)
            for i, u in enumerate(uniques):
                table[i] = fn(float(u))
            table[-1] = fn(None)
            return table[codes]
    memo = _ByNumber(fn)
    return [memo(v) for v in column.to_numpy(dtype=object)]


def _signed(v: Any) -> str:
    """+2,5 / −1,0 / 0,0: a change against the previous year; '' for empty."""
    f = num(v)
    return "" if f is None else ("+" if f > 0 else "") + fmt_num(f)


def _in_order(codes: np.ndarray, keys: np.ndarray, order: dict[str, int]) -> tuple[np.ndarray, dict[str, tuple]]:
    """The first row of each school and key (codes and keys as text; keys outside order left
    out), as row positions grouped by school and sorted by order[key] within a school — what
    _first_by and a loop over the methodology's codes gave per school — and each school's
    (start, end) among them."""
    ids, uniques = pd.factorize(codes)
    rank = pd.Series(keys, dtype=object).map(order).to_numpy(dtype="float64")
    rows = np.flatnonzero(~np.isnan(rank))
    ids, rank = ids[rows], rank[rows].astype(np.int64)
    first = ~pd.Series(ids * max(len(order), 1) + rank).duplicated().to_numpy()
    rows, ids, rank = rows[first], ids[first], rank[first]
    by = np.lexsort((rank, ids))
    rows, ids = rows[by], ids[by]
    if not len(rows):
        return rows, {}
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    return rows, {uniques[ids[a]]: (a, b) for a, b in zip(starts.tolist(), ends.tolist())}


def _split(rows: list, spans: dict[str, tuple]) -> dict[str, tuple]:
    """code → its rows, from rows grouped by school and each school's (start, end)."""
    return {code: tuple(rows[a:b]) for code, (a, b) in spans.items()}


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


# ============================================================================ redaction


def personal_names(ctx: ReportContext) -> list[str]:
    """Names from the forms that must never appear on a published page."""
    names: set[str] = set()
    for hy in ctx.history:
        if hy.data is None:
            continue
        prof = hy.data["profile.csv"]
        for f in PERSONAL_FIELDS:
            if f in prof.columns:
                names.update(v.strip() for v in prof[f].map(text) if len(v.strip()) >= 4)
    return sorted(names, key=len, reverse=True)


REDACTED = "[скрыто]"
_TRIE_MAX = 200  # longer names (never real ones) are replaced one by one


def _trie_regex(words: Iterable[str]) -> str:
    """One regular expression matching any of the words, longest first, as a trie: the
    engine follows one branch per character instead of trying every word at every place."""
    trie: dict[str, dict] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@functools.lru_cache(maxsize=4)
def _name_matcher(names: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    forms = {f for n in names for f in (n, str(escape(n))) if f}
    short = sorted(f for f in forms if len(f) <= _TRIE_MAX)
    long = tuple(sorted((f for f in forms if len(f) > _TRIE_MAX), key=len, reverse=True))
    return (re.compile(_trie_regex(short)) if short else None), long


def redact(html: str, names: Iterable[str]) -> str:
    """Replace every occurrence of a personal name (raw or HTML-escaped) with «[скрыто]»
    (where names overlap, the longest at the leftmost place)."""
    pattern, long = _name_matcher(tuple(names))
    for form in long:
        html = html.replace(form, REDACTED)
    return pattern.sub(REDACTED, html) if pattern is not None else html


# ============================================================================ export


def export_html(executed_notebook: Path, out_html: Path, params: YearParams) -> Path:
    """Convert the executed 05_report notebook into the published index.html.

    No input cells, no prompts, no stream or error output, no cell tagged `audit`; the body
    goes into the site's page template with inline CSS; nothing is loaded from outside and the
    output is deterministic (no cell ids, no random ids). Personal names from the forms are
    redacted as a last line of defence. Written atomically.
    """
    import copy

    import nbformat

    from . import site
    from .notebooks import html_exporter
    from .storage import write_bytes_atomic

    nb = nbformat.read(str(executed_notebook), as_version=4)
    nb = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"audit", "parameters", "injected-parameters", "remove"}:
            continue
        cell["id"] = f"c{i}"
        cell["metadata"] = {}
        if cell.cell_type == "code":
            cell["execution_count"] = None
            outs = []
            for o in cell.get("outputs", []):
                if o.get("output_type") not in ("display_data", "execute_result"):
                    continue
                data = {k: v for k, v in o.get("data", {}).items() if k in ("text/html", "image/png", "text/markdown")}
                if not data:
                    continue
                outs.append(nbformat.v4.new_output("display_data", data=data))
            if not outs:
                continue
            cell["outputs"] = outs
        elif cell.cell_type != "markdown":
            continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {}), "language_info": {"name": "python"}}
    exporter = html_exporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, anchor_link_text="")
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r'\s*id="cell-id=[^"]*"', "", body)
    body = re.sub(r"\n\s*\n+", "\n", body)
    try:
        ctx: ReportContext | None = build_context(params)
    except Exception:  # noqa: BLE001 - the notebook ran, so this only fails without data: nothing to add
        ctx = None
    html = site.render_report_page(body, params, summary=summary_line(ctx) if ctx else "")
    html = redact(html, personal_names(ctx) if ctx else [])
    out_html = Path(out_html)
    write_bytes_atomic(out_html, html.encode("utf-8"))
    return out_html
