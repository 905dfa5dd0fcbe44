"""Hostile strings: text a school writes into its form — markup, script links, Excel
formulas, 100,000 characters, control characters — travels through every stage as data and
never becomes markup in a page, a link that runs a script, or a formula in results.xlsx.

Forms are real workbooks (text cells written as Excel writes them); they go through ingest →
clean → score → recommendations as functions and through the report stage's public functions
(school pages, results.xlsx, the index.html export); the slow test runs the real command line
and checks every HTML it leaves, the auditor's notebooks included.

Processed CSV files carry the text exactly as the school wrote it, a text that a spreadsheet
would take for a formula with a leading apostrophe (pipeline/core/csvtext.py) that the
pipeline's readers take off: opened in LibreOffice they run no formula either. Everything meant
for people (HTML, results.xlsx) neutralises.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, write_params
from formbuilder import form_bytes, good_values
from openpyxl import load_workbook

import corpus

from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.core.csvtext import unprotect_frame
from pipeline.io.storage import read_table
from pipeline.report import context as report_context
from pipeline.report import excel
from pipeline.report import pages as report_pages
from pipeline.report import site
from pipeline.report import tables as report_tables

METHODOLOGY = load_methodology(ROOT / "methodology" / "default.yaml")

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = "<svg onload=alert(1)>"
JS_LINKS = ("javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>")
BREAKOUT = 'https://evil.example.ru/"onmouseover="alert(1)'   # a real http(s) address trying to leave its attribute
FORMULAS = ('=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+1", "=1+1", "\t=1+1")
LONG = "Приказ " + "Ж" * 100_000 + SCRIPT
CONTROL = "Приказ\x00 № 1\x07\x1b[31m \u202eпуск.exe\x1f\x0b"
CONTROL_KEPT = "Приказ № 1[31m пуск.exe"  # what is left: invisible characters are not text
RESPONSIBLE = '=HYPERLINK("http://evil","Петрова Анна Ивановна")'

REGISTRY = ("code,name,type\n0107,МБОУ СОШ № 7,СОШ\n0108,МБОУ СОШ № 8,СОШ\n0109,МБОУ СОШ № 9,СОШ\n"
            "0201,МКОУ ООШ с. Ивановка,ООШ\n0202,МКОУ ООШ с. Петровка,ООШ\n")
# the documents of 0107's positions scored 2 (rows of «Показатели»), each a hostile string
DOCUMENTS = [SCRIPT, IMG, SVG, *FORMULAS, LONG, CONTROL]


def _positions_with_evidence() -> list[tuple[str, int]]:
    """(code, row) of the positions the good form scores above 0 (rows from 4, in order)."""
    values = good_values(METHODOLOGY)
    return [(p.code, 4 + i) for i, p in enumerate(METHODOLOGY.positions) if values[f"checklist.{p.code}.score"]]


def hostile_forms() -> dict[str, bytes]:
    """File name → bytes: three schools' forms full of hostile text, and rejected files whose
    very names are hostile."""
    rows = _positions_with_evidence()
    out = {}
    # 0107: hostile documents, links, name and responsible
    data = form_bytes(METHODOLOGY, good_values(METHODOLOGY, "0107"))
    cells = {f"D{row}": corpus.inline(f"D{row}", doc) for (_, row), doc in zip(rows, DOCUMENTS)}
    links = [*JS_LINKS, BREAKOUT, SCRIPT, FORMULAS[0]]
    cells |= {f"E{row}": corpus.inline(f"E{row}", link) for (_, row), link in zip(rows, links)}
    data = corpus.patch_cells(data, corpus.CHECK, cells)
    data = corpus.patch_cells(data, corpus.INFO, {"B5": corpus.inline("B5", IMG + SCRIPT),
                                                  "B13": corpus.inline("B13", RESPONSIBLE)})
    out["0107.xlsx"] = data
    # 0108: hostile values where numbers, dates and scores belong (they reach issue messages)
    data = form_bytes(METHODOLOGY, good_values(METHODOLOGY, "0108", info__pupils=480))
    data = corpus.patch_cells(data, corpus.INFO, {"B5": corpus.inline("B5", FORMULAS[1]),
                                                  "B14": corpus.inline("B14", SCRIPT),
                                                  "B6": corpus.inline("B6", IMG)})
    data = corpus.patch_cells(data, corpus.STAFF, {"C6": corpus.inline("C6", "=1+1"), "C7": corpus.inline("C7", SVG)})
    data = corpus.patch_cells(data, corpus.CHECK, {f"C{rows[0][1]}": corpus.inline(f"C{rows[0][1]}", "<b>2</b>"),
                                                   f"C{rows[1][1]}": corpus.inline(f"C{rows[1][1]}", FORMULAS[2])})
    out["0108.xlsx"] = data
    # 0109, 0201, 0202: ordinary forms, so that every cluster has schools
    out["0109.xlsx"] = form_bytes(METHODOLOGY, good_values(METHODOLOGY, "0109", info__pupils=300))
    for code, pupils in (("0201", 90), ("0202", 120)):
        out[f"{code}.xlsx"] = form_bytes(METHODOLOGY, good_values(METHODOLOGY, code, info__school_type="ООШ", info__pupils=pupils,
                                                                  info__school_name="МКОУ ООШ"))
    # a form whose school code is hostile, and files whose names are
    data = form_bytes(METHODOLOGY, good_values(METHODOLOGY, "0107"))
    out["чужая.xlsx"] = corpus.patch_cells(data, corpus.INFO, {"B4": corpus.inline("B4", SVG)})
    out[f"{IMG}.xlsx"] = b"not a workbook"
    out['=HYPERLINK("http:\\\\evil","x").xlsx'] = b"not a workbook"
    return out


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """The hostile year through every stage as functions, and its report built with the report
    stage's public functions (index.html exported from an executed-notebook stand-in)."""

    root = tmp_path_factory.mktemp("hostile")
    raw = root / "raw" / "2026"
    raw.mkdir(parents=True)
    (raw / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    for name, data in hostile_forms().items():
        (raw / name).write_bytes(data)
    params_file = write_params(root, raw_dir=raw)
    params = load_params(params_file)
    tables = corpus.run_stages(params, METHODOLOGY, until="recommendations")
    out = params.reports_dir
    ctx = report_context.build_context(params, METHODOLOGY)
    report_pages.write_school_pages(ctx, out)
    excel.write_results(ctx, out / "results.xlsx")
    report_pages.write_report_page(ctx, out)
    site.build_index(params.site_dir)
    return params, tables


# --------------------------------------------------------------------------------------------
# what may not be in a page, a workbook
# --------------------------------------------------------------------------------------------

_URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "background", "poster")


