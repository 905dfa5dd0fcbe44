"""The charts the stage notebooks show an auditor, drawn with the report's style and colours
(pipeline/report/charts.py): one place for every chart of the pipeline. Each returns the
matplotlib figure; the notebook shows it."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..core.contract import COLLECTION_STATES, FOLLOWUP_STATUSES, LEVELS, PRIORITIES
from ..core.russian import short
from ..core.rules import ERROR
from .charts import (FOLLOWUP_COLOURS, FOLLOWUP_HATCH, GREEN, INK, LEVEL_COLOURS, LEVEL_HATCH, MUTED, OUTLINE, RED, YELLOW,
                     _style, shown_statuses)

# colour never alone (WCAG 1.4.1): the second of two colours is hatched as well
WARN_HATCH = "///"

FILE_STATUS_COLOURS = {"реестр школ": MUTED, COLLECTION_STATES["accepted"]: GREEN, COLLECTION_STATES["rejected"]: RED,
                       COLLECTION_STATES["superseded"]: YELLOW}


def _nothing(title: str, text: str) -> plt.Figure:
    """A chart with nothing to draw (a year with no accepted form): the title and why, instead
    of an empty plot that matplotlib cannot lay out."""
    with _style():
        fig, ax = plt.subplots(figsize=(8, 1.6))
        ax.set_axis_off()
        ax.set_title(title)
        ax.text(0.5, 0.4, text, ha="center", va="center", color=MUTED, transform=ax.transAxes)
    return fig


def file_status_chart(status_table: pd.DataFrame, year: int) -> plt.Figure:
    """Ingest: the raw folder's files by status (ingest.summary)."""
    with _style():
        fig, ax = plt.subplots(figsize=(7, 2.8))
        d = status_table.iloc[::-1]
        ax.barh(d["статус"], d["файлов"], color=[FILE_STATUS_COLOURS.get(s, MUTED) for s in d["статус"]])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Число файлов")
        ax.set_title(f"Файлы папки года {year} по статусам")
        fig.tight_layout()
    return fig


