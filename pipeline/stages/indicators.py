"""What the recommendations and the follow-up share: the order of a methodology's indicators,
a recommendation's stable id, the schools with a form, and how their tables are built."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..config.methodology import Methodology
from ..core.contract import FOLLOWUP_STATUSES, PRIORITIES
from ..core.values import flags, stripped


HIGH, MEDIUM = PRIORITIES  # "высокий", "средний"


FIXED, IMPROVED, UNCHANGED, WORSE, NO_DATA, CHANGED = FOLLOWUP_STATUSES




def _bool(v: Any) -> bool | None:
    """A plain bool, or None for <NA>."""
    return None if v is None or v is pd.NA else bool(v)







def _indicator_order(methodology: Methodology, codes) -> list[str]:
    """Codes in methodology order; unknown codes after, alphabetically."""
    key = methodology.indicator_order()
    return sorted(set(codes), key=lambda c: (0, key[c]) if c in key else (1, (0, 0, 0), c))


def _school_codes(series: pd.Series) -> pd.Series:
    return stripped(series)


def _submitted(scores: pd.DataFrame) -> list[str]:
    submitted = flags(scores["submitted"]).fillna(False).astype(bool)
    return sorted(_school_codes(scores.loc[submitted, "school_code"]).tolist())


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _frame(rows: list[dict] | list[tuple], columns: tuple[str, ...], ints=(), floats=()) -> pd.DataFrame:
    """The table of rows: dicts by column name, or tuples in the columns' order."""
    if not rows:
        return _empty(columns)
    df = pd.DataFrame(rows, columns=list(columns))
    for c in ints:
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    for c in floats:
        df[c] = pd.to_numeric(df[c]).astype("Float64")
    return df


def recommendation_id(school_code: str, indicator_code: str) -> str:
    """The stable id of a recommendation: the same school and indicator → the same id every year."""
    return f"{school_code}:{indicator_code}"