def markup_problems(html: str, *, published: bool = True) -> list[str]:
    """Markup that a string from a form could have become: a script, an event handler, a link
    or resource with a script URL. Audit pages (nbconvert) carry nbconvert's own scripts, so
    there only scripts that mention alert( count."""
    soup = BeautifulSoup(html, "html.parser")
    problems = []
    for tag in soup.find_all("script"):
        if published or "alert(" in tag.get_text():
            problems.append(f"script: {str(tag)[:100]}")
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            if attr.lower().startswith("on"):
                problems.append(f"<{tag.name} {attr}=…>")
            if attr.lower() in _URL_ATTRS:
                v = re.sub(r"[\x00-\x20]", "", " ".join(value) if isinstance(value, list) else str(value)).lower()
                if v.startswith(("javascript:", "vbscript:", "data:text/html")):
                    problems.append(f"<{tag.name} {attr}={value[:60]}>")
        if tag.name == "img" and tag.get("src") == "x":
            problems.append("the form's <img src=x>")
    for ch in sorted(set(re.findall("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]", html))):
        problems.append(f"invisible character {ch!r}")
    return problems


def excel_problems(path: Path) -> list[str]:
    wb = load_workbook(path)
    problems = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                where = f"{ws.title}!{c.coordinate}"
                if c.data_type == "f":
                    problems.append(f"formula in {where}: {str(c.value)[:60]}")
                if isinstance(c.value, str):
                    if c.value[:1] in ("=", "+", "-", "@", "\t", "\r") and not c.quotePrefix:
                        problems.append(f"{where} starts with {c.value[:1]!r} without the quote prefix")
                    if len(c.value) > 32767:
                        problems.append(f"{where} holds {len(c.value)} characters (Excel's limit is 32767)")
                    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", c.value):
                        problems.append(f"{where} holds a control character")
    return problems


