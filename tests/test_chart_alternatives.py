"""Every chart of the published pages has a text alternative that carries its data (WCAG 1.1.1):
an alt text that names its numbers (not a generic title), a caption, and a data table whose
numbers are those of the processed tables; zones are told by more than colour (WCAG 1.4.1):
letters on the zone chips, symbols in the heat map. Built from the hand-made history
(tests/report_data.py), its numbers read back from its processed CSV files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from pipeline.core.contract import LEVELS
from pipeline.core.levels import ZONE_MARK
from pipeline.core.russian import fmt_num, fmt_pct
from pipeline.io.storage import read_table
from pipeline.report import charts

GENERIC = {"диаграмма", "график", "рисунок", "изображение", "chart", "image"}


@pytest.fixture(scope="module")
def site(crafted_site_plain) -> Path:
    return crafted_site_plain  # built once per run (conftest), read only


@pytest.fixture(scope="module")
def report(site) -> BeautifulSoup:
    return BeautifulSoup((site / "2026" / "index.html").read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def processed(site) -> Path:
    return site.parent / "processed" / "2026"


def _figure(report: BeautifulSoup, caption_start: str) -> tuple[str, list[list[str]]]:
    """(alt text, rows of the first data table) of the figure whose data table's caption
    begins with «Данные диаграммы: <caption_start>»."""
    for cap in report.select("figure.chart details.chart-data caption"):
        if cap.get_text(" ", strip=True).startswith(f"Данные диаграммы: {caption_start}"):
            fig = cap.find_parent("figure")
            rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in cap.find_parent("table").select("tbody tr")]
            return fig.img["alt"], rows
    raise AssertionError(f"no chart whose data is «{caption_start}»")


def _shown_scores(processed: Path) -> pd.DataFrame:
    """scores.csv without the schools the pages hide: fewer than 5 teachers (P0 of staff.csv)."""
    scores = read_table(processed, "scores.csv")
    staff = read_table(processed, "staff.csv")
    hidden = set(staff.loc[(staff["P0"] > 0) & (staff["P0"] < 5), "school_code"])
    assert hidden, "the crafted data should hide a school"
    return scores[~scores["school_code"].isin(hidden)]


def test_every_chart_has_a_specific_alt_a_caption_and_a_data_table(report):
    figures = report.select("figure.chart")
    assert len(figures) == 6, "distribution, heat map, criteria, targets, dynamics, follow-up"
    alts = []
    for fig in figures:
        alt = fig.img["alt"]
        assert alt.strip().lower() not in GENERIC and len(alt) > 60 and re.search(r"\d", alt), alt
        caption = fig.find("figcaption")
        assert caption is not None and caption.find("span").get_text(strip=True), "a chart without a caption"
        data = caption.select_one("details.chart-data")
        assert data and data.summary.get_text(strip=True) == "Данные диаграммы"
        table = data.find("table")
        assert table.caption.get_text(strip=True).startswith("Данные диаграммы: ")
        assert table.select("tbody tr td"), "an empty data table"
        alts.append(alt)
    assert len(set(alts)) == len(alts), "two charts with the same alt text"


def test_the_distribution_data_are_the_scores(report, processed):
    scores = _shown_scores(processed)
    scored = scores[scores["total_score"].notna()]
    alt, rows = _figure(report, "распределение итоговых баллов")
    counts, edges = np.histogram(scored["total_score"].astype(float).clip(0, 100), bins=np.arange(0, 105, 5))
    expected = [[f"{int(a)}–{int(a) + 5}", int(n)] for a, n in zip(edges[:-1], counts) if n]
    assert [[r[0], int(r[2])] for r in rows] == expected
    _, levels = _figure(report, "уровни по кластерам")
    table = pd.crosstab(scored["cluster"], scored["level"])
    for row in levels:
        cl, high, medium, low, total = row[0], *map(int, row[1:])
        assert [high, medium, low] == [int(table.loc[cl].get(lv, 0)) for lv in ("высокий", "средний", "низкий")]
        assert total == high + medium + low
    assert f"{len(scored)} ОО" in alt
    for lv in ("высокий", "средний", "низкий"):
        assert f"{lv} — {int((scored['level'] == lv).sum())}" in alt


def test_the_heat_map_data_are_the_positions_with_symbols(report, processed):
    pos = read_table(processed, "positions.csv")
    _, rows = _figure(report, "засчитанные баллы ОО по позициям самооценки")
    head = [th.get_text(strip=True) for th in
            report.find("caption", string=re.compile("засчитанные баллы")).find_parent("table").select("thead th")]
    positions = head[3:]
    assert rows and positions
    points = {(r.school_code, r.position): r for r in pos.itertuples()}
    marks = set()
    for row in rows:
        for position, cell in zip(positions, row[3:]):
            p = points[(row[0], position)]
            mark, value = cell.split(" ")
            assert float(value) == float(p.points), (row[0], position)
            expected = "×" if not p.confirmed and p.claimed > 0 and p.points == 0 else (
                "○" if p.points <= 0 else "●" if p.points >= p.max_points else "◐")
            if mark == "×":
                assert p.claimed > 0 and str(p.confirmed) in ("False", "0", "false"), (row[0], position, cell)
            else:
                assert mark == expected, (row[0], position, cell)
            marks.add(mark)
    assert {"●", "○"} <= marks


def test_the_heat_map_draws_a_symbol_in_every_cell(monkeypatch, site):
    """The PNG itself tells the cells by symbol: each cell with data carries ●, ◐, ○ or ×."""
    from pipeline.config.params import load_params
    from pipeline.report import context, tables

    ctx = context.build_context(load_params(site.parent / "params" / "2026.yaml", check_files=False))
    pos, schools = tables.position_matrix(ctx), tables.published_school_table(ctx)
    drawn = {}
    monkeypatch.setattr(charts, "to_data_uri", lambda fig: drawn.setdefault("fig", fig) and "data:")
    charts.heatmap_chart(pos, schools, ctx.methodology)
    ax = drawn["fig"].axes[0]
    symbols = [t.get_text() for t in ax.texts if t.get_text() in ("●", "◐", "○", "×")]
    cells = pos[pos["school_code"].isin(schools.loc[schools["submitted"], "school_code"]) & pos["points"].notna()]
    assert len(symbols) == len(cells) > 0
    assert symbols.count("×") == int(cells["unconfirmed"].astype(bool).sum()) > 0
    legend = " ".join(t.get_text() for t in drawn["fig"].legends[0].get_texts())
    for mark in ("●", "○", "×"):
        assert mark in legend


def test_the_criteria_targets_dynamics_and_followup_data(report, processed):
    crit = read_table(processed, "criteria.csv")   # a checklist figure: no school hidden
    merged = crit.merge(read_table(processed, "scores.csv")[["school_code", "cluster"]], on="school_code")
    _, rows = _figure(report, "средний процент выполнения критериев")
    head = [th.get_text(strip=True) for th in report.find(
        "caption", string=re.compile("средний процент выполнения критериев")).find_parent("table").select("thead th")]
    assert rows and head[-1] == "все ОО"
    for row in rows:
        this = merged[merged["criterion"] == row[0]]
        assert row[-1] == fmt_pct(this["pct"].mean()), row
        for cl, cell in zip(head[1:-1], row[1:-1]):
            assert cell == fmt_pct(this.loc[this["cluster"] == cl, "pct"].mean()), (row[0], cl)
    scores = _shown_scores(processed)
    tm = read_table(processed, "targets_municipal.csv")
    alt, rows = _figure(report, "муниципальные целевые показатели")
    assert [r[0] for r in rows] == list(tm["target"])
    for row, t in zip(rows, tm.itertuples()):
        assert row[1] in (fmt_pct(t.value), "н/д")
        assert row[2] == fmt_pct(t.target_value, 0)
        assert f"{t.target} — {row[1]} при цели {row[2]}" in alt
    alt, rows = _figure(report, "средний итоговый балл и доли уровней")
    this_year = next(r for r in rows if r[0] == "2026")
    assert this_year[1] == fmt_num(scores["total_score"].mean())
    assert f"2026 — {fmt_num(scores['total_score'].mean())}" in alt
    followup = read_table(processed, "followup.csv")
    _, rows = _figure(report, "исходы рекомендаций прошлого года")
    total = next(r for r in rows if r[0] == "всего")
    assert int(total[1]) == len(followup)


def test_zones_are_told_by_a_letter_and_tables_are_named(site):
    for page in (site / "2026" / "index.html", site / "2026" / "schools" / "001.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        # a chip in a zone colour says its zone: by a letter, or by the level's word (the school list)
        chips = [c for c in soup.select(".chip") if set(c["class"]) & {"green", "yellow", "red"}
                 and not c.find_parent(class_="zone-legend") and c.get_text(strip=True) not in LEVELS]
        assert chips, page
        for chip in chips:
            zone = {"green": "зелёная", "yellow": "жёлтая", "red": "красная"}[
                next(k for k in chip["class"] if k in ("green", "yellow", "red"))]
            assert chip.select_one(".zmark").get_text() == ZONE_MARK[zone], chip
            assert f"({zone} зона)" in chip.select_one(".sr-only").get_text()
        for table in soup.find_all("table"):
            named = table.caption and table.caption.get_text(strip=True) or (
                table.get("aria-labelledby") and soup.find(id=table["aria-labelledby"]))
            assert named, f"{page.name}: a table without a caption: {table.get_text(' ', strip=True)[:80]}"
        assert not [th for th in soup.find_all("th") if not th.get_text(strip=True)], "an empty table header"
        assert soup.html["lang"] == "ru"
        assert len(soup.find_all("main")) == 1 and soup.find("header", class_="topbar") and soup.find("nav")
        levels = [int(h.name[1]) for h in soup.find_all(re.compile(r"^h[1-6]$"))]
        assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels


def test_the_school_history_chart_says_its_numbers(site):
    page = site / "2026" / "schools" / "001.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    svg = soup.select_one("svg.svg-chart")
    label = svg["aria-label"]
    rows = [[c.get_text(strip=True) for c in tr.find_all("td")]
            for tr in svg.find_parent("figure").select("details.chart-data tbody tr")]
    assert len(rows) == 2
    for year, value in rows:
        assert f"{year} — {value}" in label
