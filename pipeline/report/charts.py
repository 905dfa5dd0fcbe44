"""Charts of the report: matplotlib figures embedded as PNG data URIs, and small inline SVG
charts for the school pages (built as text, no matplotlib figure per school).

Every chart has Russian labels, zones in their colours with a legend, and is deterministic:
the PNG carries no timestamp or software metadata, the SVG no random ids.

Accessibility (WCAG 2.2 AA): a mark whose colour carries meaning is told by more than colour
too (a hatch, a symbol, a marker shape or a label); every mark colour has a contrast of at
least 3:1 against the white page or is drawn with an outline that has; text drawn on a mark
takes the ink (`ink_on`) with a contrast of at least 4.5:1 (tests/test_contrast.py). The
numbers of each chart are also given as a table next to it (the sections build it).
"""

from __future__ import annotations

import base64
import io
import textwrap
from contextlib import contextmanager
from typing import Any, Iterator, NamedTuple, Sequence

import matplotlib.pyplot as plt  # (rc_context only: the figures below belong to no backend)
import numpy as np
import pandas as pd
from markupsafe import Markup, escape
from matplotlib.colors import ListedColormap
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..core.contract import FOLLOWUP_STATUSES, LEVELS, ZONES

GREEN, YELLOW, RED = "#23784a", "#ba880c", "#c8322f"   # each ≥ 3:1 against white (zone marks)
ZONE_COLOURS = dict(zip(ZONES, (GREEN, YELLOW, RED)))
LEVEL_COLOURS = dict(zip(LEVELS, (GREEN, YELLOW, RED)))
ZONE_HATCH = dict(zip(ZONES, ("", "///", "xxx")))         # the zone told by a pattern as well
LEVEL_HATCH = dict(zip(LEVELS, ZONE_HATCH.values()))
BAND_ALPHA = 0.10
INK, MUTED, GRID, EMPTY = "#1f2a37", "#5f6b7a", "#e3e7ec", "#eef1f4"
OUTLINE = MUTED          # the edge of a light mark (≥ 3:1 against white), so its boundary is seen
# by the cluster's place: ≥ 3:1 against white, told apart by a hatch (bars) and a marker (lines)
CLUSTER_PALETTE = ("#1d4e89", "#4a89c8", "#2b6f77", "#7b4f9d", "#8a5a00", "#5f6b7a")
CLUSTER_HATCH = ("", "///", "...", "xxx", "\\\\\\", "+++")
CLUSTER_MARKERS = ("o", "s", "^", "D", "v", "P")
FOLLOWUP_COLOURS = dict(zip(FOLLOWUP_STATUSES, ("#23784a", "#8cc98f", "#c3cad3", "#d64541", "#eef1f4", "#b7a6d9")))
FOLLOWUP_HATCH = dict(zip(FOLLOWUP_STATUSES, ("", "///", "...", "xxx", "", "\\\\\\")))
# heat-map cells: the counted points told by a symbol too (drawn in the cell, named in the legend)
CELL_MARKS = {"full": "●", "part": "◐", "zero": "○", "none": ""}
WIDTH_IN = 9.6           # figure width in inches
WIDTH_PX = 960           # displayed width in CSS pixels
DPI = 180                # rendered at ~1.9× for sharp text on high-density screens


