"""A year's forms.csv as each accepted form's cells: the first cell of every field, and the
cells of a field that appears again in the same form (reported, not used)."""

from __future__ import annotations

import collections
import functools
from typing import Any

import numpy as np
import pandas as pd

from ...core.rules import fix_of
from .issues import Cell, Issues


def _text_column(col: pd.Series) -> list[str]:
    """A column as _prepare makes it (missing → '', anything else as text), as a list."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.to_numpy(dtype=object, na_value="").tolist()
    values = col.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        missing = pd.isna(values)
        if missing.any():
            values = values.copy()
            values[missing] = ""
        return values.tolist()
    return col.astype("string").fillna("").astype(str).tolist()


def _rows(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    """df.itertuples(index=False) as a list, made from whole columns (several times faster)."""
    row = collections.namedtuple("Pandas", [str(c) for c in df.columns], rename=True)
    return list(map(row._make, zip(*(df.iloc[:, i].tolist() for i in range(df.shape[1])))))


_CELL_COLUMNS = Cell._fields  # forms.csv's columns a Cell is made of, in its order


# One form's cells: each field's first cell (fields in the order they first appear), and the
# cells of a field that appears again (only for those fields: a dict per form, not a list per
# field — a year has a million fields).
FormCells = tuple[dict[str, Cell], dict[str, list[Cell]]]


def cells_by_file(forms_df: pd.DataFrame, files: set[str]) -> dict[str, FormCells]:
    """The values of the given files, in the order of forms_df: file → FormCells."""
    by_file: dict[str, FormCells] = {}
    # (a forms.csv written before formulas were recorded has no formula column: none known)
    cols = [_text_column(forms_df[c]) if c in forms_df.columns else [""] * len(forms_df) for c in _CELL_COLUMNS]
    names, fields = cols[0], cols[3]
    if not names:
        return by_file
    # runs of rows of one file (a form's rows are together in forms.csv, but need not be)
    file_of = np.asarray(names, dtype=object)
    bounds = [0, *(np.flatnonzero(file_of[1:] != file_of[:-1]) + 1).tolist(), len(names)]
    make = functools.partial(tuple.__new__, Cell)
    for start, stop in zip(bounds, bounds[1:]):
        name = names[start]
        if name not in files:
            continue
        cells = map(make, zip(*(c[start:stop] for c in cols)))
        if name not in by_file:
            first = dict(zip(fields[start:stop], cells))
            if len(first) == stop - start:  # every field once (the usual form)
                by_file[name] = (first, {})
                continue
            cells = map(make, zip(*(c[start:stop] for c in cols)))
        first, again = by_file.setdefault(name, ({}, {}))
        for cell in cells:
            if first.setdefault(cell.field, cell) is not cell:
                again.setdefault(cell.field, []).append(cell)
    return by_file


def first_of_each(fields: FormCells, code: str, issues: Issues) -> dict[str, Cell]:
    """Each field's first cell; a field found again is reported (field.duplicate), and so is a
    cell holding a formula whose cached value is used (value.formula)."""
    first, again = fields
    for cell in first.values():
        if cell.formula and not cell.empty:
            issues.at(cell, code, "value.formula", "warning",
                      f"В ячейке ({cell.where()}) формула «{cell.formula}»; взято её вычисленное значение «{cell.value}». "
                      f"{fix_of('value.formula')}", "используется вычисленное значение формулы")
    for name, cell in first.items() if again else ():
        for dup in again.get(name, ()):
            issues.at(dup, code, "field.duplicate", "warning",
                      f"Поле «{dup.label or name}» встречается в форме дважды ({cell.where()} и {dup.where()}). "
                      "Удалите лишнюю строку.",
                      f"используется первое значение ({cell.sheet}!{cell.cell}); это значение не используется")
    return first


