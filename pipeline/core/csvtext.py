"""Text cells of every CSV file the pipeline writes: a text a spreadsheet could run as a
formula is written with a leading apostrophe, and the pipeline's readers take it off again.

The rule (OWASP's advice against CSV injection, made reversible):

* a text cell — a str in an object or string column, and a column name — that starts with
  one of TRIGGERS (`=`, `+`, `-`, `@`, tab, carriage return) or with the ESCAPE character `'`
  itself is written with one more `'` in front: «=1+1» → «'=1+1», «+7 (999) …» → «'+7 (999) …»,
  «-1» typed as text → «'-1», «'abc» → «''abc»;
* every other text, and every number of a numeric column (−5.2 in a float column, −3 in an
  integer column), is written as it is;
* reading, exactly one leading `'` of a text cell is removed. Since every text starting with
  `'` was escaped, the round trip is the identity.

A spreadsheet (LibreOffice, Excel) opening such a CSV file takes «'=1+1» as text, not as a
formula. Another tool reading the files (R, a script, a database import) must remove one
leading `'` of a text cell that starts with it — `unprotect` here, or in R
`sub("^'", "", x)` — to get the value the pipeline holds.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import numpy as np
import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_LEADS = frozenset((*TRIGGERS, ESCAPE))

# a text in a column's texts joined by _JOIN that may start with a lead character (a false
# match — _JOIN inside a text — only costs the exact check). The pattern starts with a literal,
# which the regex engine looks for at C speed (a million cells: milliseconds).
_JOIN = "\x1f"
_CHUNK = 1 << 17  # texts joined at a time (bounds the joined string's memory)


def _after_join(chars: frozenset[str]) -> re.Pattern[str]:
    return re.compile(re.escape(_JOIN) + "[" + re.escape("".join(sorted(chars))) + "]")


_MAY_LEAD = _after_join(_LEADS)
_MAY_ESCAPE = _after_join(frozenset(ESCAPE))


def _may_start(values: Any, chars: frozenset[str], pattern: re.Pattern[str]) -> bool:
    """Whether a text among values (a list or an object array; other values ignored) may start
    with one of chars: False means none does, True needs the exact check."""
    for i in range(0, len(values), _CHUNK):
        part = values[i:i + _CHUNK]
        try:
            joined = _JOIN.join(part)
        except TypeError:  # missing values, numbers: only the texts count
            joined = _JOIN.join([v for v in part if isinstance(v, str)])
        if joined[:1] in chars or pattern.search(joined):
            return True
    return False


def protect(text: str) -> str:
    """A text as a CSV cell holds it: with a leading ESCAPE if it starts with a trigger or with ESCAPE."""
    return ESCAPE + text if text[:1] in _LEADS else text


def unprotect(text: str) -> str:
    """A CSV cell's text as the pipeline holds it: one leading ESCAPE removed."""
    return text[1:] if text[:1] == ESCAPE else text


def protect_texts(texts: list[str]) -> list[str]:
    """protect over a list of texts (one quick look at all of them first: most need nothing)."""
    if not _may_start(texts, _LEADS, _MAY_LEAD):
        return texts
    return [ESCAPE + t if t[:1] in _LEADS else t for t in texts]


def _protect_cell(value: Any) -> Any:
    return protect(value) if isinstance(value, str) else value


def _unprotect_cell(value: Any) -> Any:
    return unprotect(value) if isinstance(value, str) else value


def _texts_column(col: pd.Series) -> bool:
    dtype = col.dtype
    return isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype == object)


def protect_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The table as it is written to CSV: every text cell and column name protected (numbers,
    booleans, dates and missing values untouched). The table itself is not changed; it is
    returned as it is when nothing needs protecting (or when it is not a DataFrame)."""
    if not isinstance(df, pd.DataFrame):
        return df
    names = [protect(n) if isinstance(n, str) else n for n in df.columns]
    out = None
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = col.cat.categories
            if cats.dtype == object and any(isinstance(c, str) and c[:1] in _LEADS for c in cats):
                new = col.cat.rename_categories([_protect_cell(c) for c in cats])
            else:
                continue
        elif _texts_column(col):
            values = col.to_numpy(dtype=object)
            if not _may_start(values, _LEADS, _MAY_LEAD):
                continue
            lead = [isinstance(v, str) and v[:1] in _LEADS for v in values]
            if not any(lead):
                continue
            new = pd.Series([ESCAPE + v if m else v for v, m in zip(values, lead)], index=col.index, dtype=col.dtype)
        else:
            continue
        if out is None:
            out = df.copy()
        out.isetitem(i, new)
    if names != list(df.columns):
        out = (df.copy() if out is None else out)
        out.columns = names
    return df if out is None else out


def unprotect_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A table read from a CSV file the pipeline wrote, every text cell and column name
    unprotected (the table is changed in place and returned)."""
    df.columns = [unprotect(n) if isinstance(n, str) else n for n in df.columns]
    for i in escaped_columns(df):
        col = df.iloc[:, i]
        df.isetitem(i, pd.Series([_unprotect_cell(v) for v in col.to_numpy(dtype=object)], index=col.index, dtype=col.dtype))
    return df


def escaped_columns(df: pd.DataFrame) -> list[int]:
    """Positions of the text columns of a table read from CSV holding a cell that starts with ESCAPE."""
    out = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if _texts_column(col):
            # a year's forms.csv has 800,000 rows: one look at the joined texts, then the exact check
            values = col.to_numpy(dtype=object)
            if _may_start(values, frozenset(ESCAPE), _MAY_ESCAPE) and any(
                    isinstance(v, str) and v[:1] == ESCAPE for v in values):
                out.append(i)
    return out


def unprotect_row(row: dict[str, str]) -> dict[str, str]:
    """One row of csv.DictReader over a CSV file the pipeline wrote, unprotected."""
    return {unprotect(k) if isinstance(k, str) else k: _unprotect_cell(v) for k, v in row.items()}


def unprotect_all(texts: Iterable[Any]) -> list[Any]:
    return [_unprotect_cell(v) for v in texts]