def _luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour «#rrggbb»."""
    c = colour.lstrip("#")
    channels = [int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(colour: str) -> str:
    """White or the ink for text drawn on a mark of that colour: whichever contrasts more."""
    return "#ffffff" if contrast("#ffffff", colour) >= contrast(INK, colour) else INK


@contextmanager
def _style() -> Iterator[None]:
    rc = {
        "font.family": "DejaVu Sans",
        "font.size": 10,
        "axes.edgecolor": "#b8c0ca",
        "axes.labelcolor": INK,
        "axes.titlesize": 11.5,
        "axes.titleweight": "bold",
        "axes.titlecolor": INK,
        "axes.titlelocation": "left",
        "axes.titlepad": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": MUTED,
        "ytick.color": INK,
        "legend.frameon": False,
        "svg.hashsalt": "report",
        "text.parse_math": False,   # a «$» in a school's name is text, not a formula
        "figure.facecolor": "white",
    }
    with plt.rc_context(rc):
        yield


def _subplots(*args: Any, **kwargs: Any) -> tuple[Figure, Any]:
    """plt.subplots without pyplot: the figure belongs to no backend (a kernel's inline
    backend would otherwise show every report chart in the notebook a second time)."""
    figsize = kwargs.pop("figsize", None)
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def to_data_uri(fig: Figure) -> str:
    """PNG bytes of a figure as a data URI (no metadata, so the bytes are reproducible)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _wrap(s: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(s), width=width)[:3])


def _zone_bands(ax: Axes, high: float, medium: float, *, horizontal: bool = False, top: float = 100) -> None:
    span = ax.axhspan if horizontal else ax.axvspan
    span(0, medium, color=RED, alpha=BAND_ALPHA, lw=0, zorder=0)
    span(medium, high, color=YELLOW, alpha=BAND_ALPHA + 0.04, lw=0, zorder=0)
    span(high, max(top, high), color=GREEN, alpha=BAND_ALPHA, lw=0, zorder=0)


def _bottom_legend(fig: Figure, handles: list, ncol: int, height_in: float, fontsize: float = 9) -> None:
    """A legend centred under the axes, with room reserved for it (0.45 in per row)."""
    rows = -(-len(handles) // ncol)
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=fontsize, bbox_to_anchor=(0.5, 0.005),
               handlelength=1.4, columnspacing=1.6)
    fig.tight_layout(rect=(0, min(0.4, (0.12 + 0.26 * rows) / height_in), 1, 1))


def _zone_legend(high: float, medium: float) -> list[Patch]:
    z = dict(zip(ZONES, ZONE_HATCH.values()))
    return [
        Patch(facecolor=GREEN, edgecolor="white", hatch=z[ZONES[0]], label=f"зелёная зона — высокий (≥ {high:g})"),
        Patch(facecolor=YELLOW, edgecolor="white", hatch=z[ZONES[1]], label=f"жёлтая — средний (≥ {medium:g})"),
        Patch(facecolor=RED, edgecolor="white", hatch=z[ZONES[2]], label=f"красная — низкий (< {medium:g})"),
    ]


# ============================================================================ report charts


HIST_STEP = 5


def histogram(scores: pd.DataFrame, params: Any) -> pd.DataFrame:
    """The histogram of total scores: bins of HIST_STEP points (the last one holds 100), the
    number of schools in each and the bin's zone (by its lower edge)."""
    high, medium = params.levels.high, params.levels.medium
    vals = scores["total_score"].astype(float).clip(0, 100).to_numpy()
    counts, edges = np.histogram(vals, bins=np.arange(0, 100 + HIST_STEP, HIST_STEP))
    zones = [ZONES[0] if e >= high else ZONES[1] if e >= medium else ZONES[2] for e in edges[:-1]]
    return pd.DataFrame({"from": edges[:-1], "to": edges[1:], "zone": zones, "count": counts})


def cluster_levels(scores: pd.DataFrame, clusters: Sequence[str]) -> pd.DataFrame:
    """Schools of each level (columns) per cluster (rows, in the clusters' order)."""
    present = [c for c in clusters if c in set(scores["cluster"])]
    return pd.crosstab(scores["cluster"], scores["level"]).reindex(index=present, columns=list(LEVELS), fill_value=0)


def distribution_chart(scores: pd.DataFrame, params: Any, clusters: Sequence[str]) -> str:
    """Histogram of total scores coloured (and hatched) by zone, and level counts per cluster."""
    high, medium = params.levels.high, params.levels.medium
    with _style():
        fig, (ax, ax2) = _subplots(1, 2, figsize=(WIDTH_IN, 3.9), gridspec_kw={"width_ratios": [1.55, 1]})
        hist = histogram(scores, params)
        counts, zones = hist["count"].to_numpy(), list(hist["zone"])
        edges = np.append(hist["from"].to_numpy(), 100)
        for e, n, z in zip(edges[:-1], counts, zones):
            if n:
                ax.bar(e, n, width=4.6, align="edge", color=ZONE_COLOURS[z], edgecolor="white", hatch=ZONE_HATCH[z], zorder=3)
        for thr, label in ((medium, "средний"), (high, "высокий")):
            ax.axvline(thr, color=INK, lw=1, ls=(0, (4, 3)), zorder=4)
            ax.text(thr + 0.8, max(counts.max(), 1) * 1.02, f"{thr:g} — {label}", fontsize=8.5, color=MUTED, va="bottom")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, max(counts.max(), 1) * 1.18)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="y", color=GRID, zorder=0)
        ax.set_xlabel("Итоговый балл")
        ax.set_ylabel("Число ОО")
        ax.set_title("Распределение итоговых баллов")

        table = cluster_levels(scores, clusters)
        present = list(table.index)
        left = np.zeros(len(present))
        y = np.arange(len(present))[::-1]
        for lv in LEVELS:
            vals2 = table[lv].to_numpy()
            ax2.barh(y, vals2, left=left, color=LEVEL_COLOURS[lv], edgecolor="white", hatch=LEVEL_HATCH[lv], height=0.6,
                     label=lv, zorder=3)
            for yi, l0, v in zip(y, left, vals2):
                if v:
                    ax2.text(l0 + v / 2, yi, str(int(v)), ha="center", va="center", fontsize=9.5, color=ink_on(LEVEL_COLOURS[lv]),
                             fontweight="bold", zorder=4,
                             bbox={"facecolor": LEVEL_COLOURS[lv], "edgecolor": "none", "pad": 1.2})
            left = left + vals2
        ax2.set_yticks(y, present)
        ax2.xaxis.get_major_locator().set_params(integer=True)
        ax2.set_xlabel("Число ОО")
        ax2.set_title("Уровни по кластерам")
        ax2.grid(axis="x", color=GRID, zorder=0)
        ax2.spines["left"].set_visible(False)
        ax2.tick_params(axis="y", length=0)
        _bottom_legend(fig, _zone_legend(high, medium), 3, 3.9)
        return to_data_uri(fig)


