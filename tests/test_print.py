"""Print: the analytic report and the school pages on A4 paper, and documents/report.pdf.

The pages carry their print stylesheet inline (pipeline/report/templates/print.css, media
"print"); report.pdf is made from the published index.html by WeasyPrint in the report stage.
The end-to-end tests share one run of the embedded sample (every year), look at report.pdf with
pypdf, and print the pages with headless Chromium (the command line's --print-to-pdf, and the
DevTools protocol through tests/chromium.py's client): they skip, with the reason, where
Chromium is not installed.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from pipeline.report.render import TEMPLATES, _render, css_string
# the Chromium of the browser tests: found (or installed) once, driven over DevTools
from chromium import FLAGS  # the browser, tab and chromium fixtures come from conftest.py

ROOT = Path(__file__).resolve().parents[1]
A4 = (595.28, 841.89)  # points
MAX_SCHOOL_SHEETS = 2


# ---------------------------------------------------------------------------- the stylesheet


def _css_unescape(value: str) -> str:
    """A CSS string's text: hex escapes («\\22 ») back to their characters."""
    return re.sub(r"\\([0-9a-fA-F]{1,6}) ?", lambda m: chr(int(m.group(1), 16)), value)


@pytest.mark.parametrize("head", [
    'Школа «№ 1» — "итоги" \\ 2026',
    "</style><script>alert(1)</script>",
    "строка\nс переводом; } body { display: none",
])
def test_the_running_header_is_a_css_string_that_cannot_leave_its_style_element(head):
    page = _render("index.html.j2", years=[], title="Т", organization="О", running_head=head, running_foot=head)
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find("script") is None
    styles = soup.find_all("style")
    assert [s.get("media") for s in styles] == [None, "print"]
    printed = styles[1].string
    m = re.search(r'--running-head: "([^"]*)"; --running-foot: "([^"]*)"; }', printed)
    assert m, printed[-300:]
    assert _css_unescape(m.group(1)) == head and _css_unescape(m.group(2)) == head
    assert "<" not in m.group(1) and "\n" not in m.group(1)
    assert str(css_string('a"b')) == '"a\\22 b"'


def test_print_css_sets_a4_page_numbers_and_loads_nothing():
    css = (TEMPLATES / "print.css").read_text(encoding="utf-8")
    assert re.search(r"@page\s*{[^@]*size:\s*A4", css)
    assert 'counter(page) " из " counter(pages)' in css
    assert "var(--running-head" in css
    assert "thead { display: table-header-group; }" in css
    assert "url(" not in css and "@import" not in css
    assert "@media print" not in (TEMPLATES / "style.css").read_text(encoding="utf-8"), "print rules belong in print.css"


def test_every_page_of_a_site_inlines_the_print_stylesheet(crafted_site):
    site = crafted_site
    pages = [site / "2026" / "index.html", *sorted((site / "2026" / "schools").glob("*.html"))]
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert soup.html.get("lang") == "ru"
        printed = soup.find("style", media="print")
        assert printed is not None and "@page" in printed.string, page.name
        head = _css_unescape(re.search(r'--running-head: "([^"]*)"', printed.string).group(1))
        assert head == soup.title.get_text(), page.name  # the page's own title runs on every sheet
    assert not (site / "2026" / "print.css").exists()  # inlined, never a file beside the page


def test_a_report_of_more_schools_than_the_limit_gets_a_one_page_notice_instead(tmp_path):
    """report.pdf_max_schools: a regional report of hundreds of pages is not laid out within the
    run; the PDF says why and what to do (the same bytes every time)."""
    import pypdf

    from pipeline.report import pdf

    (tmp_path / "index.html").write_text("<p>не читается при превышении</p>", encoding="utf-8")
    path = pdf.write_report_pdf(tmp_path, n_schools=1003, max_schools=300)
    first = path.read_bytes()
    reader = pypdf.PdfReader(path)
    text = " ".join(reader.pages[0].extract_text().split())
    assert len(reader.pages) == 1 and _a4(reader.pages[0])
    assert "1003 ОО" in text and "report.pdf_max_schools" in text and "index.html" in text
    assert pdf.write_report_pdf(tmp_path, n_schools=1003, max_schools=300).read_bytes() == first
    small = pdf.write_report_pdf(tmp_path, n_schools=300, max_schools=300)
    assert "не читается при превышении" in pypdf.PdfReader(small).pages[0].extract_text()


# ---------------------------------------------------------------------------- one run of the sample


@pytest.fixture(scope="module")
def sample(sample_reports) -> Path:
    """The embedded sample run through every stage of every year; returns the reports folder."""
    return sample_reports


def _text(s: str) -> str:
    """Text to compare: no whitespace, no soft or hyphenation hyphens."""
    return re.sub(r"[\s\u00ad\u2010]+", "", s)


def _a4(page) -> bool:
    box = page.mediabox
    return abs(float(box.width) - A4[0]) <= 1 and abs(float(box.height) - A4[1]) <= 1


