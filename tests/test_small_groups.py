"""A school with fewer than min_group_size teachers: its total is hidden on the published
pages, and so is everything derived from it (level, zone, rank, trend, chart point, position
in the ranking, the municipal counts and mean); results.xlsx (internal) keeps everything."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from pipeline.core.contract import LEVELS
from pipeline.core.russian import fmt_int, fmt_num

SMALL = "008"  # 4 teachers in tests/report_data.py
LABEL = "н/д (менее 5)"


@pytest.fixture(scope="module")
def site(crafted_site_plain):
    root = crafted_site_plain  # built once per run (conftest), read only
    scores = pd.read_csv(root.parent / "processed" / "2026" / "scores.csv", dtype={"school_code": str})
    return root / "2026", scores.set_index("school_code")


def _soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _row_of(soup, code):
    rows = [a.find_parent("tr") for a in soup.select(f'table.ranking a[href="schools/{code}.html"]')]
    assert len(rows) == 1
    return rows[0]


def test_the_ranking_shows_nothing_derived_from_a_hidden_total(site):
    year, scores = site
    me = scores.loc[SMALL]
    assert me["level"] in LEVELS and not pd.isna(me["rank_in_cluster"])  # it has them internally
    soup = _soup(year / "index.html")
    row = _row_of(soup, SMALL)
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[0] in ("", "—"), cells  # no rank
    assert LABEL in cells[2] and LABEL in cells[4]  # total and level hidden
    text = " ".join(cells)
    assert not any(lv in text for lv in LEVELS)
    assert fmt_num(me["total_score"]) not in text
    assert not re.search("[▲▼→]", text)
    assert not row.select(".chip.green, .chip.yellow, .chip.red, .trend")
    # the hidden school is listed after every ranked school of its cluster (no position)
    table = row.find_parent("table")
    ranked = [tr for tr in table.select("tbody tr") if tr.find("td").get_text(strip=True) not in ("", "—")]
    positions = list(table.select("tbody tr"))
    assert all(positions.index(tr) < positions.index(row) for tr in ranked)


def test_the_school_list_and_the_counts_leave_the_hidden_school_out(site):
    year, scores = site
    soup = _soup(year / "index.html")
    item = soup.select_one(f'ul.school-list a[href="schools/{SMALL}.html"]').find_parent("li")
    assert LABEL in item.get_text() and not item.select(".chip.green, .chip.yellow, .chip.red")
    visible = scores[(scores["submitted"]) & (scores.index != SMALL)]
    cards = {c.select_one(".card-label").get_text(strip=True): c.select_one(".card-value").get_text(strip=True)
             for c in soup.select("#summary .card")}
    assert cards["Высокий уровень"] == str(int((visible["level"] == "высокий").sum()))
    assert cards["Средний итоговый балл"] == fmt_num(visible["total_score"].mean())


def test_the_school_page_hides_level_zone_rank_and_trend(site):
    year, scores = site
    me = scores.loc[SMALL]
    page = _soup(year / "schools" / f"{SMALL}.html")
    cards = {c.select_one(".card-label").get_text(strip=True): c for c in page.select(".cards .card")}
    assert LABEL in cards["Итоговый балл"].get_text() and "зона" not in cards["Итоговый балл"].get_text()
    assert LABEL in cards["Уровень"].get_text()
    assert not any(lv in cards["Уровень"].get_text() for lv in LEVELS)
    rank = cards["Место в кластере"].select_one(".card-value").get_text(strip=True)
    assert rank != fmt_int(me["rank_in_cluster"]) and LABEL in rank
    assert not re.search("[▲▼→]", cards["К прошлому году"].get_text())
    assert not page.select(".cards .card.green, .cards .card.yellow, .cards .card.red")


def test_results_xlsx_keeps_the_hidden_figures(site):
    year, scores = site
    from openpyxl import load_workbook

    wb = load_workbook(year / "results.xlsx", read_only=True)
    values = {str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
              if c is not None}
    assert scores.loc[SMALL, "level"] in values
