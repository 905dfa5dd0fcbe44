"""Every speed path of pipeline/fast/ gives what its plain twin gives (property tests)."""

from __future__ import annotations

import io
import random
import zipfile

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.links import link_ok as plain_link_ok
from pipeline.core.russian import fmt_int, fmt_num, fmt_pct
from pipeline.core.values import num
from pipeline.fast import columns, links, sheets, text
from pipeline.fast.csv import plain_csv, write_csv
from pipeline.form import package

# --------------------------------------------------------------------------- CSV

# texts, many of them starting with a character a spreadsheet takes for a formula (=, +, -, @,
# tab, CR) or with the apostrophe that protects them (pipeline/core/csvtext.py)
TEXT = st.builds(lambda lead, rest: lead + rest, st.sampled_from(["", "", "=", "+", "-", "@", "\t", "\r", "'", "''"]),
                 st.text(alphabet=st.sampled_from(list('ab,"\n \r;0Ж\t=+-@\'')), max_size=6))


@st.composite
def tables(draw):
    n = draw(st.integers(min_value=1, max_value=30))
    cols = {
        "s": pd.array(draw(st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n)), dtype="string"),
        "i": np.array(draw(st.lists(st.integers(-10**12, 10**12), min_size=n, max_size=n)), dtype="int64"),
        "b": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        "ni": pd.array(draw(st.lists(st.one_of(st.none(), st.integers(-99, 99)), min_size=n, max_size=n)), dtype="Int64"),
        "nb": pd.array(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), dtype="boolean"),
        "o": draw(st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n)),
    }
    return pd.DataFrame(cols)


@given(tables())
@settings(max_examples=150, deadline=None)
def test_csv_writer_gives_pandas_bytes(df):
    buf = io.BytesIO()
    write_csv(buf, df)
    assert buf.getvalue() == plain_csv(df)
    # the same table with a float column: written by pandas itself (the plain twin)
    buf = io.BytesIO()
    write_csv(buf, df.assign(f=-5.25))
    assert buf.getvalue() == plain_csv(df.assign(f=-5.25))


@given(tables())
@settings(max_examples=100, deadline=None)
def test_csv_writer_protects_the_texts_pandas_would_write(df):
    """The twin itself: pandas' CSV of the table, texts protected, and with no CR outside a
    quoted field: pandas' reader (the pipeline's) gives back every protected text."""
    data = plain_csv(df)
    back = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False)
    assert len(back) == len(df)
    for name in ("s", "o"):
        want = ["" if not isinstance(v, str) else ("'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r", "'") else v)
                for v in df[name]]
        assert back[name].tolist() == want
    assert back["i"].tolist() == [str(v) for v in df["i"]]  # negative numbers stay numbers


# --------------------------------------------------------------------------- sheet extent


def _sheet(cells: list[str], *, tail: str = "</worksheet>") -> bytes:
    rows = "".join(f'<row r="{i + 1}"><c r="{a}" t="inlineStr"><is><t>x</t></is></c></row>' for i, a in enumerate(cells))
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="x"><sheetData>{rows}</sheetData>{tail}').encode()


def _extent(data: bytes) -> tuple[int, int]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("s.xml", data)
    with zipfile.ZipFile(buf) as zf:
        return package._sheet_extent(zf, "s.xml")


ADDRESS = st.builds(lambda col, row: f"{col}{row}",
                    st.sampled_from(["A", "B", "Z", "BH", "BI", "BJ", "AZ", "ZZ", "XFD", "a", "bi"]),
                    st.sampled_from([1, 2, 19999, 20000, 20001, 99999, 1048576]))


@given(st.lists(ADDRESS, max_size=6), st.sampled_from(["</worksheet>", "", "<!-- x --></worksheet>"]))
@settings(max_examples=300, deadline=None)
def test_quick_sheet_check_never_passes_what_the_count_refuses(addresses, tail):
    data = _sheet(addresses, tail=tail)
    if sheets.sheet_surely_small(data, package.MAX_SHEET_ROWS, package.MAX_SHEET_COLS):
        rows, cols = _extent(data)
        assert rows <= package.MAX_SHEET_ROWS and cols <= package.MAX_SHEET_COLS


def test_quick_sheet_check_passes_an_ordinary_sheet():
    assert sheets.sheet_surely_small(_sheet(["A1", "B2", "E40"]), package.MAX_SHEET_ROWS, package.MAX_SHEET_COLS)
    assert not sheets.sheet_surely_small(_sheet(["A1", "XFD1048576"]), package.MAX_SHEET_ROWS, package.MAX_SHEET_COLS)


# --------------------------------------------------------------------------- columns

VALUES = st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32),
                            st.integers(-1000, 1000), st.sampled_from([0.0, -0.0, 12.5, 42.25, 2.675])), max_size=30)