HEATMAP_NAMED_ROWS = 150
HEATMAP_DENSE_HEIGHT = 14.0  # inches


class HeatmapData(NamedTuple):
    """What the heat map draws: schools (rows) × positions (columns)."""
    codes: list[str]
    names: dict[str, str]
    clusters: dict[str, str]
    positions: list[str]
    points: pd.DataFrame         # counted points (NaN: no data)
    max_points: pd.DataFrame
    unconfirmed: pd.DataFrame
    cat: np.ndarray              # 0 no data, 1 zero, 2 part, 3 full


CELL_STATES = ("none", "zero", "part", "full")   # by HeatmapData.cat


def heatmap_data(pos: pd.DataFrame, schools: pd.DataFrame, methodology: Any) -> HeatmapData:
    """Schools (by cluster and rank, as the published table orders them) × positions (grouped by
    criterion) with their counted points, the maximum and whether a claim lacked its document."""
    order_pos = [p.code for c in methodology.criteria for p in methodology.positions if p.criterion == c.code]
    subm = schools[schools["submitted"]]
    with_positions = set(pos["school_code"])
    codes = [c for c in subm["school_code"] if c in with_positions]
    names = dict(zip(subm["school_code"], subm["school_name"]))
    # a submitted school can lack a cluster (no pupil count or type in its form): its own group
    clusters = {code: (cl if isinstance(cl, str) and cl else "без кластера")
                for code, cl in zip(subm["school_code"], subm["cluster"])}
    pts = pos.pivot_table(index="school_code", columns="position", values="points", aggfunc="first")
    mx = pos.pivot_table(index="school_code", columns="position", values="max_points", aggfunc="first")
    unc = pos.pivot_table(index="school_code", columns="position", values="unconfirmed", aggfunc="first")
    pts = pts.reindex(index=codes, columns=order_pos)
    mx = mx.reindex(index=codes, columns=order_pos)
    unc = unc.reindex(index=codes, columns=order_pos)
    cat = np.where(pts.isna(), 0, np.where(pts <= 0, 1, np.where(pts >= mx, 3, 2)))
    return HeatmapData(codes, names, clusters, order_pos, pts, mx, unc, cat)


