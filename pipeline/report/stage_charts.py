"""Charts the stage notebooks show (the report's own charts are in charts.py)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..core.contract import FOLLOWUP_STATUSES, PRIORITIES


def plot_deficits(deficits: pd.DataFrame, ax=None):
    """Horizontal stacked bars: schools with a recommendation per indicator, by priority."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.45 * max(len(deficits), 2) + 1.2))
    d = deficits.iloc[::-1]
    labels = [f"{c} — {_short(n)}" for c, n in zip(d["indicator_code"], d["indicator_name"])]
    left = [0] * len(d)
    for p, colour in zip(PRIORITIES, ("#c0392b", "#f1c40f")):
        ax.barh(labels, d[p], left=left, color=colour, label=f"приоритет «{p}»")
        left = [a + b for a, b in zip(left, d[p])]
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Число школ, получивших рекомендацию")
    ax.set_title("Наиболее частые дефициты")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.figure.tight_layout()
    return ax


def plot_followup(summary: pd.DataFrame, ax=None):
    """Horizontal stacked bars of follow-up status shares per indicator and overall."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.4 * max(len(summary), 2) + 1.5))
    d = summary.iloc[::-1]
    labels = [f"{c} (n={n})" for c, n in zip(d["indicator_code"], d["n"])]
    colours = ("#27ae60", "#a9dfbf", "#bdc3c7", "#e74c3c", "#7f8c8d")
    left = [0.0] * len(d)
    for s, colour in zip(FOLLOWUP_STATUSES, colours):
        ax.barh(labels, d[s], left=left, color=colour, label=s)
        left = [a + b for a, b in zip(left, d[s])]
    ax.set_xlim(0, 100)
    ax.set_xlabel("Доля рекомендаций прошлого года, %")
    ax.set_title("Анализ эффективности принятых мер")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.figure.tight_layout()
    return ax


def _short(text: Any, n: int = 45) -> str:
    text = "" if not isinstance(text, str) else text
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
