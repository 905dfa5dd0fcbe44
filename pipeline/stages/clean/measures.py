"""The record of last year's measures (measures.xlsx in this year's raw folder): its cells from
forms.csv checked and made into measures_reported.csv — one row per measure the department
reported on — every problem an issue with its sheet and cell. Without the file the table is
empty, with its columns.

Checked here, with this year's data only: the measure id (a roadmap id `seminar:`, `measure:`
or `visit:<registry school>`, once), «Выполнено» (да/нет), the date (a date within the school
year the roadmap was for: 01.07 of its first year to 30.06 of its last — this year's
academic_year), the participants (registry codes). Whether an id is one of last year's roadmap
is decided by the recommendations stage (pipeline/stages/measures.py), which reads that year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pandas as pd

from ...core.contract import columns
from ...core.rules import ERROR, WARNING, fix_of
from ...form.measures import INPUTS, MEASURES_FILE
from ...form.registry import canonical_code
from ...form.text import parse_date
from .issues import Cell, Issues
from .parse import parse_yesno

NOT_USED = "значение не используется в анализе эффективности мер"
ID_PATTERN = re.compile(r"(seminar|measure|visit):(\S+)")
COLUMNS = columns("clean", "measures_reported.csv")


def school_year_window(academic_year: str) -> tuple[dt.date, dt.date]:
    """The dates a roadmap's measure may carry: 01.07 of the school year's first year to 30.06 of
    its last (the months of pipeline/stages/decisions.py `school_month`)."""
    start, end = (int(x) for x in academic_year.split("-"))
    return dt.date(start, 7, 1), dt.date(end, 6, 30)


def _rows(forms_df: pd.DataFrame, files: set[str]) -> list[dict[str, Cell]]:
    """The item rows of the measures workbook, in sheet order, each column key → Cell."""
    d = forms_df[forms_df["file"].isin(files)]  # (the workbook's few rows first: forms.csv has a million)
    d = d[d["field"].str.startswith("measures.")]
    rows: dict[tuple[str, int], dict[str, Cell]] = defaultdict(dict)
    for r in d.itertuples(index=False):
        col = r.field.split(".", 1)[1]
        rows[(r.file, int(r.row))][col] = Cell(r.file, r.sheet, r.cell, r.field, r.value, r.value_type, r.label,
                                               getattr(r, "formula", "") or "")
    return [rows[k] for k in sorted(rows)]


def _problem(issues: Issues, v: Cell, rule: str, severity: str, what: str) -> None:
    issues.at(v, "", rule, severity, f"Сведения о выполнении мер ({v.where()}): {what}. {fix_of(rule)}", NOT_USED)


def _participants(v: Cell | None, codes: set[str], width: int | None, issues: Issues) -> str:
    """Registry codes of the participants, «;»-joined in sorted order; unknown codes an issue."""
    if v is None or v.empty:
        return ""
    given = [canonical_code(x, width) for x in re.split(r"[;,\s]+", v.value) if x.strip()]
    unknown = [c for c in given if c not in codes]
    if unknown:
        _problem(issues, v, "measures.unknown_participant", ERROR, f"кодов ОО {', '.join(unknown)} нет в реестре школ года")
    return ";".join(sorted({c for c in given if c in codes}))


def measures_table(forms_df: pd.DataFrame, files: pd.DataFrame, registry: pd.DataFrame, academic_year: str,
                   issues: Issues) -> pd.DataFrame:
    """measures_reported.csv: each measure of measures.xlsx with something filled in."""
    names = set(files.loc[(files["status"] == "measures") & (files["file"] == MEASURES_FILE), "file"])
    codes = set(registry["code"].astype(str))
    widths = {len(c) for c in codes if c.isdigit()}
    width = widths.pop() if len(widths) == 1 else None
    first, last = school_year_window(academic_year)
    seen: set[str] = set()
    out = []
    for it in _rows(forms_df, names) if names else []:
        id_v = it.get("decision_id")
        filled = [it[k] for k in INPUTS if k in it and not it[k].empty]
        if not filled:
            continue   # nothing reported: «нет сведений»
        ident = id_v.value.strip() if id_v is not None else ""
        m = ID_PATTERN.fullmatch(ident)
        if m is None or (m.group(1) == "visit" and canonical_code(m.group(2), width) not in codes):
            _problem(issues, id_v or filled[0], "measures.unknown_id", ERROR,
                     f"«{ident}» — не код меры дорожной карты (seminar:…, measure:…, visit:<код ОО из реестра>)")
            continue
        if ident in seen:
            _problem(issues, id_v, "measures.duplicate_id", ERROR, f"мера «{ident}» указана ещё раз")
            continue
        seen.add(ident)
        done_v, date_v = it.get("done"), it.get("date")
        done = None
        if done_v is None or done_v.empty:
            _problem(issues, done_v or filled[0], "measures.missing_done", WARNING, f"по мере «{ident}» не отмечено «Выполнено»")
        else:
            done = parse_yesno(done_v)
            if done is None:
                _problem(issues, done_v, "measures.bad_yesno", ERROR, f"«{done_v.value}» вместо «да» или «нет»")
        day = None
        if date_v is not None and not date_v.empty:
            day = parse_date(date_v.value, date_v.value_type)
            if day is None:
                _problem(issues, date_v, "measures.bad_date", ERROR, f"дата «{date_v.value}» не распознана")
            elif not first <= day <= last:
                _problem(issues, date_v, "measures.date_outside_year", ERROR,
                         f"дата {day:%d.%m.%Y} вне {first:%d.%m.%Y}–{last:%d.%m.%Y}")
                day = None
        document = it.get("document")
        out.append({"decision_id": ident, "done": done, "date": day.isoformat() if day else "",
                    "document": document.value.strip() if document is not None and not document.empty else "",
                    "participants": _participants(it.get("participants"), codes, width, issues),
                    "file": id_v.file, "cell": id_v.cell})
    df = pd.DataFrame(out, columns=list(COLUMNS) + ["file", "cell"])
    return df.astype({c: "string" for c in df.columns if c != "done"}).astype({"done": "boolean"})
