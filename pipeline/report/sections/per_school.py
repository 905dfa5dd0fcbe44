"""The site at scale: from report.cluster_pages_from registry schools on, the tables with a row
per school leave the analytic page for the pages of the clusters (clusters/<n>-<k>.html, at
most report.cluster_page_rows schools each, linked from clusters/index.html), so that no page
grows with the municipality. The parts of a cluster's page are listed in
sections.CLUSTER_PARTS; the pages themselves are written by pages.write_cluster_pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import Markup

from ...core.contract import LEVELS
from ...core.russian import fmt_int, fmt_num, plural
from ...core.values import text
from ..context import ReportContext
from ..html import _captioned, h, para, table
from ..tables import _shared, cluster_order, published_school_table

FOLDER = "clusters"
INDEX = "index.html"
NO_CLUSTER = "без кластера"


def split(ctx: ReportContext) -> bool:
    """Whether the year's per-school tables are on the pages of the clusters."""
    return len(ctx.data["scores.csv"]) >= ctx.params.report.cluster_pages_from


@dataclass(frozen=True)
class ClusterPage:
    """One page of a cluster's schools: the number-th cluster, part `part` of `parts`, the
    schools first..last of the cluster (1-based)."""

    cluster: str
    number: int
    part: int
    parts: int
    first: int
    last: int
    codes: tuple[str, ...]

    @property
    def file(self) -> str:
        """Its file name in clusters/ (numbers only: a cluster's label never names a file)."""
        return f"{self.number}-{self.part}.html"

    @property
    def title(self) -> str:
        rows = f", ОО {self.first}–{self.last}" if self.parts > 1 else ""
        return f"Кластер «{self.cluster}»{rows}"


def cluster_of(value: Any) -> str:
    return text(value) or NO_CLUSTER


