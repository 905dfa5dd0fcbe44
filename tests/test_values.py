"""The column readers of pipeline/core/values.py and the quick checks of pipeline/core/csvtext.py
read a whole column at once (a year's tables have hundreds of thousands of rows); each must give
exactly what its one-value definition gives, cell by cell, for any column."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core import csvtext
from pipeline.core.values import as_bool, flags, num, nums, records, stripped

# texts near the spellings that matter: booleans, numbers, spaces of every kind, formula leads
WORDS = st.sampled_from(["true", "True", " да ", "НЕТ", "1", "0", "1.0", "0.0", "-0.0", "yes", "no", "x", "",
                         " ", "\u00a0", "\x1f", "\x00", "'", "=1", "+7", "-2", "@a", "\ta", "\r", "' ", "a\x1f'b",
                         "a\x1f=b", "0101", " 0101", "0101\u2003"])
TEXTS = WORDS | st.text(max_size=6)
MISSING = st.sampled_from([None, np.nan, pd.NA])
CELLS = TEXTS | MISSING | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=True, allow_infinity=True)
DTYPES = st.sampled_from([object, "string", "str"])


def _column(values: list, dtype) -> pd.Series:
    try:
        return pd.Series(values, dtype=dtype, index=range(7, 7 + len(values)))
    except (TypeError, ValueError):
        return pd.Series(values, dtype=object, index=range(7, 7 + len(values)))


def _plain_flags(values: pd.Series) -> pd.Series:
    return pd.Series([pd.NA if (b := as_bool(v)) is None else b for v in values.astype("string").tolist()],
                     index=values.index, dtype="boolean")


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS | MISSING, max_size=12), DTYPES)
def test_flags_of_a_text_column_is_as_bool_of_each_text(values, dtype):
    col = _column(values, dtype)
    pd.testing.assert_series_equal(flags(col), _plain_flags(col), check_names=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(CELLS, max_size=12))
def test_flags_of_any_column_is_as_bool_of_each_cell_as_text(values):
    col = pd.Series(values, dtype=object)
    pd.testing.assert_series_equal(flags(col), _plain_flags(col), check_names=False)
    # (1, 1.0 and True are equal but written differently: never read once for all three)
    assert flags(pd.Series([True, 1.0, -0.0, False], dtype=object)).tolist() == [True, True, pd.NA, False]


@given(st.lists(st.booleans() | MISSING, max_size=8))
def test_flags_of_a_boolean_column_is_the_column_and_a_copy(values):
    col = pd.Series(values, dtype="boolean")
    out = flags(col)
    pd.testing.assert_series_equal(out, _plain_flags(col), check_names=False)
    if len(out):
        out.iloc[0] = pd.NA
        assert col.tolist() == pd.Series(values, dtype="boolean").tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS | MISSING, max_size=12), DTYPES)
def test_stripped_is_astype_string_strip(values, dtype):
    col = _column(values, dtype)
    pd.testing.assert_series_equal(stripped(col), col.astype("string").str.strip())


def test_stripped_never_returns_its_input():
    col = pd.Series(["0101"], dtype="string")
    out = stripped(col)
    out.iloc[0] = "x"
    assert col.iloc[0] == "0101"


@settings(max_examples=300, deadline=None)
@given(st.lists(CELLS, max_size=12), st.sampled_from([object, "float64", "Int64", "Float64"]))
def test_nums_is_num_of_each_cell(values, dtype):
    try:
        col = pd.Series(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        col = pd.Series(values, dtype=object)
    expected = [num(v) for v in col.tolist()]
    got = nums(col)
    assert [None if x is None else repr(x) for x in got] == [None if x is None else repr(x) for x in expected]


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS | MISSING, max_size=12), DTYPES)
def test_the_quick_checks_of_csvtext_find_every_text_that_needs_them(values, dtype):
    col = _column(values, dtype)
    texts = [v for v in col.tolist() if isinstance(v, str)]
    df = pd.DataFrame({"a": col, "b": col})
    escaped = any(t[:1] == csvtext.ESCAPE for t in texts)
    assert csvtext.escaped_columns(df) == ([0, 1] if escaped else [])
    assert csvtext.protect_texts(texts) == [csvtext.protect(t) for t in texts]
    protected = csvtext.protect_frame(df)
    assert [v if isinstance(v, str) else None for v in protected["a"].tolist()] == \
        [csvtext.protect(v) if isinstance(v, str) else None for v in col.tolist()]


def test_the_quick_checks_look_past_one_chunk(monkeypatch):
    monkeypatch.setattr(csvtext, "_CHUNK", 3)
    texts = ["a", "b", "c", "d", "=e", "f", "g"]
    assert csvtext.protect_texts(texts)[4] == "'=e"
    assert csvtext.escaped_columns(pd.DataFrame({"x": ["a"] * 6 + ["'b"]})) == [0]
    assert csvtext.escaped_columns(pd.DataFrame({"x": ["a\x1f'b"] * 7})) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(TEXTS | MISSING, st.integers(-3, 3), st.booleans()), max_size=8))
def test_records_are_itertuples(rows):
    df = pd.DataFrame(rows, columns=["school_code", "class", "1"])
    df["n"] = pd.array([r[1] for r in rows], dtype="Int64")
    got, expected = records(df), list(df.itertuples(index=False))
    assert [r._fields for r in got] == [r._fields for r in expected]
    plain = [tuple(v.item() if isinstance(v, np.generic) else v for v in r) for r in expected]
    assert [tuple(map(repr, r)) for r in got] == [tuple(map(repr, r)) for r in plain]