def issues_chart(by_rule: pd.DataFrame, academic_year: str) -> plt.Figure | None:
    """Clean: issues by rule, errors red and warnings yellow (clean.summary); None when none."""
    if not len(by_rule):
        return None
    with _style():
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(by_rule) + 1.2))
        d = by_rule.iloc[::-1]
        ax.barh(d["что проверяется"], d["замечаний"], color=[RED if s == ERROR else YELLOW for s in d["важность"]],
                hatch=["" if s == ERROR else WARN_HATCH for s in d["важность"]], edgecolor="white")
        ax.set_xlabel("Число замечаний")
        ax.set_title(f"Замечания к данным форм по правилам, {academic_year} учебный год")
        ax.legend([Patch(facecolor=RED, edgecolor="white"), Patch(facecolor=YELLOW, edgecolor="white", hatch=WARN_HATCH)],
                  ["ошибка: значение не используется", "предупреждение"],
                  loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
        fig.tight_layout()
    return fig


def total_chart(scores: pd.DataFrame, params: Any) -> plt.Figure:
    """Score: the distribution of total scores against the level thresholds."""
    scored = scores[scores["total_score"].notna()]
    if not len(scored):
        return _nothing(f"Распределение итогового балла, {params.academic_year} учебный год",
                        "Нет школ с итоговым баллом: ни одна форма не принята.")
    with _style():
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.hist(scored["total_score"], bins=range(0, 105, 5), color=INK, edgecolor="white")
        ax.axvline(params.levels.medium, color=YELLOW, linestyle="--", label=f"средний уровень ≥ {params.levels.medium:g}")
        ax.axvline(params.levels.high, color=GREEN, linestyle=":", lw=2, label=f"высокий уровень ≥ {params.levels.high:g}")
        ax.set_xlim(0, 100)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Итоговый балл")
        ax.set_ylabel("Число школ")
        ax.set_title(f"Распределение итогового балла, {params.academic_year} учебный год")
        ax.legend()
        fig.tight_layout()
    return fig


def cluster_levels_chart(summary: pd.DataFrame) -> plt.Figure:
    """Score: the number of schools of each level per cluster (score.cluster_summary)."""
    if not len(summary) or not summary[list(LEVELS)].to_numpy().sum():
        return _nothing("Уровни по кластерам", "Нет школ с итоговым баллом: ни одна форма не принята.")
    with _style():
        fig, ax = plt.subplots(figsize=(8, 3.5))
        summary[list(LEVELS)].plot.barh(stacked=True, ax=ax, color=[LEVEL_COLOURS[lv] for lv in LEVELS], edgecolor="white")
        for bars, lv in zip(ax.containers, LEVELS):
            for bar in bars:
                bar.set_hatch(LEVEL_HATCH[lv])
        ax.set_xlabel("Число школ")
        ax.set_ylabel("Кластер")
        ax.set_title("Уровни по кластерам")
        ax.legend(title="Уровень")
        fig.tight_layout()
    return fig


def municipal_targets_stage_chart(municipal: pd.DataFrame) -> plt.Figure:
    """Score: each municipal target's value against its goal."""
    if not len(municipal):
        return _nothing("Муниципальные целевые показатели: значение и цель", "Целевых показателей нет.")
    with _style():
        fig, ax = plt.subplots(figsize=(8, 4))
        m = municipal.iloc[::-1]
        colours = [GREEN if v is True else RED for v in m["met"].astype(object)]
        ax.barh(m["target"], m["value"].fillna(0), color=colours, edgecolor="white",
                hatch=["" if v is True else "xxx" for v in m["met"].astype(object)])
        mark = ax.scatter(m["target_value"], m["target"], color=INK, marker="|", s=300)
        ax.set_xlim(0, 105)
        ax.set_xlabel("%: доли — отношение сумм по школам; да/нет и счётчики — доля школ")
        ax.set_title("Муниципальные целевые показатели: значение и цель")
        ax.legend([Patch(facecolor=GREEN, edgecolor="white"), Patch(facecolor=RED, edgecolor="white", hatch="xxx"), mark],
                  ["достигнут", "не достигнут", "целевое значение"],
                  loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
        fig.tight_layout()
    return fig


def deficits_chart(deficits: pd.DataFrame) -> plt.Figure:
    """Recommendations: schools with a recommendation per indicator, by priority."""
    with _style():
        fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(deficits), 2) + 1.2))
        d = deficits.iloc[::-1]
        labels = [f"{c} — {short(n, 45)}" for c, n in zip(d["indicator_code"], d["indicator_name"])]
        left = [0] * len(d)
        for p, colour in zip(PRIORITIES, (RED, YELLOW)):
            ax.barh(labels, d[p], left=left, color=colour, edgecolor="white", hatch="" if colour == RED else WARN_HATCH,
                    label=f"приоритет «{p}»")
            left = [a + b for a, b in zip(left, d[p])]
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Число школ, получивших рекомендацию")
        ax.set_title("Наиболее частые дефициты")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        fig.tight_layout()
    return fig


def followup_stage_chart(summary: pd.DataFrame) -> plt.Figure:
    """Recommendations: what became of last year's recommendations, per indicator and overall."""
    with _style():
        fig, ax = plt.subplots(figsize=(9, 0.4 * max(len(summary), 2) + 1.5))
        d = summary.iloc[::-1]
        labels = [f"{c} (n={n})" for c, n in zip(d["indicator_code"], d["n"])]
        left = [0.0] * len(d)
        for s in shown_statuses(summary):
            ax.barh(labels, d[s], left=left, color=FOLLOWUP_COLOURS[s], hatch=FOLLOWUP_HATCH[s], edgecolor=OUTLINE,
                    linewidth=0.6, label=s)
            left = [a + b for a, b in zip(left, d[s])]
        ax.set_xlim(0, 100)
        ax.set_xlabel("Доля рекомендаций прошлого года, %")
        ax.set_title("Анализ эффективности принятых мер")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        fig.tight_layout()
    return fig