def heatmap_chart(pos: pd.DataFrame, schools: pd.DataFrame, methodology: Any,
                  data: "HeatmapData | None" = None) -> tuple[str, float]:
    """Schools (rows, by cluster and rank) × positions (columns, grouped by criterion): counted
    points in zone colours and symbols (● maximum, ◐ part, ○ zero); × marks a claim without a
    document. data: heatmap_data of the same arguments, when the caller has it."""
    d = data if data is not None else heatmap_data(pos, schools, methodology)
    codes, names, clusters, order_pos, unc, cat = d.codes, d.names, d.clusters, d.positions, d.unconfirmed, d.cat
    crit_of = {p.code: p.criterion for p in methodology.positions}
    n_rows, n_cols = cat.shape
    # up to HEATMAP_NAMED_ROWS schools each row is named and marked; beyond (a region, a
    # country) the schools become a dense image of fixed height, one pixel row or less each
    named = n_rows <= HEATMAP_NAMED_ROWS
    height = 0.27 * n_rows + 2.3 if named else HEATMAP_DENSE_HEIGHT
    with _style():
        fig, ax = _subplots(figsize=(WIDTH_IN, height))
        cmap = ListedColormap([EMPTY, RED, YELLOW, GREEN])
        if named:
            ax.pcolormesh(np.arange(n_cols + 1), np.arange(n_rows + 1), cat, cmap=cmap, vmin=0, vmax=3,
                          edgecolors="white", linewidth=1.2)
            marked = unc.to_numpy(dtype=object)
            colours = (EMPTY, RED, YELLOW, GREEN)
            for i in range(n_rows):
                for j in range(n_cols):
                    k = int(cat[i, j])
                    v = marked[i, j]
                    mark = "×" if (bool(v) and v == v) else CELL_MARKS[CELL_STATES[k]]
                    if mark:
                        ax.text(j + 0.5, i + 0.52, mark, ha="center", va="center", color=ink_on(colours[k]),
                                fontsize=9.5 if mark == "×" else 9, fontweight="bold")
        else:
            ax.imshow(cat, cmap=cmap, vmin=0, vmax=3, aspect="auto", interpolation="nearest",
                      extent=(0, n_cols, n_rows, 0))
        ax.set_ylim(n_rows, 0)
        ax.set_xlim(0, n_cols)
        ax.set_xticks(np.arange(n_cols) + 0.5, order_pos, rotation=90, fontsize=8.5)
        if named:
            ax.set_yticks(np.arange(n_rows) + 0.5, [f"{c}  {_short(names.get(c, ''), 30)}" for c in codes], fontsize=8.5)
        else:
            ax.set_yticks([])
            ax.set_ylabel(f"ОО ({n_rows}) по кластерам и месту в рейтинге; названия — в разделе «Рейтинг»")
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        # criterion groups on top
        start = 0
        for c in methodology.criteria:
            k = sum(1 for p in order_pos if crit_of[p] == c.code)
            if not k:
                continue
            ax.annotate(c.code, xy=(start + k / 2, -0.25), xycoords="data", ha="center", va="bottom", fontsize=9,
                        fontweight="bold", color=INK, annotation_clip=False)
            if start:
                ax.axvline(start, color=INK, lw=1.4)
            start += k
        # cluster separators and labels
        prev = None
        for i, c in enumerate(codes):
            if prev is not None and clusters[c] != prev:
                ax.axhline(i, color=INK, lw=1.4)
            prev = clusters[c]
        for cl in dict.fromkeys(clusters[c] for c in codes):
            idx = [i for i, c in enumerate(codes) if clusters[c] == cl]
            ax.annotate(cl, xy=(n_cols + 0.3, (idx[0] + idx[-1] + 1) / 2), xycoords="data", ha="left", va="center",
                        fontsize=9, color=MUTED, rotation=90, annotation_clip=False)
        def sym(state: str) -> str:
            return f"{CELL_MARKS[state]} " if named else ""

        partial = ([Patch(color=YELLOW, label=sym("part") + "частично")]
                   if any(len(p.scale) > 2 for p in methodology.positions) else [])
        handles = [Patch(color=GREEN, label=sym("full") + "максимальный балл"), *partial,
                   Patch(color=RED, label=sym("zero") + "0 баллов"),
                   Patch(facecolor=EMPTY, edgecolor=OUTLINE, lw=0.6, label="нет данных")]
        if named:
            handles.append(Line2D([], [], marker="x", color=INK, ls="", markersize=7, markeredgewidth=2,
                                      label="× не подтверждено документом"))
        ax.set_title("Карта дефицитов: засчитанные баллы ОО по позициям самооценки", pad=22)
        _bottom_legend(fig, handles, 5, height, fontsize=8.5)
        return to_data_uri(fig), height


