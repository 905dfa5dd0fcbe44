"""Values as the processed tables hold them: one reading of a boolean, a number and a text.

Processed CSV files are read back by several stages and the report; a boolean may come back
as True, "True", "да" or 1, a missing number as NaN or <NA>. These three readers are the only
ones: every layer asks them instead of keeping its own set of spellings.
"""

from __future__ import annotations

import collections
import functools
import math
import re
from typing import Any

import numpy as np
import pandas as pd

# The spellings of a boolean in a processed table (pandas writes True/False; older files and
# hand-edited ones may say да/нет or 1/0).
TRUE_TEXTS = frozenset({"true", "1", "1.0", "да", "yes"})
FALSE_TEXTS = frozenset({"false", "0", "0.0", "нет", "no"})


def as_bool(v: Any) -> bool | None:
    """True/False/None from booleans or their text forms."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float) and math.isnan(v):
        return None
    s = str(v).strip().lower()
    if s in TRUE_TEXTS:
        return True
    if s in FALSE_TEXTS:
        return False
    return None


def num(v: Any) -> float | None:
    """A float, or None for empty / non-numeric / NaN."""
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def nums(values: pd.Series) -> list[float | None]:
    """num of every value of a column, as a list (a numeric column converted at once)."""
    dtype = values.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return [None if x != x else x for x in values.to_numpy(dtype="float64", na_value=float("nan")).tolist()]
    return [num(v) for v in values.tolist()]


def stripped(values: pd.Series) -> pd.Series:
    """A column as text without surrounding spaces: values.astype("string").str.strip(), with
    the strip (a Python call per cell) only when a text has such spaces."""
    out = values.astype("string")
    if _padded(out.dropna().tolist()):
        return out.str.strip()
    return out.copy() if out is values else out


# a space (\s: what str.isspace and str.strip call one) after a NUL, which no table's text holds:
# a pattern starting with a literal, searched at C speed
_SPACE_AFTER_NUL = re.compile(r"\x00\s")


def _padded(texts: list[str]) -> bool:
    """Whether a text starts or ends with a space (a NUL inside a text may say so wrongly: the
    strip then changes nothing)."""
    for i in range(0, len(texts), 1 << 16):  # (a part at a time: the joined copies stay small)
        joined = "\x00".join(texts[i:i + (1 << 16)])
        if (joined[:1].isspace() or joined[-1:].isspace() or _SPACE_AFTER_NUL.search(joined) is not None
                or _SPACE_AFTER_NUL.search(joined[::-1]) is not None):
            return True
    return False


def records(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    """df.itertuples(index=False) as a list, made from whole columns (several times faster); a
    value as Series.tolist gives it (an int64 column's a Python int, not a NumPy scalar)."""
    row = collections.namedtuple("Pandas", [str(c) for c in df.columns], rename=True)
    make = functools.partial(tuple.__new__, row)  # row._make without its Python frame
    return list(map(make, zip(*(df.iloc[:, i].tolist() for i in range(df.shape[1])))))


def text(v: Any) -> str:
    """A cell as text ('' for empty)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def flags(values: pd.Series) -> pd.Series:
    """as_bool of every value of a column, as a nullable boolean column (same index).

    A boolean column is taken as it is; a column of texts (and booleans) is read once per
    distinct value (a year's positions.csv has hundreds of thousands of rows, two values)."""
    dtype = values.dtype
    if dtype == bool or isinstance(dtype, pd.BooleanDtype):
        return pd.Series(values.array.astype("boolean"), index=values.index, copy=True)
    if isinstance(dtype, pd.StringDtype) or dtype == object:
        codes, uniques = pd.factorize(values)  # a missing value: -1
        # (equal texts and equal booleans read alike; 1 == True == 1.0 would not be safe)
        if all(isinstance(u, (str, bool, np.bool_)) for u in uniques):
            read = _flags(pd.Series(np.asarray(uniques, dtype=object), dtype=object)).array
            return pd.Series(read.take(codes, allow_fill=True), index=values.index)
    return _flags(values)


def _flags(values: pd.Series) -> pd.Series:
    text_ = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text_.isin(TRUE_TEXTS).fillna(False).astype(bool)] = True
    out[text_.isin(FALSE_TEXTS).fillna(False).astype(bool)] = False
    return out
