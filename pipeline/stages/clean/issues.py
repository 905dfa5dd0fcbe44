"""What the clean stage finds: every problem of the forms as one row of issues.csv (lazy
validation: all of a school's problems at once), each with a rule of pipeline/core/rules.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from ...core.contract import columns
from ...core.rules import RULES
from ...form.text import split_address

ISSUE_COLUMNS = columns("clean", "issues.csv")
# Rules of an empty cell: for a cell holding a formula without a cached value, value.formula_no_value.
MISSING_RULES = ("info.missing", "staff.missing", "checklist.score_missing", "checklist.missing")


@dataclass
class Issues:
    """Collects issues (lazy validation: every failure at once)."""

    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, school_code: str, file: str, sheet: str, cell: str, fld: str, value: Any, rule: str,
            severity: str, message: str, action: str) -> None:
        known = RULES.get(rule)
        if known is None or severity not in known.severity.split("/"):
            raise ValueError(f"issues.csv: rule {rule!r} with severity {severity!r} is not in pipeline/core/rules.py")
        self.rows.append({"school_code": school_code or "", "file": file or "", "sheet": sheet or "", "cell": cell or "",
                          "field": fld or "", "value": "" if value is None else str(value), "rule": rule,
                          "severity": severity, "message": message, "action": action})

    def at(self, v: "Cell", school: str, rule: str, severity: str, message: str, action: str) -> None:
        if v.formula and v.empty and rule in MISSING_RULES:  # not empty: a formula without its value
            rule = "value.formula_no_value"
            message = (f"В ячейке ({v.where()}) формула «{v.formula}», но её вычисленного значения в файле нет "
                       f"(книга сохранена без пересчёта). {RULES[rule].fix}")
        self.add(school, v.file, v.sheet, v.cell, v.field, v.value, rule, severity, message, action)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=list(ISSUE_COLUMNS))
        if df.empty:
            return df.astype("string")
        rc = df["cell"].map(split_address)
        df["_row"] = rc.map(lambda t: t[0])
        df["_col"] = rc.map(lambda t: t[1])
        df = df.sort_values(["school_code", "file", "sheet", "_row", "_col", "rule", "field", "message"], kind="stable")
        return df[list(ISSUE_COLUMNS)].reset_index(drop=True)


class Cell(NamedTuple):
    """One value of a form as ingest recorded it (a named tuple: a year has a million of them,
    made straight from forms.csv's columns)."""

    file: str
    sheet: str
    cell: str
    field: str
    value: str
    value_type: str
    label: str = ""
    formula: str = ""

    @property
    def empty(self) -> bool:
        return self.value_type == "empty" or not self.value.strip()

    def where(self) -> str:
        return f"лист «{self.sheet}», ячейка {self.cell}" if self.cell else f"лист «{self.sheet}»"


NOT_USED = "значение не используется в расчётах"


def missing_row(code: str, file: str, sheet: str, fld: str, label: str, issues: Issues, rule: str, severity: str, action: str) -> None:
    issues.add(code, file, sheet, "", fld, "", rule, severity,
               f"На листе «{sheet}» нет строки «{label}». Заполните форму по шаблону года.", action)
