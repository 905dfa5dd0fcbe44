"""«Кадры»: the counts of people a form gives, and the methodology's consistency rules between
them (a part larger than its whole is not used)."""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd

from ...config.methodology import Methodology
from ...form.fields import SHEET_STAFF, layout
from .issues import NOT_USED, Cell, Issues, missing_row
from .parse import number_problem_text, parse_count


def staff_row(code: str, file: str, cells: dict[str, Cell], issues: Issues, methodology: Methodology,
              count: Callable[[Cell], tuple[int | None, str | None]] = parse_count) -> dict[str, Any]:
    """One school's row of staff.csv; a count that is missing, not a whole number ≥ 0, or
    larger than its whole is empty (and an issue says why)."""
    labels = layout(methodology).staff_labels
    values: dict[str, int | None] = {}
    where: dict[str, Cell] = {}
    for p, label in labels.items():
        v = cells.get(f"staff.{p}")
        if v is None:
            missing_row(code, file, SHEET_STAFF, f"staff.{p}", f"{p} {label}", issues, "staff.missing", "error", NOT_USED)
            values[p] = None
            continue
        where[p] = v
        n, problem = count(v)
        if problem == "missing":
            issues.at(v, code, "staff.missing", "error",
                      f"{p} «{label}» не заполнено ({v.where()}). Укажите число педагогов (0, если таких нет).", NOT_USED)
        elif problem == "value.number_as_text":
            issues.at(v, code, problem, "warning", f"{p} записано как текст ({v.value}). Введите число в ячейку.",
                      "значение использовано")
        elif problem:
            issues.at(v, code, problem, "error",
                      f"{p} «{label}»: {number_problem_text(problem, v)}. Укажите целое число не меньше 0.", NOT_USED)
        values[p] = n
    for check in methodology.form.checks:
        whole = check.at_most
        for part in check.counts:
            if values.get(part) is None or values.get(whole) is None or values[part] <= values[whole]:
                continue
            if check.what:
                message = f"{part} ({values[part]}) больше {whole} ({values[whole]}): {check.what}."
            else:
                message = f"{part} ({values[part]}) больше {check.whole_text or 'значения'} {whole} ({values[whole]})."
            issues.at(where[part], code, check.rule, "error", f"{message} Исправьте {part} или {whole}.",
                      f"значение {part} не используется в расчётах")
            values[part] = None
    return {"school_code": code, **{p: (pd.NA if values[p] is None else values[p]) for p in labels}}