def criteria_chart(profile: pd.DataFrame, methodology: Any, params: Any) -> str:
    """Mean criterion pct per cluster: grouped horizontal bars over the zone bands, the mean
    over all schools as a black tick."""
    high, medium = params.levels.high, params.levels.medium
    clusters = [c for c in profile.columns if c != "все ОО"]
    crit = list(profile.index)
    names = {c.code: c.name for c in methodology.criteria}
    n = len(crit)
    bar_h = 0.78 / max(len(clusters), 1)
    height = 0.72 * n + 1.6
    with _style():
        fig, ax = _subplots(figsize=(WIDTH_IN, height))
        _zone_bands(ax, high, medium)
        y = np.arange(n)[::-1].astype(float)
        for k, cl in enumerate(clusters):
            vals = profile[cl].to_numpy(dtype=float)
            off = (len(clusters) - 1) / 2 * bar_h - k * bar_h
            ax.barh(y + off, np.nan_to_num(vals), height=bar_h * 0.9, color=CLUSTER_PALETTE[k % len(CLUSTER_PALETTE)], label=cl,
                    hatch=CLUSTER_HATCH[k % len(CLUSTER_HATCH)], edgecolor="white", lw=0, zorder=3)
            for yi, v in zip(y + off, vals):
                if v == v:
                    ax.text(min(v, 100) + 1.2, yi, f"{v:.0f}", va="center", fontsize=7.8, color=MUTED, zorder=4)
        handles = [Patch(facecolor=CLUSTER_PALETTE[k % len(CLUSTER_PALETTE)], edgecolor="white",
                         hatch=CLUSTER_HATCH[k % len(CLUSTER_HATCH)], label=cl) for k, cl in enumerate(clusters)]
        if "все ОО" in profile:
            allv = profile["все ОО"].to_numpy(dtype=float)
            for yi, v in zip(y, allv):
                if v == v:
                    ax.plot([v, v], [yi - 0.42, yi + 0.42], color=INK, lw=2.2, zorder=5)
            handles.append(Line2D([], [], color=INK, lw=2.2, label="среднее по всем ОО"))
        ax.set_yticks(y, [f"{c}. {_wrap(names.get(c, c), 36)}" for c in crit], fontsize=8.8)
        ax.set_xlim(0, 108)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("Средний процент выполнения критерия, %")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_title("Профиль по критериям: средний процент выполнения по кластерам")
        _bottom_legend(fig, handles + _zone_legend(high, medium), 4, height, fontsize=8.5)
        return to_data_uri(fig)