def _images_drawn(reader) -> set[int]:
    """The image objects a page of the PDF really draws (its content's «/Name Do»)."""
    drawn = set()
    for page in reader.pages:
        xobjects = page["/Resources"].get_object().get("/XObject")
        contents = page.get_contents()
        if xobjects is None or contents is None:
            continue
        xobjects = xobjects.get_object()
        content = contents.get_data()
        for name in set(re.findall(rb"/([^\s/]+)\s+Do\b", content)):
            ref = xobjects.get("/" + name.decode())
            if ref is not None and ref.get_object().get("/Subtype") == "/Image":
                drawn.add(ref.idnum)
    return drawn


@pytest.mark.slow
@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_report_pdf_is_a4_with_header_page_numbers_every_heading_and_every_chart(sample, year):
    import pypdf

    html = sample / str(year) / "index.html"
    pdf = sample / str(year) / "documents" / "report.pdf"
    assert pdf.is_file(), "the report stage writes documents/report.pdf"
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    reader = pypdf.PdfReader(pdf)
    n = len(reader.pages)
    assert n >= 5
    head = _text(soup.title.get_text())
    texts = []
    for i, page in enumerate(reader.pages, 1):
        assert _a4(page), f"page {i}: {page.mediabox}"
        text = page.extract_text()
        assert f"Страница {i} из {n}" in text, f"page {i} has no page number"
        assert head in _text(text), f"page {i} has no running header"
        body = _text(text).replace(head, "").replace(_text(f"Страница {i} из {n}"), "")
        assert len(body) > 80, f"page {i} is (nearly) empty: {text!r}"
        texts.append(text)
    whole = _text(" ".join(texts))
    headings = [h.get_text(" ") for h in soup.find_all(["h1", "h2", "h3"])]
    assert len(headings) > 10
    missing = [h for h in headings if _text(h) not in whole]
    assert not missing, f"headings of the page missing from report.pdf: {missing}"
    assert len(_images_drawn(reader)) == len(soup.find_all("img")) > 0, "every chart of the page is drawn"


@pytest.mark.slow
def test_report_pdf_names_no_folder_and_links_from_beside_the_page(sample, tmp_path):
    """report.pdf is the same bytes whichever folder the year is built in (verify re-runs it
    elsewhere), and its links to school pages work from documents/, where it lies."""
    import io
    import shutil

    import pypdf

    from pipeline.report import pdf

    # the report stage's own report.pdf, made in the shared run's folder, and the same page's
    # PDF made again in another folder
    copies = [(sample / "2026" / "documents" / "report.pdf").read_bytes()]
    shutil.copytree(sample / "2026", tmp_path / "a" / "2026")
    copies.append(pdf.report_pdf_bytes(tmp_path / "a" / "2026" / "index.html"))
    assert copies[0] == copies[1]
    assert str(tmp_path).encode() not in copies[0] and str(sample).encode() not in copies[0]
    uris = [a.get_object()["/A"].get("/URI") for p in pypdf.PdfReader(io.BytesIO(copies[0])).pages
            for a in (p.get("/Annots") or []) if "/A" in a.get_object()]
    school_links = [u for u in uris if u and "schools/" in u]
    assert school_links and all(u.startswith("../schools/") for u in school_links), school_links[:5]
    assert all((sample / "2026" / "documents" / u).resolve().is_file() for u in school_links)


@pytest.mark.slow
def test_report_pdf_repeats_table_headers_on_continuation_pages(sample):
    """A table running over a page break shows its header again: the follow-up table of 2026
    (one row per indicator) starts on one page and ends on the next."""
    import pypdf

    reader = pypdf.PdfReader(sample / "2026" / "documents" / "report.pdf")
    header = _text("Рекомендаций Устранён Улучшение")
    pages = [i for i, p in enumerate(reader.pages) if header in _text(p.extract_text())]
    assert len(pages) >= 2 and pages == list(range(pages[0], pages[0] + len(pages))), pages


# ---------------------------------------------------------------------------- Chromium


def _print_cli(chromium: str, page: Path, out: Path) -> Path:
    """Print a page as a person does: the browser's own print, its default header and footer on."""
    subprocess.run([chromium, *FLAGS, f"--user-data-dir={out.parent / 'profile'}", f"--print-to-pdf={out}",
                    page.resolve().as_uri()], check=True, capture_output=True, timeout=180)
    return out


@pytest.mark.slow
def test_chromium_prints_the_report_on_a4_with_page_numbers_and_no_browser_path(sample, chromium, tmp_path):
    import pypdf

    reader = pypdf.PdfReader(_print_cli(chromium, sample / "2026" / "index.html", tmp_path / "report.pdf"))
    n = len(reader.pages)
    assert n >= 5
    title = _text(BeautifulSoup((sample / "2026" / "index.html").read_text(encoding="utf-8"), "html.parser").title.get_text())
    for i, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        assert _a4(page), f"page {i}: {page.mediabox}"
        assert f"Страница {i} из {n}" in text
        assert title in _text(text)
        assert "file://" not in text and "file:" not in _text(text), f"page {i} prints the browser's path"


