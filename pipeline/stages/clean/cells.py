"""A year's forms.csv as each accepted form's cells: the first cell of every field, and the
cells of a field that appears again in the same form (reported, not used)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from ...core.rules import fix_of
from .issues import Cell, Issues


def _text_column(col: pd.Series) -> np.ndarray:
    """A column as _prepare makes it (missing → '', anything else as text), as an object array
    (the column's own when it is text without missing values: not copied)."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.to_numpy(dtype=object) if not col.hasnans else col.to_numpy(dtype=object, na_value="")
    values = col.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        missing = pd.isna(values)
        if missing.any():
            values = values.copy()
            values[missing] = ""
        return values
    return col.astype("string").fillna("").astype(str).to_numpy(dtype=object)


_CELL_COLUMNS = Cell._fields  # forms.csv's columns a Cell is made of, in its order


# One form's cells: each field's first cell (fields in the order they first appear), and the
# cells of a field that appears again (only for those fields: a dict per form, not a list per
# field — a year has a million fields).
FormCells = tuple[dict[str, Cell], dict[str, list[Cell]]]


class FormsCells:
    """file → FormCells, each form's made when it is asked for (`get`), from the runs of rows
    forms.csv holds it in: a year's million cells are never all held as Cells at once."""

    def __init__(self, cols: list[np.ndarray], runs: dict[str, list[tuple[int, int]]]) -> None:
        self._cols, self._runs = cols, runs

    def __contains__(self, name: object) -> bool:
        return name in self._runs

    def get(self, name: str, default: FormCells | None = None) -> FormCells | None:
        runs = self._runs.get(name)
        if runs is None:
            return default
        cols = self._cols
        make = functools.partial(tuple.__new__, Cell)
        first: dict[str, Cell] = {}
        again: dict[str, list[Cell]] = {}
        for i, (start, stop) in enumerate(runs):
            part = [c[start:stop].tolist() for c in cols]
            cells = map(make, zip(*part))
            if i == 0:
                first = dict(zip(part[3], cells))
                if len(first) == stop - start:  # every field once (the usual form)
                    continue
                first = {}
                cells = map(make, zip(*part))
            for cell in cells:
                if first.setdefault(cell.field, cell) is not cell:
                    again.setdefault(cell.field, []).append(cell)
        return first, again


def cells_by_file(forms_df: pd.DataFrame, files: set[str]) -> FormsCells:
    """The values of the given files, in the order of forms_df: file → FormCells (made when asked)."""
    # (a forms.csv written before formulas were recorded has no formula column: none known)
    cols = [_text_column(forms_df[c]) if c in forms_df.columns else np.full(len(forms_df), "", dtype=object)
            for c in _CELL_COLUMNS]
    names = cols[0]
    runs: dict[str, list[tuple[int, int]]] = {}
    if len(names):
        # runs of rows of one file (a form's rows are together in forms.csv, but need not be)
        bounds = [0, *(np.flatnonzero(names[1:] != names[:-1]) + 1).tolist(), len(names)]
        for start, stop in zip(bounds, bounds[1:]):
            if names[start] in files:
                runs.setdefault(names[start], []).append((start, stop))
    return FormsCells(cols, runs)


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


