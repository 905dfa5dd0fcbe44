"""Stage «clean»: typed, validated tables from the forms, and every problem found.

Pure: `run` takes the ingest tables (forms.csv, files.csv), the registry, the methodology and
the parameters, and returns checklist.csv, staff.csv, profile.csv and issues.csv. Nothing is
lost and nothing is silent: each problem becomes one row of issues.csv with the school, file,
sheet, cell, raw value, a rule code of pipeline/core/rules.py (its severity: «error» — the
value or form is not used; «warning» — used, but look at it), a Russian message saying what is
wrong and what to fix, and the action the pipeline took. The fields checked are the ones the
methodology declares (pipeline/form/fields.py).

    profile.py    «Сведения»: identity and declared fields      → profile.csv
    staff.py      «Кадры»: counts and their consistency rules   → staff.csv
    checklist.py  «Показатели»: scores, evidence, links          → checklist.csv
    department.py the department's workbook                      → department_*.csv
    measures.py   last year's measures recorded (measures.xlsx)  → measures_reported.csv
    parse.py      one value: count, score, да/нет, type
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from ...config.methodology import Methodology
from ...config.params import YearParams
from ...core.csvtext import unprotect_frame
from ...core.rules import fix_of, rule_name
from ...core.values import records
from ...fast.memory import gc_paused
from ...form.fields import layout
from ...form.registry import repaired_codes
from .cells import cells_by_file, first_of_each
from .checklist import CHECKLIST_COLUMNS, Context, checklist_rows
from .department import department_tables
from .measures import measures_table
from .issues import Issues
from .profile import empty_profile_row, profile_row
from .staff import staff_row


def _prepare(df: pd.DataFrame, text_cols: list[str]) -> pd.DataFrame:
    df = df.copy()
    for c in text_cols:
        if c in df.columns:
            df[c] = df[c].astype("string").fillna("").astype(str)
    return df


def run(forms_df: pd.DataFrame, files: pd.DataFrame, registry: pd.DataFrame, methodology: Methodology,
        params: YearParams) -> dict[str, pd.DataFrame]:
    """checklist.csv, staff.csv, profile.csv, issues.csv and the department's tables of the year."""
    with gc_paused():
        files = _prepare(files, ["file", "kind", "status", "reason", "school_code", "filled_date", "rule", "sheet", "cell", "value"])
        registry = _prepare(registry, ["code", "name", "type"])
        issues = Issues()
        file_rows = records(files)
        _file_issues(file_rows, issues)
        _registry_issues(registry, file_rows, issues)
        profile, staff, checklist = _school_rows(file_rows, registry, forms_df, issues, methodology, params)
        department = department_tables(forms_df, files, registry, issues)
        department["measures_reported.csv"] = measures_table(forms_df, files, registry, params.academic_year, issues)
        return {
            "checklist.csv": _checklist_table(checklist),
            "staff.csv": _staff_table(staff, methodology),
            "profile.csv": _profile_table(profile, methodology),
            "issues.csv": issues.frame(),
            **department,
        }


def _file_issues(file_rows: list[Any], issues: Issues) -> None:
    """Every rejected or superseded file is an issue too."""
    for f in file_rows:
        if f.status == "rejected":
            severity = "warning" if f.rule in ("file.lock", "file.hidden") else "error"
            action = "файл пропущен" if severity == "warning" else "форма отклонена, её данные не используются"
            where = f" (лист «{f.sheet}»" + (f", ячейка {f.cell})" if f.cell else ")") if f.sheet else ""
            issues.add(f.school_code, f.file, f.sheet, f.cell, "", f.value, f.rule or "form.rejected", severity,
                       f"Файл «{f.file}»{where} отклонён: {f.reason}. {fix_of(f.rule)}", action)
        elif f.status == "superseded":
            issues.add(f.school_code, f.file, f.sheet, f.cell, "info.filled_date", f.value, "form.superseded", "warning",
                       f"Школа прислала несколько форм; эта не используется: {f.reason}. {fix_of('form.superseded')}",
                       "форма не используется (заменена более поздней)")


def _registry_issues(registry: pd.DataFrame, file_rows: list[Any], issues: Issues) -> None:
    """One warning naming the registry file when its codes had lost their leading zeros."""
    repaired = repaired_codes(registry)
    if not repaired:
        return
    name = next((f.file for f in file_rows if f.status == "registry"), "registry.csv")
    shown = ", ".join(f"{g} → {c}" for g, c in repaired[:5]) + (", …" if len(repaired) > 5 else "")
    issues.add("", name, "", "", "code", repaired[0][0], "registry.code_repaired", "warning",
               f"В реестре «{name}» у кодов ОО потеряны ведущие нули ({len(repaired)}: {shown}); коды восстановлены "
               f"до {len(repaired[0][1])} знаков. {fix_of('registry.code_repaired')}",
               "коды восстановлены; формы и прошлые годы сопоставлены по восстановленным кодам")