def _evaluate(browser, session: str, expression: str):
    return browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                        session=session)["result"]["value"]


@pytest.mark.slow
def test_every_school_page_prints_on_at_most_two_sheets(sample, tab):
    import io

    import pypdf

    pages = sorted(sample.glob("*/schools/*.html"))
    assert len(pages) >= 100
    over = []
    for page in pages:
        session = tab.load(page.resolve().as_uri())
        data = tab.browser.send("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True},
                                session=session, timeout=120)["data"]
        reader = pypdf.PdfReader(io.BytesIO(base64.b64decode(data)))
        assert _a4(reader.pages[0])
        if len(reader.pages) > MAX_SCHOOL_SHEETS:
            over.append(f"{page.relative_to(sample)}: {len(reader.pages)}")
    assert not over, f"school pages printing on more than {MAX_SCHOOL_SHEETS} sheets: {over}"


# every header cell against its right neighbour, and every table's frame against its content
_LAYOUT = """(() => {
  const overlaps = [];
  for (const tr of document.querySelectorAll('table.data thead tr')) {
    const cells = Array.from(tr.children);
    for (let i = 0; i + 1 < cells.length; i++) {
      const next = cells[i + 1].getBoundingClientRect();
      if (next.width === 0) continue;   // a column not shown (in print: the evidence links)
      const walker = document.createTreeWalker(cells[i], NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest('.sr-only')) continue;   // for screen readers only: clipped, not drawn
        const range = document.createRange(); range.selectNodeContents(node);
        for (const r of range.getClientRects()) {
          if (r.width > 0 && r.right > next.left + 0.5)
            overlaps.push(cells[i].textContent.trim() + ' | ' + cells[i + 1].textContent.trim());
        }
      }
    }
  }
  // a table folded in a closed <details> (a chart's data) is not shown, on screen or on paper
  const clipped = Array.from(document.querySelectorAll('.table-wrap'))
    .filter(w => w.checkVisibility() && w.scrollWidth > w.clientWidth + 1)
    .map(w => w.querySelector('thead') ? w.querySelector('thead').textContent.trim().slice(0, 80) : '?');
  return {overlaps: [...new Set(overlaps)], clipped, ranking: document.querySelectorAll('table.ranking').length};
})()"""


@pytest.mark.slow
def test_on_screen_at_1280_px_no_table_header_overlaps_and_no_table_is_cut_off(sample, tab):
    found = {}
    for page in (sample / "2026" / "index.html", sample / "2025" / "index.html", sample / "2026" / "schools" / "0215.html"):
        session = tab.load(page.resolve().as_uri(), width=1280, height=900)
        found[page.relative_to(sample).as_posix()] = _evaluate(tab.browser, session, _LAYOUT)
    assert found["2026/index.html"]["ranking"] >= 3
    assert all(not v["overlaps"] for v in found.values()), found
    assert all(not v["clipped"] for v in found.values()), found


@pytest.mark.slow
def test_in_print_at_the_width_of_a4_no_table_header_overlaps_and_no_table_is_wider_than_the_page(sample, tab):
    """The same measurement with the print stylesheet applied, at the width of an A4 page's text
    (180 mm ≈ 680 CSS px): tables wrap to the paper instead of running off it."""
    found = {}
    for page in (sample / "2026" / "index.html", sample / "2026" / "schools" / "0215.html"):
        session = tab.load(page.resolve().as_uri(), width=680, height=900, media="print")
        found[page.name] = _evaluate(tab.browser, session, _LAYOUT)
        found[page.name]["wide"] = _evaluate(tab.browser, session, "Array.from(document.querySelectorAll('table.data'))"
                                             ".filter(t => t.checkVisibility() && t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
                                             ".map(t => t.querySelector('thead').textContent.trim().slice(0, 60))")
    assert all(not v["overlaps"] and not v["clipped"] and not v["wide"] for v in found.values()), found


@pytest.mark.slow
def test_the_layout_check_sees_an_overlap_and_a_cut_off_table(tab, tmp_path):
    """A control: the measurement of the test above finds what the issue reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>x</title><style>'
        "table { table-layout: fixed; width: 300px; } th { white-space: nowrap; } .wide { table-layout: auto; }"
        "</style></head><body>"
        '<div class="table-wrap"><table class="data">'
        "<thead><tr><th>Индекс активности педагогов</th><th>Δ к 2025 г.</th></tr></thead>"
        "<tbody><tr><td>1</td><td>2</td></tr></tbody></table></div>"
        '<div class="table-wrap" style="overflow-x:auto;width:300px"><table class="data wide">'
        "<thead><tr><th>Код</th><th>Без изменений</th><th>Ухудшение</th><th>Нет данных по показателю</th></tr></thead>"
        "<tbody><tr><td>1</td><td>2</td><td>3</td><td>4</td></tr></tbody></table></div></body></html>",
        encoding="utf-8")
    session = tab.load(page.as_uri())
    found = _evaluate(tab.browser, session, _LAYOUT)
    assert found["overlaps"] and found["clipped"], found
