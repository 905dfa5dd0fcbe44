"""Accessibility (WCAG 2.2 AA) of the published pages in a real browser: axe-core run in
headless Chromium on the analytic report and on school pages (a school with results, a school
without a form, a school with a small group) must report no violation.

axe-core (Deque, MPL-2.0) is the checker most tools build on (Lighthouse, Playwright's and
Cypress' accessibility plug-ins), it runs inside the page, so it sees what the browser lays
out (contrast of the rendered colours, landmarks, names), and reports no false positives by
design. It is a JavaScript file installed from npm by `make setup`
(`npm install --prefix .venv/axe axe-core@<pinned>`), never committed; where it is missing the
test skips with the reason (and fails under CI=true, like the Chromium fixture).

Rules: every rule axe-core runs by default that is tagged WCAG 2.0/2.1/2.2 A or AA, plus the
best-practice rules that concern the structure a screen-reader user navigates by (landmarks
and headings: `region`, `landmark-*`, `heading-order`, `page-has-heading-one`,
`empty-table-header`, `skip-link`). No rule is excluded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chromium import screenshot, skip_or_fail

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BEST_PRACTICE = ["region", "landmark-one-main", "landmark-no-duplicate-banner", "landmark-no-duplicate-contentinfo",
                 "landmark-unique", "landmark-banner-is-top-level", "landmark-contentinfo-is-top-level",
                 "landmark-main-is-top-level", "heading-order", "page-has-heading-one", "empty-heading",
                 "empty-table-header", "skip-link", "bypass"]


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        skip_or_fail(f"axe-core не установлен ({AXE.relative_to(ROOT)}): выполните `make setup` (нужен npm)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(tab, axe_source: str, page: Path, shot: Path | None = None) -> list[str]:
    """Run axe-core on a page opened from file:// in the session's tab; one line per
    violation and node."""
    browser, session = tab.browser, tab.load(page.resolve().as_uri())
    browser.evaluate(axe_source + "\n;true", session)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    wcag = browser.evaluate(f"axe.run(document, {json.dumps(options)}).then(r => r.violations)", session)
    options = {"runOnly": {"type": "rule", "values": BEST_PRACTICE}, "resultTypes": ["violations"]}
    best = browser.evaluate(f"axe.run(document, {json.dumps(options)}).then(r => r.violations)", session)
    if shot is not None:
        screenshot(browser, session, shot)
    out = []
    for v in [*wcag, *best]:
        for node in v["nodes"]:
            out.append(f"{v['id']} ({v['impact']}): {node['target']} — {node.get('failureSummary', '')[:200]}")
    return out


# ---------------------------------------------------------------------------- the sites checked


@pytest.fixture(scope="module")
def sample_site(sample_reports) -> Path:
    """The embedded sample, every year, run once through the whole pipeline: reports/."""
    return sample_reports


EXAMPLES = sorted(p.name for p in (ROOT / "params" / "examples").iterdir() if p.is_dir())


@pytest.fixture(scope="module", params=EXAMPLES)
def example_site(request, example_root) -> Path:
    """Each example municipality (sochi's methodology has no checklist): its year's report folder."""
    root = example_root(request.param)  # conftest: one run per session, shared with test_examples
    return next(p.parent for p in sorted(root.rglob("index.html")) if p.parent.name.isdigit())


# crafted_site (conftest): the hand-built history (tests/report_data.py) with hostile strings


def _school_pages(year_dir: Path) -> dict[str, Path]:
    """One school page of each kind: with results, without a form, with a small group."""
    pages = sorted((year_dir / "schools").glob("*.html"))
    # the page without its inlined stylesheets (their comments may quote the page's words)
    texts = {p: re.sub(r"<style.*?</style>", "", p.read_text(encoding="utf-8"), flags=re.S) for p in pages}
    kinds = {
        "with_results": lambda t: 'class="cards"' in t and "н/д (менее" not in t,
        "without_form": lambda t: "Форма мониторинга за" in t,
        "small_group": lambda t: "н/д (менее" in t,
    }
    found = {}
    for kind, test in kinds.items():
        matching = [p for p in pages if test(texts[p])]
        if matching:
            found[kind] = matching[0]
    return found


def _check(tab, axe_source, page: Path, shots: Path | None = None) -> None:
    shot = shots / (page.parent.name + "_" + page.stem + ".png") if shots else None
    problems = axe_violations(tab, axe_source, page, shot)
    assert problems == [], f"{page}: " + "\n".join(problems)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Screenshots of the pages checked (REPORT_SCREENSHOTS_DIR when set) for a person to look at."""
    import os

    keep = os.environ.get("REPORT_SCREENSHOTS_DIR")
    folder = Path(keep) / "a11y" if keep else tmp_path_factory.mktemp("a11y-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("page", ["index.html", "2026/index.html", "2025/index.html", "2024/index.html",
                                  "2025/documents/index.html", "2026/documents/index.html"])
def test_sample_reports_have_no_violations(tab, axe_source, sample_site, shots, page):
    _check(tab, axe_source, sample_site / page, shots)


@pytest.mark.parametrize("kind", ["with_results", "without_form", "small_group"])
def test_sample_school_pages_have_no_violations(tab, axe_source, sample_site, shots, kind):
    pages = _school_pages(sample_site / "2026")
    assert kind in pages, f"the sample has no school page of the kind {kind}"
    _check(tab, axe_source, pages[kind], shots)


@pytest.mark.parametrize("page", ["2026/index.html", "2026/schools/004.html", "2026/schools/008.html",
                                  "2026/schools/009.html", "2025/schools/007.html"])
def test_crafted_pages_with_hostile_strings_have_no_violations(tab, axe_source, crafted_site, page):
    _check(tab, axe_source, crafted_site / page)


@pytest.fixture(scope="module")
def crafted_large_site(tmp_path_factory) -> Path:
    """The hand-built history built as a large municipality: the per-school tables on the pages
    of the clusters (two schools a page)."""
    from report_data import build_site

    return build_site(tmp_path_factory.mktemp("a11y-large"), hostile=True,
                      report={"cluster_pages_from": 1, "cluster_page_rows": 2})


def test_cluster_pages_have_no_violations(tab, axe_source, crafted_large_site, shots):
    year = crafted_large_site / "2026"
    pages = sorted((year / "clusters").glob("*.html"))
    assert len(pages) > 2
    for page in [year / "index.html", *pages]:
        _check(tab, axe_source, page, shots)


def test_example_municipalities_have_no_violations(tab, axe_source, example_site, shots):
    _check(tab, axe_source, example_site / "index.html", shots)
    for page in _school_pages(example_site).values():
        _check(tab, axe_source, page, shots)


def test_the_check_sees_violations(tab, axe_source, tmp_path):
    """A control: a page with an image without alt text, pale text, an empty table header and
    content outside landmarks is reported, so a silent axe cannot pass the tests above."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="ru"><head><title>x</title></head><body>'
                   '<p style="color:#3f8a4d;background:#fafbfc;font-size:13px">улучшение</p>'
                   '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                   '<table><tr><th></th><th>Количество</th></tr><tr><td>ОО</td><td>3</td></tr></table>'
                   '</body></html>', encoding="utf-8")
    ids = {re.match(r"[\w-]+", line).group(0) for line in axe_violations(tab, axe_source, bad)}
    assert {"image-alt", "color-contrast", "empty-table-header", "region"} <= ids, ids

