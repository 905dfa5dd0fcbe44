"""Values as the processed tables hold them: one reading of a boolean, a number and a text.

Processed CSV files are read back by several stages and the report; a boolean may come back
as True, "True", "да" or 1, a missing number as NaN or <NA>. These three readers are the only
ones: every layer asks them instead of keeping its own set of spellings.
"""

from __future__ import annotations

import math
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
    texts = out.dropna().tolist()
    ends = {t[:1] for t in texts}
    ends.update(t[-1:] for t in texts)
    if any(e.isspace() for e in ends):
        return out.str.strip()
    return out.copy() if out is values else out


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
