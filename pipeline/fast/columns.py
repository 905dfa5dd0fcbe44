"""Column-at-a-time helpers for building thousands of table rows: a formatter applied once
per distinct value, the first row of each (school, key) in a declared order.

Each is the fast twin of a plain per-row loop (tests/test_fast.py checks they agree)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..core.values import num, text


class _ByNumber(dict):
    """fn(v) computed once per distinct number num(v), for the formatters that read their
    argument only through num() (fmt_*, zone_of, trend_chip). −0.0 (equal to 0.0 as a key,
    but formatted «−0,0») is never cached."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, key):
        value = self[key] = self.fn(key)
        return value

    def __call__(self, v: Any) -> Any:
        f = num(v)
        if f == 0 and math.copysign(1.0, f) < 0:
            return self.fn(f)
        return self[f]


def _values(column: pd.Series) -> Any:
    """A column's values as Python objects, fast to iterate (a text column is a pandas array
    that boxes every value through __getitem__ when iterated)."""
    return column.to_numpy(dtype=object)


def _texts(column: pd.Series) -> Any:
    """text() of every value of a column."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.fillna("").to_numpy(dtype=object)
    out = np.empty(len(column), dtype=object)
    out[:] = [text(v) for v in column.to_numpy(dtype=object)]
    return out


def _each_number(column: pd.Series, fn) -> Any:
    """fn(v) of every value of a column, for a formatter fn that reads v only through num():
    computed once per distinct number (a numeric column is factorised, not walked)."""
    values = column.to_numpy()
    if values.dtype.kind in "biuf":
        floats = values.astype("float64")
        if not ((floats == 0) & np.signbit(floats)).any():  # −0.0 would share 0.0's text
            codes, uniques = pd.factorize(floats)  # NaN: −1, the last entry
            table = np.empty(len(uniques) + 1, dtype=object)
            for i, u in enumerate(uniques):
                table[i] = fn(float(u))
            table[-1] = fn(None)
            return table[codes]
    memo = _ByNumber(fn)
    out = np.empty(len(values), dtype=object)  # an array, so that [positions] works when empty
    for i, v in enumerate(column.to_numpy(dtype=object)):
        out[i] = memo(v)
    return out


def _in_order(codes: np.ndarray, keys: np.ndarray, order: dict[str, int]) -> tuple[np.ndarray, dict[str, tuple]]:
    """The first row of each school and key (codes and keys as text; keys outside order left
    out), as row positions grouped by school and sorted by order[key] within a school — what
    _first_by and a loop over the methodology's codes gave per school — and each school's
    (start, end) among them."""
    ids, uniques = pd.factorize(codes)
    rank = pd.Series(keys, dtype=object).map(order).to_numpy(dtype="float64")
    rows = np.flatnonzero(~np.isnan(rank))
    ids, rank = ids[rows], rank[rows].astype(np.int64)
    first = ~pd.Series(ids * max(len(order), 1) + rank).duplicated().to_numpy()
    rows, ids, rank = rows[first], ids[first], rank[first]
    by = np.lexsort((rank, ids))
    rows, ids = rows[by], ids[by]
    if not len(rows):
        return rows, {}
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    return rows, {uniques[ids[a]]: (a, b) for a, b in zip(starts.tolist(), ends.tolist())}


def _split(rows: list, spans: dict[str, tuple]) -> dict[str, tuple]:
    """code → its rows, from rows grouped by school and each school's (start, end)."""
    return {code: tuple(rows[a:b]) for code, (a, b) in spans.items()}