def targets_chart(tm: pd.DataFrame, params: Any) -> str:
    """Municipal target values against their goals: green met, red not met, grey н/д."""
    n = len(tm)
    height = 0.58 * n + 1.5
    with _style():
        fig, ax = _subplots(figsize=(WIDTH_IN, height))
        y = np.arange(n)[::-1].astype(float)
        for yi, r in zip(y, tm.itertuples()):
            small = bool(r.small) or r.value != r.value
            v = 0 if small else float(r.value)
            colour = EMPTY if small else (GREEN if r.met else RED)
            ax.barh(yi, min(v, 100), height=0.62, color=colour, edgecolor="white", hatch="" if small or r.met else "xxx", zorder=3)
            ax.plot([r.target_value, r.target_value], [yi - 0.4, yi + 0.4], color=INK, lw=2.2, zorder=4)
            label = "н/д" if small else f"{v:.1f}".replace(".", ",") + " % " + ("✓" if r.met else "✗")
            ax.text(min(v, 100) + 1, yi, label, va="center", fontsize=9, color=INK, zorder=5,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.8})
        ax.set_yticks(y, [_label(r.target, r.name, 44) for r in tm.itertuples()], fontsize=8.6)
        ax.set_xlim(0, 112)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("Значение, %")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x", color=GRID, zorder=0)
        ax.set_title("Муниципальные целевые показатели: значение и цель")
        handles = [Patch(facecolor=GREEN, edgecolor="white", label="✓ достигнут"),
                   Patch(facecolor=RED, edgecolor="white", hatch="xxx", label="✗ не достигнут"),
                   Line2D([], [], color=INK, lw=2.2, label="целевое значение")]
        _bottom_legend(fig, handles, 3, height)
        return to_data_uri(fig)


def _label(code: str, name: str, width: int) -> str:
    """«T1  first line / second line…» — at most two lines."""
    lines = textwrap.wrap(str(name), width=width)
    if len(lines) > 2:
        lines = [lines[0], lines[1].rstrip(" ,.") + "…"]
    return f"{code}  " + "\n".join(lines)


def level_shares(history: pd.DataFrame) -> pd.DataFrame:
    """Per year (rows of history) the percentage of schools of each level."""
    return history[list(LEVELS)].div(history[list(LEVELS)].sum(axis=1).replace(0, np.nan), axis=0) * 100


def dynamics_chart(history: pd.DataFrame, params: Any, clusters: Sequence[str]) -> str:
    """Mean total per cluster and overall by year (over the zone bands) and level shares by year."""
    high, medium = params.levels.high, params.levels.medium
    years = [str(y) for y in history["year"]]
    x = np.arange(len(years))
    with _style():
        fig, (ax, ax2) = _subplots(1, 2, figsize=(WIDTH_IN, 3.9), gridspec_kw={"width_ratios": [1.4, 1]})
        _zone_bands(ax, high, medium, horizontal=True)
        for i, cl in enumerate(clusters):
            col = f"mean_{cl}"
            if col in history and history[col].notna().any():
                ax.plot(x, history[col], marker=CLUSTER_MARKERS[i % len(CLUSTER_MARKERS)], ls=(0, (5, 2)),
                        color=CLUSTER_PALETTE[i % len(CLUSTER_PALETTE)], lw=1.6, label=cl, zorder=3)
        ax.plot(x, history["mean_total"], marker="o", color=INK, lw=2.6, label="все ОО", zorder=4)
        for xi, v in zip(x, history["mean_total"]):
            if v == v:
                ax.annotate(f"{v:.1f}".replace(".", ","), (xi, v), textcoords="offset points", xytext=(0, 8),
                            ha="center", fontsize=9, fontweight="bold", color=INK)
        ax.set_xticks(x, years)
        ax.set_xlim(-0.4, len(years) - 0.6)
        ax.set_ylim(0, 100)
        ax.set_ylabel("Средний итоговый балл")
        ax.set_title("Средний итоговый балл по годам")
        ax.legend(loc="lower left", fontsize=8.5, ncol=2)
        shares = level_shares(history)
        bottom = np.zeros(len(years))
        for lv in LEVELS:
            v = shares[lv].fillna(0).to_numpy()
            ax2.bar(x, v, bottom=bottom, color=LEVEL_COLOURS[lv], width=0.6, edgecolor="white", hatch=LEVEL_HATCH[lv],
                    label=lv, zorder=3)
            for xi, b, vv in zip(x, bottom, v):
                if vv >= 7:
                    ax2.text(xi, b + vv / 2, f"{vv:.0f} %", ha="center", va="center", fontsize=8.5, color=ink_on(LEVEL_COLOURS[lv]),
                             bbox={"facecolor": LEVEL_COLOURS[lv], "edgecolor": "none", "pad": 1.2})
            bottom += v
        ax2.set_xticks(x, years)
        ax2.set_ylim(0, 100)
        ax2.set_ylabel("Доля ОО, %")
        ax2.set_title("Уровни ОО по годам")
        _bottom_legend(fig, [Patch(facecolor=LEVEL_COLOURS[lv], edgecolor="white", hatch=LEVEL_HATCH[lv], label=f"уровень «{lv}»")
                             for lv in LEVELS], 3, 3.9)
        return to_data_uri(fig)