def pages(params) -> list[Path]:
    site_dir = params.site_dir
    return sorted(site_dir.glob("index.html")) + sorted(params.reports_dir.glob("index.html")) + \
        sorted((params.reports_dir / "schools").glob("*.html"))


# --------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------


def test_hostile_forms_are_read_and_kept_as_data(year):
    params, tables = year
    files = tables["files.csv"].set_index("file")
    assert set(files.loc[["0107.xlsx", "0108.xlsx", "0109.xlsx", "0201.xlsx", "0202.xlsx"], "status"]) == {"accepted"}
    assert files.loc["чужая.xlsx", "status"] == "rejected" and SVG in files.loc["чужая.xlsx", "reason"]
    assert files.loc[f"{IMG}.xlsx", "rule"] == "file.not_xlsx"
    # processed CSVs are machine data: the text is kept exactly as written (line breaks as \n)
    ck = tables["checklist.csv"]
    docs = dict(zip(ck.loc[ck["school_code"] == "0107", "position"], ck.loc[ck["school_code"] == "0107", "document"]))
    for (code, _), doc in zip(_positions_with_evidence(), DOCUMENTS):
        assert docs[code] == (CONTROL_KEPT if doc == CONTROL else doc.strip()), code
    profile = tables["profile.csv"].set_index("school_code")
    assert profile.loc["0107", "responsible"] == RESPONSIBLE
    links = ck.loc[ck["school_code"] == "0107"].set_index("position")
    for (code, _), link in zip(_positions_with_evidence(), [*JS_LINKS, BREAKOUT]):
        assert links.loc[code, "link"] == link.strip()
        assert bool(links.loc[code, "link_ok"]) == (link == BREAKOUT)
    issues = tables["issues.csv"]
    assert issues["message"].str.contains("=1+1", regex=False).any()
    assert issues["message"].str.contains(SCRIPT, regex=False).any()
    scores = tables["scores.csv"].set_index("school_code")
    assert scores.loc["0107", "checklist_pct"] > 0  # hostile documents are still documents


def test_no_markup_survives_in_any_page(year):
    params, _ = year
    found = pages(params)
    assert len(found) >= 2 + 5
    for page in found:
        assert markup_problems(page.read_text(encoding="utf-8")) == [], page.name


def test_hostile_text_is_shown_as_text_and_links_only_when_safe(year):
    params, _ = year
    page = params.reports_dir / "schools" / report_tables.school_page("0107")
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    text = soup.get_text()
    for doc in (SCRIPT, IMG, FORMULAS[0]):
        assert doc in text, doc  # shown as the school wrote it, escaped
    hrefs = [a["href"] for a in soup.find_all("a", href=True)]
    assert not [h for h in hrefs if "alert" in h.lower() and not h.startswith("https://evil.example.ru/")]
    for a in soup.find_all("a", href=re.compile("^https?:")):
        assert {"noopener", "noreferrer"} <= set(a.get("rel") or [])
    assert RESPONSIBLE not in page.read_text(encoding="utf-8")  # personal data never published
    assert "Петрова" not in " ".join(p.read_text(encoding="utf-8") for p in pages(params))


def test_results_xlsx_has_no_formula_and_no_active_text(year):
    params, _ = year
    path = params.reports_dir / "results.xlsx"
    assert excel_problems(path) == []
    wb = load_workbook(path)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert RESPONSIBLE in texts  # internal: kept, as text
    assert any(FORMULAS[1] in t for t in texts)


