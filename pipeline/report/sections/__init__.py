"""The analytic report, section by section: each section a pure function of the year's context
returning HTML, listed in SECTIONS in the order of the page. The published page
(pages.report_page) and the report notebook take the sections from here.

    front.py       header, management cycle, main findings, 1–3
    monitoring.py  4. participation and data quality
    analysis.py    5. distribution, ranking, heat map, criteria, targets, dynamics
    actions.py     6–9. recommendations, measures, decisions, effectiveness
    appendix.py    documents, school pages, methodology appendix, footer
    per_school.py  the site at scale: the tables with a row per school on the pages of the
                   clusters (CLUSTER_PARTS) instead of the analytic page
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..context import ReportContext
from .actions import decisions_html, effectiveness_html, measures_html, recommendations_html
from .actions import measures_table, recommendations_table
from .analysis import HEATMAP_HEAD, analysis_html, dynamics_html, heatmap, heatmap_rows, ranking_table, targets_table
from .appendix import appendix_html, documents_html, footer_html, school_list_html, schools_html
from ..html import para, table
from ..tables import target_school_matrix
from .front import CYCLE, cycle_html, goals_html, header_html, indicators_html, methods_html, summary_html, summary_line
from .monitoring import monitoring_html

__all__ = ["CYCLE", "SECTIONS", "CLUSTER_PARTS", "ClusterPart", "Section", "all_sections", "summary_line", "header_html", "cycle_html", "summary_html",
           "goals_html", "indicators_html", "methods_html", "monitoring_html", "analysis_html", "dynamics_html", "recommendations_html",
           "measures_html", "decisions_html", "effectiveness_html", "documents_html", "schools_html", "appendix_html", "footer_html"]


@dataclass(frozen=True)
class Section:
    """One section of the analytic report, in the order of the page."""

    name: str
    what: str                                   # what it shows (the report notebook's comment)
    render: Callable[[ReportContext], str]

    def html(self, ctx: ReportContext) -> str:
        """The section of this context, rendered once (the notebook, the page and the Word
        справка all show it; a section is a pure function of the context)."""
        done = ctx.cache.setdefault("sections_html", {})
        if self.name not in done:
            done[self.name] = self.render(ctx)
        return done[self.name]


# The report, section by section: the published page and the report notebook are made
# from this list (add a section here: see ARCHITECTURE.md).
SECTIONS: tuple[Section, ...] = (
    Section("header", "шапка: орган управления, утверждение, название, номер и дата приказа, исполнители",
            lambda ctx: header_html(ctx.params)),
    Section("cycle", "управленческий цикл и содержание", cycle_html),
    Section("summary", "основные итоги", summary_html),
    Section("goals", "1. Цели", goals_html),
    Section("indicators", "2. Показатели", indicators_html),
    Section("methods", "3. Методы сбора информации", methods_html),
    Section("monitoring", "4. Мониторинг: участие ОО и качество данных", monitoring_html),
    Section("analysis", "5. Анализ: распределение, рейтинг, карта дефицитов, критерии, целевые показатели, динамика",
            analysis_html),
    Section("recommendations", "6. Адресные рекомендации", recommendations_html),
    Section("measures", "7. Меры", measures_html),
    Section("decisions", "8. Управленческие решения", decisions_html),
    Section("effectiveness", "9. Анализ эффективности принятых мер", effectiveness_html),
    Section("documents", "документы: подписанные (номер и дата) и проекты, страница документов года", documents_html),
    Section("schools", "страницы школ", schools_html),
    Section("appendix", "приложение: методика расчёта", appendix_html),
    Section("footer", "исполнители", footer_html),
)


def all_sections(ctx: ReportContext) -> list[str]:
    """Every section of the report, in order."""
    return [section_.html(ctx) for section_ in SECTIONS]


@dataclass(frozen=True)
class ClusterPart:
    """One table with a row per school, on the pages of the clusters (per_school.split): the
    analytic page's section `name` keeps its summary and links here."""

    name: str
    title: str
    shown: Callable[[ReportContext], bool]
    render: Callable[[ReportContext, Any, str], Any]   # (ctx, rows of published_school_table, prefix of school pages)


def _heatmap_table(ctx: ReportContext, st: Any, prefix: str) -> Any:
    rows = heatmap_rows(ctx, st["school_code"], prefix)
    if not rows:
        return para("Нет данных самооценки этих ОО.")
    return table([*HEATMAP_HEAD, *heatmap(ctx).positions], rows, cls="data matrix",
                 caption="Засчитанные баллы ОО по позициям самооценки: ● — максимальный, ◐ — частично, ○ — 0, "
                         "× — не подтверждён документом, — — нет данных")


# The pages of the clusters, part by part, in the order of the analytic page's sections.
CLUSTER_PARTS: tuple[ClusterPart, ...] = (
    ClusterPart("ranking", "Рейтинг", lambda ctx: ctx.methodology.has_total, ranking_table),
    ClusterPart("heatmap", "Карта дефицитов: баллы по позициям самооценки", lambda ctx: ctx.methodology.has_checklist,
                _heatmap_table),
    ClusterPart("targets", "Целевые показатели по ОО", lambda ctx: not target_school_matrix(ctx).empty, targets_table),
    ClusterPart("recommendations", "Адресные рекомендации по ОО", lambda ctx: True, recommendations_table),
    ClusterPart("measures", "Меры муниципального уровня по ОО", lambda ctx: True, measures_table),
    ClusterPart("schools", "Страницы школ", lambda ctx: True, school_list_html),
)
