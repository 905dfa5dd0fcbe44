"""The department's workbook (department.xlsx): its cells from forms.csv checked and made into
department_rmo.csv, department_network.csv and department_visits.csv; every problem an issue
with its sheet and cell. Without the workbook the tables are empty, with their columns."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from ...core.contract import columns
from ...core.rules import ERROR, WARNING, fix_of
from ...form.department import NETWORK_FORMS, RMO_COUNTS
from ...form.registry import canonical_code
from ...form.text import norm_text, parse_date
from .issues import Cell, Issues
from .parse import parse_count, parse_yesno

NOT_USED = "значение не используется в расчётах"


def _items(forms_df: pd.DataFrame, files: set[str]) -> dict[str, list[dict[str, Cell]]]:
    """sheet key → its item rows in sheet order, each column key → Cell."""
    d = forms_df[forms_df["file"].isin(files)]  # (the workbook's few rows first: forms.csv has a million)
    d = d[d["field"].str.startswith("department.")]
    rows: dict[tuple[str, int], dict[str, Cell]] = defaultdict(dict)
    for r in d.itertuples(index=False):
        _, key, col = r.field.split(".", 2)
        cell = Cell(r.file, r.sheet, r.cell, r.field, r.value, r.value_type, r.label, getattr(r, "formula", "") or "")
        rows[(key, int(r.row))][col] = cell
    out: dict[str, list[dict[str, Cell]]] = defaultdict(list)
    for (key, _), cells in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        out[key].append(cells)
    return out


def _problem(issues: Issues, v: Cell, rule: str, severity: str, what: str) -> None:
    issues.at(v, "", rule, severity, f"Данные управления образования ({v.where()}): {what}. {fix_of(rule)}", NOT_USED)


def _count(v: Cell | None, issues: Issues, required: bool) -> int | None:
    """A count of «РМО»; an empty one is a warning only where it is required (meetings)."""
    if v is None:
        return None
    value, problem = parse_count(v)
    if problem == "missing" and not required:
        return None
    if problem == "missing":
        _problem(issues, v, "department.missing", WARNING, f"не заполнено «{v.label}»")
    elif problem == "value.number_as_text":
        return value
    elif problem:
        _problem(issues, v, problem, ERROR, f"«{v.value}» — не целое число не меньше 0")
    return value


def rmo_table(items: list[dict[str, Cell]], issues: Issues) -> pd.DataFrame:
    rows = []
    for it in items:
        direction = it.get("direction")
        if direction is None or direction.empty:
            _problem(issues, next(iter(it.values())), "department.missing", WARNING, "не указано направление РМО")
            continue
        rows.append({"direction": direction.value.strip(), **{c: _count(it.get(c), issues, c == "meetings") for c in RMO_COUNTS}})
    df = pd.DataFrame(rows, columns=list(columns("clean", "department_rmo.csv")))
    return df.astype({"direction": "string", **{c: "Int64" for c in RMO_COUNTS}})


def network_table(items: list[dict[str, Cell]], issues: Issues) -> pd.DataFrame:
    rows = []
    for it in items:
        kind, name, working = it.get("form"), it.get("name"), it.get("working")
        form = NETWORK_FORMS.get(norm_text(kind.value)) if kind is not None else None
        if form is None:
            _problem(issues, kind or next(iter(it.values())), "department.bad_choice", ERROR,
                     f"вид «{kind.value if kind else ''}» не из списка ({', '.join(NETWORK_FORMS)})")
            continue
        ok = parse_yesno(working) if working is not None and not working.empty else None
        if ok is None:
            _problem(issues, working or kind, "department.bad_yesno", ERROR,
                     f"в столбце «Работает» «{working.value if working else ''}» вместо «да» или «нет»")
        rows.append({"form": form, "name": name.value.strip() if name is not None else "", "working": ok})
    df = pd.DataFrame(rows, columns=list(columns("clean", "department_network.csv")))
    return df.astype({"form": "string", "name": "string", "working": "boolean"})


def visits_table(items: list[dict[str, Cell]], codes: set[str], issues: Issues, width: int | None) -> pd.DataFrame:
    rows = []
    for it in items:
        code_v, date_v, support = it.get("school_code"), it.get("date"), it.get("support")
        code = canonical_code(code_v.value, width) if code_v is not None else ""
        if code not in codes:
            _problem(issues, code_v or next(iter(it.values())), "department.unknown_school", ERROR,
                     f"кода ОО «{code}» нет в реестре школ года")
            continue
        day = parse_date(date_v.value, date_v.value_type) if date_v is not None else None
        if day is None:
            _problem(issues, date_v or code_v, "department.bad_date", ERROR,
                     f"дата выезда «{date_v.value if date_v else ''}» не распознана")
            continue
        rows.append({"school_code": code, "date": day.isoformat(), "support": support.value.strip() if support else ""})
    df = pd.DataFrame(rows, columns=list(columns("clean", "department_visits.csv")))
    return df.astype("string")


def department_tables(forms_df: pd.DataFrame, files: pd.DataFrame, registry: pd.DataFrame,
                      issues: Issues) -> dict[str, pd.DataFrame]:
    """The three department tables from the cells of the year's department workbook."""
    names = set(files.loc[files["status"] == "department", "file"])
    items: Any = _items(forms_df, names) if names else {}
    codes = set(registry["code"].astype(str))
    widths = {len(c) for c in codes if c.isdigit()}
    width = widths.pop() if len(widths) == 1 else None  # «107» in a visit row is «0107» of the registry
    return {
        "department_rmo.csv": rmo_table(items.get("rmo", []), issues),
        "department_network.csv": network_table(items.get("network", []), issues),
        "department_visits.csv": visits_table(items.get("visits", []), codes, issues, width),
    }
