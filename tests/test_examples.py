"""Every shipped methodology runs end to end on its example municipality (params/examples/<name>,
data/raw/examples/<name>) and its report shows only what the methodology has: no empty
tables, no «0 позиций», no checklist sections without a checklist, no targets without targets."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from bs4 import BeautifulSoup

from pipeline import sample
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "params" / "examples").iterdir() if p.is_dir())


def test_every_shipped_methodology_has_an_example():
    used = {load_params(p).methodology.name for p in (ROOT / "params").rglob("*.yaml")}
    shipped = {p.name for p in (ROOT / "methodology").glob("*.yaml")}
    assert shipped <= used, f"methodologies without a sample year: {sorted(shipped - used)}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_raw_data_is_what_the_generator_writes(name, tmp_path):
    params = load_params(next((ROOT / "params" / "examples" / name).glob("*.yaml")))
    sample.generate_example(tmp_path, params.methodology, years=[params.year], n_schools=24)
    fresh = {p.name: p.read_bytes() for p in (tmp_path / str(params.year)).iterdir()}
    committed = {p.name: p.read_bytes() for p in Path(params.raw_dir).iterdir()}
    assert fresh == committed, (f"run `python -m pipeline sample --methodology {params.methodology.relative_to(ROOT)} "
                                f"--out {Path(params.raw_dir).parent.relative_to(ROOT)} --years {params.year} --schools 24`")


def _empty_tables(soup: BeautifulSoup) -> list[str]:
    out = []
    for t in soup.find_all("table"):
        body = t.find("tbody") or t
        if not body.find_all("tr") or not [r for r in body.find_all("tr") if r.find("td")]:
            head = t.find_previous(["h2", "h3"])
            out.append(head.get_text(" ", strip=True) if head else "?")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_and_shows_only_what_its_methodology_has(name, example_root):
    params_dir = example_root(name) / "params"  # conftest: one run per session, shared with test_accessibility
    params = load_params(next(params_dir.glob("*.yaml")))
    m = load_methodology(params.methodology)
    page = params.reports_dir / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    text = " ".join(soup.get_text(" ").split())
    assert not _empty_tables(soup), f"empty tables in {name}: {_empty_tables(soup)}"
    assert "по 0 позиц" not in text and "0 из 0" not in text
    assert not re.search(r"\d[.,]0 из \d", text), "a count written as a float («33.0 из 36.0»)"
    partial = any(len(p.scale) > 2 for p in m.positions)
    assert ("жёлтый ◐ — частично" in text) == (m.has_checklist and partial), "the heat map's legend does not fit the scale"
    assert bool(soup.find(id="heatmap")) == m.has_checklist
    assert bool(soup.find(id="criteria")) == m.has_checklist
    assert bool(soup.find(id="targets")) == bool(m.targets)
    assert bool(soup.find(id="ranking")) == m.has_total
    assert ("Само­оценка" in text) == m.has_checklist
    assert ("Индекс актив­ности" in text) == bool(m.index_shares)
    if not m.has_checklist:
        assert "«Показатели»" not in text
    for w in m.warnings:
        assert w in text, "a warning of the methodology is not in the report"
    schools = sorted((params.reports_dir / "schools").glob("*.html"))
    assert len(schools) == 24
    school = BeautifulSoup(schools[0].read_text(encoding="utf-8"), "html.parser")
    labels = [d.get_text(strip=True) for d in school.select(".card-label")]
    assert ("Самооценка" in labels) == m.has_checklist and ("Индекс активности" in labels) == bool(m.index_shares)
    assert not _empty_tables(school)
    wb = openpyxl.load_workbook(params.reports_dir / "results.xlsx", read_only=True)
    assert wb["Результаты"].max_row == 26  # the title row, the header and 24 schools
    # the Word documents: no empty table, no «0 из 0», a letter per school with a result
    from test_documents import docx_problems

    docs = params.reports_dir / "documents"
    problems = [p for path in sorted(docs.rglob("*.docx")) for p in docx_problems(path)]
    assert not problems, f"documents of {name}: {problems}"
    assert list((docs / "letters").glob("*.docx"))
