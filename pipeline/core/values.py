"""Values as the processed tables hold them: one reading of a boolean, a number and a text.

Processed CSV files are read back by several stages and the report; a boolean may come back
as True, "True", "да" or 1, a missing number as NaN or <NA>. These three readers are the only
ones: every layer asks them instead of keeping its own set of spellings.
"""

from __future__ import annotations

import math
from typing import Any

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


def text(v: Any) -> str:
    """A cell as text ('' for empty)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def flags(values: pd.Series) -> pd.Series:
    """as_bool of every value of a column, as a nullable boolean column (same index)."""
    text_ = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text_.isin(TRUE_TEXTS).fillna(False).astype(bool)] = True
    out[text_.isin(FALSE_TEXTS).fillna(False).astype(bool)] = False
    return out