def shown_statuses(summary: pd.DataFrame) -> list[str]:
    """The follow-up statuses a summary shows: «методика изменилась» only where it occurs."""
    last = FOLLOWUP_STATUSES[-1]
    present = last in summary and bool((summary[last].astype(float).fillna(0) > 0).any())
    return [s for s in FOLLOWUP_STATUSES if s != last or present]


def followup_chart(summary: pd.DataFrame) -> str:
    """Shares of follow-up statuses per indicator; the overall row on top, in bold."""
    d = summary.iloc[::-1].reset_index(drop=True)
    n = len(d)
    with _style():
        fig, ax = _subplots(figsize=(WIDTH_IN, 0.34 * n + 1.7))
        y = np.arange(n)
        left = np.zeros(n)
        for s in shown_statuses(summary):
            v = d[s].astype(float).fillna(0).to_numpy()
            ax.barh(y, v, left=left, color=FOLLOWUP_COLOURS[s], height=0.72, label=s, zorder=3, hatch=FOLLOWUP_HATCH[s],
                    edgecolor=OUTLINE, linewidth=0.6)
            left += v
        labels = [("ВСЕГО" if c == "всего" else c) + f"  (n = {int(k)})" for c, k in zip(d["indicator_code"], d["n"])]
        ax.set_yticks(y, labels, fontsize=8.5)
        for t in ax.get_yticklabels():
            if t.get_text().startswith("ВСЕГО"):
                t.set_fontweight("bold")
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlabel("Доля рекомендаций прошлого года, %")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_title("Что стало с рекомендациями прошлого года")
        handles = [Patch(facecolor=FOLLOWUP_COLOURS[s], edgecolor=OUTLINE, hatch=FOLLOWUP_HATCH[s], lw=0.6, label=s)
                   for s in FOLLOWUP_STATUSES]
        _bottom_legend(fig, handles, 5, 0.34 * n + 1.7)
        return to_data_uri(fig)


def _short(s: Any, n: int) -> str:
    s = "" if s is None or s != s else str(s)
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


# ============================================================================ inline SVG (school pages)

_SVG_ZONE = {"green": GREEN, "yellow": YELLOW, "red": RED, "none": "#c3cad3"}


