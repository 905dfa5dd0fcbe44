"""The published site: every page self-contained and linked relatively, strings from forms
kept as text, no personal data, small groups suppressed, the index and publish exact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup


from pipeline.core.errors import PipelineError
from pipeline.config.params import load_params
from pipeline.core import privacy
from pipeline.report import context as report_context
from pipeline.report import pages as report_pages
from pipeline.report import school as report_school
from pipeline.report import sections as report_sections
from pipeline.report import site
from pipeline.report import tables as report_tables
from report_data import (HOSTILE_FORMULA, HOSTILE_LINK, HOSTILE_SCRIPT, RESPONSIBLE, build_site,
                         page_problems, write_history)


@pytest.fixture(scope="module")
def built(crafted_site) -> Path:
    """The hand-built site with hostile strings, shared by the run (conftest): read only."""
    return crafted_site


def published_pages(root: Path) -> list[Path]:
    """The published HTML pages (the documents beside them are PDF or DOCX)."""
    return [root / p for p in site.publishable_files(root) if p.suffix == ".html"]


def published_documents_text(root: Path) -> dict[Path, str]:
    """The text of every published document (PDF through pypdf, DOCX through python-docx)."""
    out = {}
    for p in site.publishable_files(root):
        if p.suffix == ".pdf":
            import pypdf

            out[p] = "\n".join(page.extract_text() for page in pypdf.PdfReader(str(root / p)).pages)
        elif p.suffix == ".docx":
            import docx

            d = docx.Document(str(root / p))
            out[p] = "\n".join([par.text for par in d.paragraphs]
                               + [c.text for t in d.tables for row in t.rows for c in row.cells])
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_layout_of_the_built_site(built):
    assert (built / "index.html").is_file()
    for year in (2025, 2026):
        assert (built / str(year) / "index.html").is_file()
        assert len(list((built / str(year) / "schools").glob("*.html"))) == 9  # every registry school
        assert (built / str(year) / "results.xlsx").is_file()


def test_every_link_resolves_and_nothing_is_external(built):
    problems = {str(p.relative_to(built)): page_problems(p, built) for p in published_pages(built)}
    assert {k: v for k, v in problems.items() if v} == {}


def test_year_report_links_every_school_and_back(built):
    page = soup(built / "2026" / "index.html")
    hrefs = {a["href"] for a in page.find_all("a", href=True)}
    for school in (built / "2026" / "schools").glob("*.html"):
        assert f"schools/{school.name}" in hrefs
        back = {a["href"] for a in soup(school).find_all("a", href=True)}
        assert "../index.html" in back and "../../index.html" in back
    assert "../index.html" in hrefs  # to the site index


def test_report_has_no_code_prompts_or_streams(built):
    text = (built / "2026" / "index.html").read_text(encoding="utf-8")
    for absent in ("display(HTML", "report.section", "params_file", "отладочный вывод", "UserWarning", "Этап 5 (для аудитора)",
                   "cell-id=", "jp-", "require.js", "mathjax", "MathJax"):
        assert absent not in text, absent
    assert "<script" not in text
    bare = re.sub(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+", "", text)
    assert re.findall(r"https?://[^\s\"'<>]+", bare.replace("http://www.w3.org/2000/svg", "")) == []
    # the header of the order is there
    params = load_params(built.parent / "params" / "2026.yaml", check_files=False)
    assert params.header.order_number in text and params.header.approved_by in text
    for e in params.header.executors:
        assert e in text


def test_report_follows_the_management_cycle(built):
    page = soup(built / "2026" / "index.html")
    ids = [s.get("id") for s in page.find_all("section")]
    cycle = [a for a, _ in report_sections.CYCLE]
    assert [i for i in ids if i in cycle] == cycle
    for anchor in ("summary", "distribution", "ranking", "heatmap", "criteria", "targets", "dynamics", "appendix"):
        assert page.find(id=anchor) is not None, anchor
    assert len(page.find_all("img")) >= 6  # charts embedded


def test_hostile_strings_from_forms_stay_text(built):
    for p in published_pages(built):
        html = p.read_text(encoding="utf-8")
        assert "<script>alert(1)</script>" not in html
        assert 'href="javascript:' not in html.replace(" ", "").lower()
    page = soup(built / "2026" / "schools" / "004.html")
    text = page.get_text()
    assert HOSTILE_SCRIPT in text          # shown as text, escaped
    assert HOSTILE_FORMULA in text
    assert HOSTILE_LINK in text            # shown, but never a link
    assert not [a for a in page.find_all("a") if "javascript" in a.get("href", "").lower()]
    links = page.select("td.link a")
    assert links and all(a["href"].startswith(("http://", "https://")) for a in links)
    assert all({"noopener", "noreferrer"} <= set(a.get("rel", [])) for a in links)


def test_no_personal_data_on_published_pages(built):
    for p in published_pages(built):
        html = p.read_text(encoding="utf-8")
        assert RESPONSIBLE not in html, p
        assert "Петров" not in html, p
    for p, text in published_documents_text(built).items():  # the documents published beside the pages
        assert RESPONSIBLE not in text and "Петров" not in text, p
    # the internal Excel keeps it
    import openpyxl

    wb = openpyxl.load_workbook(built / "2026" / "results.xlsx")
    values = {c.value for row in wb["Сведения об ОО"].iter_rows() for c in row}
    assert RESPONSIBLE in values


def test_small_groups_are_suppressed(built):
    small = "н/д (менее 5)"
    # school 005 has 3 young teachers: S7 and T4 are not published; 008 has 4 teachers in all
    p005 = soup(built / "2026" / "schools" / "005.html")
    row = [tr for tr in p005.select("tr") if tr.find("td") and tr.find("td").get_text() == "S7"][0]
    assert small in row.get_text()
    row = [tr for tr in p005.select("tr") if tr.find("td") and tr.find("td").get_text() == "T4"][0]
    assert small in row.get_text()
    p008 = soup(built / "2026" / "schools" / "008.html")
    text = p008.get_text()
    assert text.count(small) >= 8  # total, activity index, every share
    for code in ("S1", "S2", "S3", "S4", "S5", "S6"):
        cells = p008.find(string=code).find_parent("tr").find_all("td")
        assert cells[2].get_text() == small  # the school's own value; the cluster's is over more people
    ranking = soup(built / "2026" / "index.html").find(id="ranking").get_text()
    assert small in ranking


def test_site_index_lists_years_newest_first(built):
    page = soup(built / "index.html")
    years = [a["href"] for a in page.select("a.year-link")]
    assert years == ["2026/index.html", "2025/index.html"]


def test_build_index_only_lists_built_years(tmp_path):
    (tmp_path / "2024").mkdir()                       # a year folder without a report
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / "index.html").write_text("<title>Справка 2023 — 2023</title>", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    site.build_index(tmp_path)
    page = soup(tmp_path / "index.html")
    assert [a["href"] for a in page.select("a.year-link")] == ["2023/index.html"]
    assert page_problems(tmp_path / "index.html", tmp_path) == []


def test_publish_copies_exactly_the_publishable_set(built, tmp_path):
    out = tmp_path / "public"
    n = site.publish(built, out)
    copied = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != site.MARKER)
    expected = ["2025/index.html", "2026/index.html", "index.html"] + sorted(
        f"{y}/schools/{c}.html" for y in (2025, 2026) for c in [f"00{i}" for i in range(1, 10)])
    expected += [f"{y}/documents/index.html" for y in (2025, 2026)]  # the documents page (no documents here)
    assert copied == sorted(expected)
    assert n == len(expected)
    assert not any(p.name in ("results.xlsx", "manifest.json") or "audit" in p.parts for p in out.rglob("*"))
    # the copy works on its own
    problems = {str(p): page_problems(p, out) for p in out.rglob("*.html")}
    assert {k: v for k, v in problems.items() if v} == {}


def test_publish_refuses_an_empty_site_and_a_folder_inside_it(built, tmp_path):
    with pytest.raises(PipelineError, match="нет построенных отчётов"):
        site.publish(tmp_path / "nothing", tmp_path / "out")
    with pytest.raises(PipelineError, match="внутри папки отчётов"):
        site.publish(built, built / "public")


def test_cli_publish(built, tmp_path):
    from pipeline.cli import main

    assert main(["publish", "--reports", str(built), "--out", str(tmp_path / "pub")]) == 0
    assert (tmp_path / "pub" / "2026" / "index.html").is_file()


def test_pages_are_deterministic(tmp_path):
    params_path = write_history(tmp_path, hostile=True)
    params = load_params(params_path, check_files=False)
    a = report_pages.write_report_page(report_context.build_context(params), tmp_path / "a").read_bytes()
    b = report_pages.write_report_page(report_context.build_context(params), tmp_path / "b").read_bytes()
    assert a == b
    ctx = report_context.build_context(params)
    first = [p.read_bytes() for p in report_pages.write_school_pages(ctx, tmp_path / "s1")]
    second = [p.read_bytes() for p in report_pages.write_school_pages(report_context.build_context(params), tmp_path / "s2")]
    assert first == second


def test_school_pages_of_schools_gone_from_the_registry_are_removed(tmp_path):
    params = load_params(write_history(tmp_path), check_files=False)
    ctx = report_context.build_context(params)
    stale = tmp_path / "out" / "schools" / "777.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    report_pages.write_school_pages(ctx, tmp_path / "out")
    assert not stale.exists()


def test_school_page_from_its_dict_view_is_the_same_page(tmp_path):
    ctx = report_context.build_context(load_params(write_history(tmp_path, hostile=True), check_files=False))
    for code in ("001", "004", "008", "009"):
        fast = report_pages.render_school_page(report_school.school_page_data(ctx, code), ctx.params)
        assert report_pages.render_school_page(report_school.school_view(ctx, code), ctx.params) == fast


def test_forked_workers_write_the_same_pages(tmp_path, monkeypatch):
    params = load_params(write_history(tmp_path, hostile=True), check_files=False)
    one = report_pages.write_school_pages(report_context.build_context(params), tmp_path / "one")
    monkeypatch.setattr(report_pages, "_page_workers", lambda n: 2)
    two = report_pages.write_school_pages(report_context.build_context(params), tmp_path / "two")
    assert [p.name for p in two] == [p.name for p in one]
    assert [p.read_bytes() for p in two] == [p.read_bytes() for p in one]
    assert {p.name for p in (tmp_path / "two" / "schools").iterdir()} == {p.name for p in one}  # no temporary files
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in two)


def test_school_page_file_names_are_safe():
    assert report_tables.school_page("0101") == "0101.html"
    odd = report_tables.school_page("../01 2")
    assert "/" not in odd and ".." not in odd and odd.endswith(".html")
    assert report_tables.school_page("01 2") != report_tables.school_page("01_2")


@pytest.mark.slow
def test_report_notebook_end_to_end(tmp_path):
    """05_report executed by papermill on two processed years, exported, indexed."""
    root = build_site(tmp_path, hostile=True, execute=True)
    problems = {str(p.relative_to(root)): page_problems(p, root) for p in published_pages(root)}
    assert {k: v for k, v in problems.items() if v} == {}
    html = (root / "2026" / "index.html").read_text(encoding="utf-8")
    assert RESPONSIBLE not in html and "params_file" not in html and "<script" not in html
    assert "Аналитическая справка" in html
    nb = (tmp_path / "executed" / "2026" / "05_report.ipynb").read_text(encoding="utf-8")
    assert "stage_header" in nb  # the audit copy keeps the code