@given(VALUES)
@settings(max_examples=200, deadline=None)
def test_formatting_once_per_distinct_number_equals_formatting_each(values):
    column = pd.Series(values, dtype="float64")
    for fn in (fmt_int, fmt_num, fmt_pct, num):
        assert list(columns._each_number(column, fn)) == [fn(v) for v in column.tolist()]


def _in_order_plain(codes, keys, order):
    first: dict[tuple, int] = {}
    schools: list = []
    for i, (c, k) in enumerate(zip(codes, keys)):
        if c not in schools:
            schools.append(c)
        if k in order:
            first.setdefault((c, k), i)
    rows, spans = [], {}
    for c in schools:
        mine = sorted((order[k], i) for (cc, k), i in first.items() if cc == c)
        if mine:
            spans[c] = (len(rows), len(rows) + len(mine))
            rows += [i for _, i in mine]
    return rows, spans


@given(st.lists(st.tuples(st.sampled_from(["01", "02", "03"]), st.sampled_from(["a", "b", "c", "x"])), max_size=25))
@settings(max_examples=200, deadline=None)
def test_first_row_per_school_and_key_equals_a_loop(pairs):
    codes = np.array([p[0] for p in pairs], dtype=object)
    keys = np.array([p[1] for p in pairs], dtype=object)
    order = {"c": 0, "a": 1, "b": 2}
    rows, spans = columns._in_order(codes, keys, order)
    assert (list(rows), spans) == _in_order_plain(codes, keys, order)


# --------------------------------------------------------------------------- links and text


def test_link_shortcut_agrees_with_the_rule():
    rng = random.Random(7)
    pieces = ["http://", "https://", "HtTpS://", "ftp://", "javascript:", "//", "a", "Z", "0", ".", "-", ":", "@",
              "%", "[", "]", "[::1]", "/", "?", "#", "ж", " ", "\t", "\n", "\x00", "\x7f", "\x85", "\xa0", "\u3000",
              "u:p@", "а", "р", "ф", "ο", "xn--", "_", "\\", "data:", "vbscript:", "file:", "file://", "http:", "рф"]
    cases = ["https://a.ru/x ", "https://a.ru/x\xa0", "\u3000http://a.ru", "http://[::1]/", "http://[a/b", "http://:80",
             "http://ёж.рф/", "HTTP://A.RU?q#f", "http://a.ru#", "https://a.ru/", "https://-.", "https://nodot/x",
             "https://u:p@a.ru/", "https://a.ru@b.ru/", "https://a.ru/x@b.ru", "https://pаypal.com/", "https://ж.ru/",
             "https://xn--80a.xn--p1ai/", "https://a.ru:8080/", "https://a.ru\\@b.ru/", "//a.ru/x", "data:,a.ru",
             "javascript://a.ru/%0A1", "vbscript:a.ru", "file:///a.ru", "file://a.ru/x", "https://a_b.ru/"]
    cases += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(20000)]
    assert [links.link_ok(c) for c in cases] == [plain_link_ok(c) for c in cases]


_HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,7}(\.[a-z0-9-]{1,8}){1,2}", fullmatch=True)
_PATHS = st.from_regex(r"(/[!-~]{0,12})?", fullmatch=True)
_LOOKALIKES = st.sampled_from(["а", "е", "о", "р", "с", "х", "ο", "ı", "ⅼ", "ｅ"])  # Cyrillic, Greek, dotless i, …


@given(_HOSTS, _PATHS, st.sampled_from(["http", "https", "HTTPS"]),
       st.sampled_from(["u@", "u:p@", ":@", "@", "a.ru@", "user:pass@"]), _LOOKALIKES, st.integers(0, 20))
@settings(max_examples=300, deadline=None)
def test_only_plain_addresses_are_links_in_both_twins(host, path, scheme, userinfo, lookalike, at):
    """A plain http(s) address is a link; the same address with a user name or password, with a
    letter of another alphabet in its host, or under another scheme or none, is not (both twins)."""
    plain = f"{scheme}://{host}{path}"
    assert links.link_ok(plain) is plain_link_ok(plain) is True
    i = min(at, len(host))
    refused = [f"{scheme}://{userinfo}{host}{path}", f"{scheme}://{host[:i]}{lookalike}{host[i:]}{path}",
               f"//{host}{path}", f"data:text/html,{host}", f"javascript://{host}/%0A1", f"vbscript://{host}{path}",
               f"file://{host}{path}", f"file:///{host}{path}"]
    for case in refused:
        assert links.link_ok(case) is plain_link_ok(case) is False, case


@given(st.binary(max_size=60).map(lambda b: b.replace(b"\x00", b" ")) | st.text(alphabet=" \ta\t  b", max_size=40).map(str.encode))
def test_space_collapse_equals_the_regular_expression(data):
    assert text.collapse_spaces(data) == text.collapse_spaces_plain(data)