def _t(x: float, y: float, s: str, **attrs: Any) -> str:
    a = " ".join(f'{k.replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" {a}>{escape(s)}</text>'


def criterion_bar_svg(pct: float | None, mean: float | None, zone_class: str, *, high: float = 75,
                      medium: float = 50, width: int = 240, height: int = 22) -> Markup:
    """One criterion of a school: its pct as a bar in the zone colour over faint zone bands,
    the cluster mean as a black tick. Sized to sit in a table row."""
    pad = 2
    w = width - 2 * pad

    def x(v: float) -> float:
        return pad + w * max(0.0, min(100.0, v)) / 100

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="svg-bar" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(_bar_label(pct, mean, zone_class))}">']
    for v0, v1, colour in ((0, medium, RED), (medium, high, YELLOW), (high, 100, GREEN)):
        parts.append(f'<rect x="{x(v0):.1f}" y="2" width="{x(v1) - x(v0):.1f}" height="{height - 4}" fill="{colour}" fill-opacity="0.10"/>')
    if pct is not None:
        parts.append(f'<rect x="{pad}" y="5" width="{x(pct) - pad:.1f}" height="{height - 10}" rx="2" '
                     f'fill="{_SVG_ZONE.get(zone_class, _SVG_ZONE["none"])}"/>')
    if mean is not None:
        parts.append(f'<rect x="{x(mean) - 1.25:.1f}" y="0" width="2.5" height="{height}" fill="{INK}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


_ZONE_OF_CLASS = dict(zip(("green", "yellow", "red"), ZONES))


def _bar_label(pct: float | None, mean: float | None, zone_class: str = "none") -> str:
    def f(v: float | None) -> str:
        return "нет данных" if v is None else f"{v:.0f} %"

    zone = f" ({_ZONE_OF_CLASS[zone_class]} зона)" if pct is not None and zone_class in _ZONE_OF_CLASS else ""
    return f"ОО: {f(pct)}{zone}; среднее по кластеру: {f(mean)}"


def history_label(history: Sequence[dict]) -> str:
    """The text alternative of history_svg: each year's total."""
    def f(v: Any) -> str:
        return "нет данных" if v is None else f"{v:.1f}".replace(".", ",")

    return "Итоговый балл по годам: " + "; ".join(f"{h['year']} — {f(h['total'])}" for h in history)


def history_svg(history: Sequence[dict], *, high: float = 75, medium: float = 50, width: int = 460, height: int = 160) -> Markup:
    """A small line chart of a school's total score by year over the zone bands."""
    pts = [(h["year"], h["total"]) for h in history]
    left, right, top, bottom = 36, 30, 16, 26
    pw, ph = width - left - right, height - top - bottom
    n = len(pts)

    inset = 30  # keep the first and last points (and their labels) off the axis labels

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (pw / 2 if n == 1 else inset + (pw - 2 * inset) * i / (n - 1))
        return x, top + ph * (1 - max(0.0, min(100.0, v)) / 100)

    style = "font-family:inherit"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="svg-chart" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(history_label(history))}" style="{style}">']
    for y0, y1, colour in ((0, medium, RED), (medium, high, YELLOW), (high, 100, GREEN)):
        parts.append(f'<rect x="{left}" y="{top + ph * (1 - y1 / 100):.1f}" width="{pw}" height="{ph * (y1 - y0) / 100:.1f}" '
                     f'fill="{colour}" fill-opacity="0.13"/>')
    for g in (0, medium, high, 100):
        y = top + ph * (1 - g / 100)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dae0" stroke-width="1"/>')
        parts.append(_t(left - 6, y + 4, f"{g:g}", text_anchor="end", class_="tick"))
    coords = [(x, y) for x, y in (xy(i, v) for i, (_, v) in enumerate(pts) if v is not None)]
    if len(coords) >= 2:
        parts.append(f'<polyline fill="none" stroke="{INK}" stroke-width="2.2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>')
    for i, (year, v) in enumerate(pts):
        x, _ = xy(i, 0)
        parts.append(_t(x, height - 7, str(year), text_anchor="middle", class_="tick"))
        if v is None:
            parts.append(_t(x, top + ph / 2 + 4, "н/д", text_anchor="middle", class_="tick"))
            continue
        _, y = xy(i, v)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{INK}"/>')
        parts.append(_t(x, y - 9, f"{v:.1f}".replace(".", ","), text_anchor="middle", class_="val"))
    parts.append("</svg>")
    return Markup("".join(parts))
