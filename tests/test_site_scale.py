"""The site at scale (report.cluster_pages_from): with a low bound the analytic page keeps its
sections and summaries but no table with a row per school; the pages of the clusters hold
every registry school exactly once, every link resolves both ways, nothing is loaded from
outside, hostile strings stay text, small groups stay hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from pipeline.config.params import load_params
from pipeline.core.errors import PipelineError
from pipeline.report import context as report_context
from pipeline.report import pages as report_pages
from pipeline.report import site
from pipeline.report.render import css_string
from pipeline.report import tables as report_tables
from pipeline.report.sections import CLUSTER_PARTS, per_school
from report_data import HOSTILE_SCRIPT, build_site, page_problems

ROWS = 2  # schools per cluster page: the history's clusters take one to two pages each


def _build(folder: Path, **report) -> tuple[Path, report_context.ReportContext]:
    """The hand-built history with hostile strings, built as the runner does with these
    `report:` parameters: the newest year's folder and its context."""
    reports = build_site(folder, hostile=True, report=report)
    newest = max((p for p in reports.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    params = load_params(folder / "params" / f"{newest.name}.yaml", check_files=False)
    return newest, report_context.build_context(params)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("large"), cluster_pages_from=1, cluster_page_rows=ROWS)


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _school_links(page: BeautifulSoup) -> list[str]:
    return [a["href"] for a in page.find_all("a", href=True) if "schools/" in a["href"]]


def test_analytic_page_has_no_table_per_school(large):
    year, ctx = large
    page = soup(year / "index.html")
    sc = ctx.data["scores.csv"]
    schools = {str(v).strip() for v in [*sc["school_name"], *sc["school_code"]]}
    for table in page.find_all("table"):             # no row names a school (a table of files may)
        if "файлы" in table.find("caption").get_text():
            continue
        cells = {td.get_text(" ", strip=True) for td in table.find_all(["td", "th"])}
        assert not cells & schools, (table.find("caption"), cells & schools)
    assert not _school_links(page)                    # no list of schools, no link to any of them
    assert not page.select("ul.school-list")
    for name in ("ranking", "heatmap", "targets"):     # the sections keep their place and summaries
        assert page.find(id=name) is not None
    assert page.find(id="ranking").find("a", href="clusters/index.html")
    assert page.find("figure")                        # the charts stay
    clusters = page.find(id="ranking").find("table")
    assert [th.get_text() for th in clusters.find("thead").find_all("th")][0] == "Кластер"


def test_cluster_pages_hold_every_school_once(large):
    year, ctx = large
    pages = per_school.cluster_pages(ctx)
    files = sorted((year / "clusters").glob("*.html"))
    assert {p.name for p in files} == {"index.html", *(p.file for p in pages)}
    assert max(len(p.codes) for p in pages) <= ROWS and any(p.parts > 1 for p in pages)
    ranked: list[str] = []
    for p in pages:
        html = soup(year / "clusters" / p.file)
        ranking = html.find(id="ranking")
        ranked += [a["href"].removeprefix("../schools/") for a in ranking.find_all("a", href=True)]
        assert html.find("h1").get_text() == p.title
        for part in CLUSTER_PARTS:
            if part.shown(ctx):
                section = html.find(id=part.name)
                assert section is not None and section.find("h2")
    expected = sorted(report_tables.school_page(c) for c in ctx.data["scores.csv"]["school_code"])
    assert sorted(ranked) == expected                 # every registry school exactly once
    assert len(set(ranked)) == len(ranked)


def test_links_resolve_both_ways(large):
    year, ctx = large
    root = year.parent
    for page in [*sorted((year / "clusters").glob("*.html")), year / "index.html"]:
        assert page_problems(page, root) == [], page
    of = per_school.page_of_school(ctx)
    for school in sorted((year / "schools").glob("*.html")):
        html = soup(school)
        back = [a["href"] for a in html.find_all("a", href=True) if a["href"].startswith("../clusters/")]
        code = html.find("h1").find_parent("main").find(class_="meta").get_text().split()[2]
        assert back and back[0] == f"../{of[code]}", school
        assert (school.parent / back[0]).resolve().is_file()
        target = soup(school.parent / back[0])
        assert f"../schools/{school.name}" in _school_links(target)


def test_published_and_escaped(large):
    year, ctx = large
    listed = {p.as_posix() for p in site.publishable_files(year.parent)}
    for page in (year / "clusters").glob("*.html"):
        assert f"{year.name}/clusters/{page.name}" in listed
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text.lower() and HOSTILE_SCRIPT not in text
        html = soup(page)
        assert html.find("a", class_="skip-link") and html.find("main") and html.find("nav")
        for table in html.find_all("table"):
            assert table.find("caption") and table.find("th", scope="col")
        printed = html.find("style", media="print")    # the print stylesheet, the page's title on every sheet
        assert printed is not None and "@page" in printed.string
        assert f"--running-head: {css_string(html.title.get_text())};" in printed.string
    (year / "clusters" / "notes.html").write_text("x", encoding="utf-8")    # not ours: never published
    assert f"{year.name}/clusters/notes.html" not in {p.as_posix() for p in site.publishable_files(year.parent)}
    (year / "clusters" / "notes.html").unlink()


def test_small_groups_stay_hidden(large):
    year, ctx = large
    st = report_tables.published_school_table(ctx)
    hidden = st[st["small"].astype(bool) & st["submitted"].astype(bool)]
    assert len(hidden), "the history has a school with a small staff"
    raw = report_tables.school_table(ctx).set_index("school_code")
    of = per_school.page_of_school(ctx)
    for code, page in zip(hidden["school_code"], hidden["page"]):
        html = soup(year / of[code])
        row = html.find(id="ranking").find("a", href=f"../schools/{page}").find_parent("tr")
        cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
        total = f"{raw.loc[code, 'total_score']:.1f}".replace(".", ",")
        assert total not in cells[2] and "н/д" in cells[2]


def test_sizes_within_bounds(large):
    year, ctx = large
    # a cluster page holds ROWS schools: its size is bounded by its own rows, not the registry's
    pages = [year / "clusters" / p.file for p in per_school.cluster_pages(ctx)]
    per_row = max(p.stat().st_size for p in pages) / ROWS
    assert per_row < 60_000
    assert max(p.stat().st_size for p in (year / "schools").glob("*.html")) < 200_000


def test_below_the_bound_one_page(tmp_path):
    year, ctx = _build(tmp_path, cluster_pages_from=10_000)
    assert not (year / "clusters").exists()
    page = soup(year / "index.html")
    assert len(_school_links(page)) >= len(ctx.data["scores.csv"])
    assert page.select("ul.school-list")


def test_pages_of_an_earlier_run_removed(tmp_path):
    year, ctx = _build(tmp_path, cluster_pages_from=1, cluster_page_rows=ROWS)
    assert (year / "clusters" / "index.html").is_file()
    params = ctx.params.model_copy(update={"report": ctx.params.report.model_copy(update={"cluster_pages_from": 10_000})})
    report_pages.write_report_page(report_context.build_context(params), year)
    assert not (year / "clusters").exists()


@pytest.mark.parametrize("bad", [{"cluster_pages_from": 0}, {"cluster_page_rows": 0}, {"cluster_pages_from": "много"}])
def test_bound_validated(make_params, bad):
    with pytest.raises(PipelineError):
        load_params(make_params(report=bad), check_files=False)


def test_data_quality_lists_a_rules_actions_up_to_the_bound():
    """A rule whose action names each school («форма сопоставлена с кодом …») shows the first
    actions and how many more, not one per school (~1 MB of the page at 40,000 schools); a
    rule with few actions lists them all."""
    from types import SimpleNamespace

    import pandas as pd

    from pipeline.report.sections import monitoring

    n = 50
    rows = [{"school_code": f"{i:04d}", "rule": "info.code_normalized", "severity": "warning",
             "action": f"форма сопоставлена с кодом {i:06d} из реестра"} for i in range(n)]
    rows += [{"school_code": "0001", "rule": "checklist.bad_link", "severity": "warning", "action": a}
             for a in ("значение не используется в расчётах", "ссылка не открыта")]
    html = str(monitoring.data_quality_html(SimpleNamespace(data={"issues.csv": pd.DataFrame(rows)})))
    cells = {tr.find_all("td")[0].get_text(" ", strip=True) if tr.find("td") else "":
             [td.get_text(" ", strip=True) for td in tr.find_all(["td", "th"])]
             for tr in BeautifulSoup(html, "html.parser").find_all("tr")}
    many = next(r for r in cells.values() if any("000000" in c for c in r))
    assert many[-1].count("форма сопоставлена") == monitoring.ACTIONS_SHOWN
    assert f"и ещё {n - monitoring.ACTIONS_SHOWN}" in many[-1] and "results.xlsx" in many[-1]
    assert str(n) in many                                     # the count of findings stays whole
    few = next(r for r in cells.values() if any("ссылка не открыта" in c for c in r))
    assert "значение не используется в расчётах" in few[-1] and "и ещё" not in few[-1]