def _school_rows(file_rows: list[Any], registry: pd.DataFrame, forms_df: pd.DataFrame, issues: Issues,
                 methodology: Methodology, params: YearParams) -> tuple[list, list, list]:
    """Every registry school's profile row, and the staff and checklist rows of those with a form."""
    accepted = {f.school_code: f.file for f in file_rows if f.status == "accepted"}
    rejected_by_school: dict[str, list[str]] = defaultdict(list)
    for f in file_rows:
        if f.status == "rejected" and f.school_code:
            rejected_by_school[f.school_code].append(f.file)
    by_file = cells_by_file(forms_df, set(accepted.values()))
    context = Context(methodology)
    profiles, staff, checklist = [], [], []
    for reg in records(registry.sort_values("code")):
        code = reg.code
        file = accepted.get(code)
        if file is None:
            _not_submitted(code, rejected_by_school.get(code), issues)
            profiles.append(empty_profile_row(code, reg, methodology, submitted=False))
            continue
        cells = first_of_each(by_file.get(file, ({}, {})), code, issues)
        profiles.append(profile_row(code, reg, file, cells, issues, methodology, params))
        staff.append(staff_row(code, file, cells, issues, methodology, context.count))
        checklist += checklist_rows(code, file, cells, methodology, issues, context)
    return profiles, staff, checklist


def _not_submitted(code: str, rejected: list[str] | None, issues: Issues) -> None:
    if rejected:
        msg = (f"Форма школы не принята: отклонён файл {', '.join('«' + o + '»' for o in rejected)} "
               "(причина — в строке этого файла). Попросите школу прислать исправленную форму.")
    else:
        msg = "Форма школы не представлена. Напомните школе прислать форму года."
    issues.add(code, "", "", "", "", "", "form.not_submitted", "error", msg, "школа не участвует в расчётах; в отчёте — «нет данных»")


def _profile_table(rows: list[dict[str, Any]], methodology: Methodology) -> pd.DataFrame:
    form = layout(methodology)
    profile = pd.DataFrame(rows, columns=list(form.profile_columns))
    profile["submitted"] = profile["submitted"].astype(bool)
    for f in form.declared:
        if f.kind == "integer":
            profile[f.key] = profile[f.key].astype("Int64")
        elif f.kind == "yesno":
            profile[f.key] = profile[f.key].astype("boolean")
    return profile.reset_index(drop=True)


def _staff_table(rows: list[dict[str, Any]], methodology: Methodology) -> pd.DataFrame:
    codes = layout(methodology).staff_codes
    staff = pd.DataFrame(rows, columns=["school_code", *codes])
    for c in codes:
        staff[c] = staff[c].astype("Int64")
    return staff.reset_index(drop=True)


def _checklist_table(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    checklist = pd.DataFrame(rows, columns=CHECKLIST_COLUMNS)
    checklist["score"] = checklist["score"].astype("Int64")
    checklist["link_ok"] = checklist["link_ok"].astype(bool)
    checklist["has_document"] = checklist["has_document"].astype(bool)
    return checklist.reset_index(drop=True)


def summary(issues: pd.DataFrame) -> pd.DataFrame:
    """Issues by rule and severity, most frequent first (for the notebook)."""
    if issues.empty:
        return pd.DataFrame({"правило": [], "что проверяется": [], "важность": [], "замечаний": []})
    g = issues.groupby(["rule", "severity"]).size().reset_index(name="n")
    g = g.sort_values(["n", "rule"], ascending=[False, True], kind="stable")
    return pd.DataFrame({
        "правило": g["rule"].to_numpy(),
        "что проверяется": [rule_name(r) for r in g["rule"]],
        "важность": g["severity"].to_numpy(),
        "замечаний": g["n"].to_numpy(),
    })


def findings(issues: pd.DataFrame, profile: pd.DataFrame) -> str:
    """One Russian paragraph of what the clean stage found."""
    expected = len(profile)
    submitted = int(profile["submitted"].sum()) if expected else 0
    errors = int((issues["severity"] == "error").sum()) if not issues.empty else 0
    warnings = int((issues["severity"] == "warning").sum()) if not issues.empty else 0
    registry = set(profile["school_code"])
    schools = issues.loc[issues["school_code"].isin(registry), "school_code"].nunique() if not issues.empty else 0
    return (f"Ожидалось форм: {expected}, принято: {submitted}, не представлено или отклонено: {expected - submitted}. "
            f"Замечаний к данным: {errors + warnings} (ошибок — {errors}, предупреждений — {warnings}), "
            f"школ реестра с замечаниями: {schools}. Ошибочные значения в расчётах не используются; полный список — issues.csv.")


def read_inputs(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """forms.csv and files.csv of the ingest stage, every text column kept as text (one leading
    apostrophe of a cell removed: pipeline/core/csvtext.py).

    (storage.read_table infers types, which would turn a value column holding only codes such
    as «0340» into numbers and «NA» typed by a school into a missing value.)
    """
    folder = Path(folder)
    out = []
    for name, ints in (("forms.csv", ("row",)), ("files.csv", ("size_bytes",))):
        # na_filter=False: nothing is missing (as keep_default_na=False alone says), without
        # looking at every cell for it
        df = unprotect_frame(pd.read_csv(folder / name, dtype=str, keep_default_na=False, na_filter=False))
        for c in ints:
            df[c] = df[c].astype("int64")
        out.append(df)
    return out[0], out[1]
