"""Names from the forms are removed from the text the schools supplied, before rendering; the
finished page is never searched and replaced: a name equal to the report's title, to a tag or
to an attribute leaves the page whole, and the department's own text is never altered."""

from __future__ import annotations

from collections import Counter

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config.params import load_params
from pipeline.core.privacy import _TRIE_MAX, REDACTED, redact, redactor
from pipeline.io.storage import read_table, write_tables
from pipeline.report import context as report_context
from pipeline.report import pages as report_pages
from pipeline.report import school as report_school
from report_data import RESPONSIBLE, write_history

CODE = "004"  # its «Ответственный» is RESPONSIBLE in tests/report_data.py


def _pages(folder, name: str) -> tuple[BeautifulSoup, BeautifulSoup, str]:
    """The report page and school CODE's page when CODE's «Ответственный» is `name` and the
    school wrote it into a document's title and a rejected file carries it."""
    params = write_history(folder)
    processed = folder / "processed" / "2026"
    prof = read_table(processed, "profile.csv")
    prof.loc[prof["school_code"] == CODE, "responsible"] = name
    cl = read_table(processed, "checklist.csv")
    first = cl.index[cl["school_code"] == CODE][0]
    cl.loc[first, "document"] = f"Приказ — {name}"
    write_tables(processed, {"profile.csv": prof, "checklist.csv": cl})
    ctx = report_context.build_context(load_params(params, check_files=False))
    report = report_pages.report_page(ctx)
    page = report_pages.render_school_page(report_school.school_page_data(ctx, CODE), ctx.params)
    return BeautifulSoup(report, "html.parser"), BeautifulSoup(page, "html.parser"), cl.loc[first, "position"]


def _shape(soup: BeautifulSoup) -> Counter:
    """The page's structure: tags and attribute names (not their text)."""
    return Counter((t.name, tuple(sorted(t.attrs))) for t in soup.find_all(True))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return _pages(tmp_path_factory.mktemp("base"), RESPONSIBLE)


@pytest.mark.parametrize("name", ["Аналитическая справка", "div", "class", "style", "Код ОО"])
def test_a_name_alters_only_the_schools_own_text(tmp_path, baseline, name):
    report, page, position = _pages(tmp_path, name)
    base_report, base_page, _ = baseline
    assert _shape(report) == _shape(base_report) and _shape(page) == _shape(base_page)
    assert report.title.get_text() == base_report.title.get_text()
    assert report.h1.get_text() == base_report.h1.get_text()
    assert page.title.get_text() == base_page.title.get_text()
    assert "[скрыто]" not in report.get_text() and page.select_one("style").get_text() == base_page.select_one("style").get_text()
    doc = [tr for tr in page.select("tr") if tr.find("td") and tr.find("td").get_text(strip=True) == position][0]
    cell = doc.select_one("td.doc").get_text()
    if len(name) >= 4:
        assert cell == f"Приказ — {REDACTED}"
    else:  # too short to be a name: never redacted
        assert cell == f"Приказ — {name}"
    # everything else the school page shows is the baseline's, but the document's cell
    others = [t.get_text() for t in page.find_all(["td", "th", "h1", "h2", "p", "div"]) if not t.find_all(True)]
    base = [t.get_text() for t in base_page.find_all(["td", "th", "h1", "h2", "p", "div"]) if not t.find_all(True)]
    assert len(others) == len(base)
    assert sum(a != b for a, b in zip(others, base)) <= 1


def test_the_name_is_gone_from_the_schools_text(baseline):
    report, page, _ = baseline
    assert RESPONSIBLE not in str(page) and RESPONSIBLE not in str(report)
    assert REDACTED in page.select_one("table").find_parent("body").get_text()


def _plain_redaction(value: str, names: list[str]) -> str:
    """The rule of privacy.redact written plainly: the names longer than the pattern takes
    replaced first, longest first; then at each place the longest name starting there."""
    forms = {n for n in names if n}
    for form in sorted((f for f in forms if len(f) > _TRIE_MAX), key=len, reverse=True):
        value = value.replace(form, REDACTED)
    short = [f for f in forms if len(f) <= _TRIE_MAX]
    out, i = [], 0
    while i < len(value):
        found = max((f for f in short if value.startswith(f, i)), key=len, default="")
        out.append(REDACTED if found else value[i])
        i += len(found) or 1
    return "".join(out)


# two letters, so that names overlap, nest and recur in the text; and pattern or markup
# characters, which are only text
_LETTERS = st.sampled_from(["а", "б", "а", "б", "[", "(", "*", "\\", "|", "&", " "])
_SHORT = st.lists(_LETTERS, min_size=1, max_size=5).map("".join)
_NAME = st.one_of(st.just(""), _SHORT, _SHORT, _SHORT, _SHORT.map(lambda s: s * (_TRIE_MAX // len(s) + 1)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAME, max_size=8), st.lists(st.one_of(_NAME, _SHORT), max_size=8))
def test_redactor_is_the_plain_rule(names, parts):
    """The pattern built once for many texts (redactor, what the report uses) replaces exactly
    what the plain rule does, and the same as redact text by text."""
    value = "".join(parts)
    once = redactor(names)
    assert once(value) == _plain_redaction(value, names) == redact(value, names)