def _libreoffice_resave(path: Path, out: Path) -> Path:
    """`path` opened and saved again as .xlsx by LibreOffice headless (which evaluates
    formulas on opening: a CSV cell «=1+1» comes back as a formula)."""
    profile = out / "profile"
    subprocess.run([shutil.which("soffice"), "--headless", f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "xlsx",
                    "--outdir", str(out / "lo"), str(path)], check=True, capture_output=True, timeout=300)
    return out / "lo" / (path.stem + ".xlsx")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed on this machine")
def test_results_xlsx_opened_in_libreoffice_runs_no_formula(year, tmp_path):
    """What a person opens: results.xlsx, opened by a spreadsheet program, holds every hostile
    string as text and not one formula or evaluated value."""
    params, _ = year
    again = load_workbook(_libreoffice_resave(params.reports_dir / "results.xlsx", tmp_path))
    cells = [c for ws in again.worksheets for row in ws.iter_rows() for c in row]
    assert [f"{c.parent.title}!{c.coordinate}" for c in cells if c.data_type == "f"] == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    for hostile in (RESPONSIBLE, FORMULAS[0], FORMULAS[1], FORMULAS[2], FORMULAS[4]):
        assert any(hostile in t for t in texts), hostile


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed on this machine")
def test_no_csv_is_published_and_processed_csvs_open_without_formulas(year, tmp_path):
    """The decision (README, «Reliability: input files»): nothing published for people is a
    CSV; a processed CSV opened in a spreadsheet runs no formula (its formula-like texts carry a
    leading apostrophe), and the pipeline reads back exactly what the school wrote."""
    params, _ = year
    assert sorted(params.reports_dir.rglob("*.csv")) == [] and sorted(params.site_dir.rglob("*.csv")) == []
    for name in ("profile.csv", "checklist.csv", "forms.csv"):
        opened = load_workbook(_libreoffice_resave(params.processed_dir / name, tmp_path / name)).active
        assert [c.coordinate for row in opened.iter_rows() for c in row if c.data_type == "f"] == [], name
    raw = pd.read_csv(params.processed_dir / "profile.csv", dtype=str, keep_default_na=False)
    assert "'" + RESPONSIBLE in set(raw["responsible"])  # what another tool reading the file sees
    assert RESPONSIBLE in set(unprotect_frame(raw)["responsible"])
    assert RESPONSIBLE in set(read_table(params.processed_dir, "profile.csv")["responsible"])  # exactly as written
    documents = set(read_table(params.processed_dir, "checklist.csv")["document"])
    assert {FORMULAS[0], FORMULAS[1], FORMULAS[2], FORMULAS[3], FORMULAS[4]} <= documents


@pytest.mark.slow
def test_cli_run_on_hostile_forms(tmp_path):
    """The real command line over the hostile year: every HTML it writes — the published report
    and school pages, and the auditor's notebooks — is free of markup from the forms, and
    results.xlsx of formulas."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    for name, data in hostile_forms().items():
        (raw / name).write_bytes(data)
    params_file = write_params(tmp_path, raw_dir=raw)
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--params", str(params_file), "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    params = load_params(params_file)
    published = pages(params)
    assert (params.reports_dir / "index.html") in published and len(published) >= 7
    for page in published:
        assert markup_problems(page.read_text(encoding="utf-8")) == [], page
    audit = sorted((params.reports_dir / "audit").glob("*.html"))
    assert len(audit) == 5
    for page in audit:
        assert markup_problems(page.read_text(encoding="utf-8"), published=False) == [], page
    assert excel_problems(params.reports_dir / "results.xlsx") == []
    ck = unprotect_frame(pd.read_csv(params.processed_dir / "checklist.csv", dtype=str, keep_default_na=False))
    assert SCRIPT in set(ck["document"]) and FORMULAS[0] in set(ck["document"])