def cluster_pages(ctx: ReportContext) -> list[ClusterPage]:
    """Every registry school on exactly one page: the clusters in the report's order (a school
    without one last), each in the ranking's order, cut every cluster_page_rows schools."""
    if "cluster_pages" not in ctx.cache:
        st = _shared(ctx, published_school_table)
        by: dict[str, list[str]] = {}
        for code, cl in zip(st["school_code"].map(text), st["cluster"]):
            by.setdefault(cluster_of(cl), []).append(code)
        order = [c for c in cluster_order(ctx) if c in by] + sorted(set(by) - set(cluster_order(ctx)) - {NO_CLUSTER})
        order += [NO_CLUSTER] if NO_CLUSTER in by else []
        size = ctx.params.report.cluster_page_rows
        out = []
        for number, cl in enumerate(order, start=1):
            codes = by[cl]
            parts = -(-len(codes) // size)
            for k in range(parts):
                chunk = codes[k * size:(k + 1) * size]
                out.append(ClusterPage(cl, number, k + 1, parts, k * size + 1, k * size + len(chunk), tuple(chunk)))
        ctx.cache["cluster_pages"] = out
    return list(ctx.cache["cluster_pages"])


def page_of_school(ctx: ReportContext) -> dict[str, str]:
    """school code → its cluster page, as seen from the year's folder (clusters/<n>-<k>.html)."""
    if "cluster_page_of" not in ctx.cache:
        ctx.cache["cluster_page_of"] = {c: f"{FOLDER}/{p.file}" for p in cluster_pages(ctx) for c in p.codes}
    return ctx.cache["cluster_page_of"]


def cluster_link(ctx: ReportContext, what: str) -> Markup:
    """«<what>: по кластерам» — a paragraph linking the index of the clusters' pages."""
    n = len(ctx.data["scores.csv"])
    return para(h("a", what, href=f"{FOLDER}/{INDEX}"),
                f"(в справке {fmt_int(n)} ОО — таблицы по каждой ОО вынесены на отдельные страницы).", cls="note")


def _rows(ctx: ReportContext, page: ClusterPage) -> pd.DataFrame:
    st = _shared(ctx, published_school_table)
    if "published_row_of" not in ctx.cache:
        ctx.cache["published_row_of"] = {c: i for i, c in enumerate(st["school_code"].map(text))}
    at = ctx.cache["published_row_of"]
    return st.iloc[[at[c] for c in page.codes]]


def cluster_summary(ctx: ReportContext, what: str) -> list[Markup]:
    """For the analytic page: where the per-school tables are (`what` and others), and the
    clusters' table (cluster_table)."""
    n = len(ctx.data["scores.csv"])
    return [para(f"В справке {fmt_int(n)} {plural(n, 'ОО', 'ОО', 'ОО')}: {what} и другие таблицы по каждой ОО — на "
                 "страницах кластеров ", h("a", "(все кластеры)", href=f"{FOLDER}/{INDEX}"), "."),
            cluster_table(ctx, f"{FOLDER}/")]


def cluster_table(ctx: ReportContext, base: str) -> Markup:
    """The clusters in one table: schools, forms, mean total and levels of the schools shown,
    and links to the pages of each cluster (base: the clusters' folder as seen from the page)."""
    if "cluster_figures" not in ctx.cache:
        st = _shared(ctx, published_school_table)
        clusters = st["cluster"].map(cluster_of)
        levels = st["level"].map(text)
        submitted = st["submitted"].astype(bool)
        shown = submitted & ~st["small"].astype(bool)
        figures = {}
        for cl in dict.fromkeys(p.cluster for p in cluster_pages(ctx)):
            mine = clusters == cl
            g = mine & shown
            figures[cl] = [cl, fmt_int(int(mine.sum())), fmt_int(int((mine & submitted).sum())),
                           fmt_num(pd.to_numeric(st.loc[g, "total_score"], errors="coerce").mean()) if g.any() else "—",
                           *[fmt_int(int((levels[g] == lv).sum())) for lv in LEVELS]]
        ctx.cache["cluster_figures"] = figures
    pages: dict[str, list[ClusterPage]] = {}
    for p in cluster_pages(ctx):
        pages.setdefault(p.cluster, []).append(p)
    rows = []
    for cl, ps in pages.items():
        links = Markup(", ").join(h("a", f"ОО {p.first}–{p.last}" if p.parts > 1 else "все ОО", href=f"{base}{p.file}")
                                  for p in ps)
        rows.append([*ctx.cache["cluster_figures"][cl], links])
    head = ["Кластер", "ОО", "Форм", "Средний балл", *[lv.capitalize() for lv in LEVELS], "Страницы"]
    return table(head, rows, num_cols=tuple(range(1, 4 + len(LEVELS))), caption="Кластеры: число ОО, средний балл и уровни")


def cluster_page_body(ctx: ReportContext, page: ClusterPage, parts: Any) -> Markup:
    """The parts of one cluster page (sections.CLUSTER_PARTS, passed in: this module is below
    the sections' list, which imports it), for these schools."""
    st = _rows(ctx, page)
    out = []
    for part in parts:
        if not part.shown(ctx):
            continue
        content = part.render(ctx, st, "../schools/")
        out.append(h("section", h("h2", part.title) + _captioned(content, f"{part.title}: {page.title}"),
                     id=part.name, class_="report-section"))
    return Markup("").join(out)


def cluster_pager(ctx: ReportContext, page: ClusterPage) -> Markup:
    """Links to the other pages of the same cluster and to the index of the clusters."""
    same = [p for p in cluster_pages(ctx) if p.cluster == page.cluster]
    items = [h("li", h("a", "Все кластеры", href=INDEX))]
    if len(same) > 1:
        items += [h("li", h("span", f"ОО {p.first}–{p.last}", aria_current="page") if p == page
                       else h("a", f"ОО {p.first}–{p.last}", href=p.file)) for p in same]
    return h("nav", h("ul", Markup("").join(items), class_="pager"), aria_label="Страницы кластера")
