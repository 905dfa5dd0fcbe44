"""«Сведения»: the school's identity and the methodology's fields, typed and checked — one row
of profile.csv per school with an accepted form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ...config.methodology import Methodology
from ...config.params import YearParams
from ...form.fields import SHEET_INFO, InfoRow, layout
from ...form.text import normalize_school_code, norm_text, parse_date
from .issues import NOT_USED, Cell, Issues, missing_row
from .parse import _same_name, number_problem_text, parse_count, parse_type, parse_yesno

OPTIONAL = "замечание для школы; на расчёты не влияет"


def empty_profile_row(code: str, reg: Any, methodology: Methodology, *, submitted: bool, file: str = "") -> dict[str, Any]:
    """A school's profile row before its form is read (or when it sent none)."""
    row: dict[str, Any] = {"school_code": code, "school_name": reg.name, "school_type": reg.type,
                           "submitted": submitted, "file": file}
    for f in layout(methodology).declared:
        row[f.key] = pd.NA if f.kind in ("integer", "yesno") else ""
    row["filled_date"] = ""
    return row


class _ProfileReader:
    """Reads one school's «Сведения» cells into its profile row, recording every problem."""

    def __init__(self, code: str, reg: Any, file: str, cells: dict[str, Cell], issues: Issues,
                 methodology: Methodology, params: YearParams) -> None:
        self.code, self.reg, self.file, self.cells, self.issues = code, reg, file, cells, issues
        self.m, self.params = methodology, params
        self.form = layout(methodology)
        self.row = empty_profile_row(code, reg, methodology, submitted=True, file=file)

    def get(self, f: InfoRow, severity: str, action: str) -> Cell | None:
        """The field's cell, or None (missing or empty: an issue)."""
        v = self.cells.get(f"info.{f.key}")
        if v is None:
            missing_row(self.code, self.file, SHEET_INFO, f"info.{f.key}", f.label, self.issues, "info.missing", severity, action)
            return None
        if v.empty:
            self.issues.at(v, self.code, "info.missing", severity, f"Не заполнено «{f.label}» ({v.where()}). Заполните значение.",
                           action)
            return None
        return v

    def issue(self, v: Cell, rule: str, severity: str, message: str, action: str) -> None:
        self.issues.at(v, self.code, rule, severity, message, action)

    # -- the identity
    def school_code(self) -> None:
        """Ingest matched the code; say so if it had lost its leading zeros."""
        v, code = self.cells.get("info.school_code"), self.code
        if v is None or v.empty or normalize_school_code(v.value) == code:
            return
        written = normalize_school_code(v.value)
        if v.value_type == "number":
            rule, how = "info.code_as_number", "записан числом — ведущие нули потеряны"
        elif written.isdigit():
            rule, how = "info.code_normalized", "записан без ведущих нулей"
        else:
            rule, how = "info.code_normalized", "записан с буквой «О» вместо нуля"
        self.issue(v, rule, "warning", f"«Код ОО» {how} ({v.value}). Запишите код текстом, как в реестре: {code}.",
                   f"форма сопоставлена с кодом {code} из реестра")

    def school_name(self) -> None:
        v = self.get(self.form.by_key["school_name"], "warning", "используется наименование из реестра")
        if v is not None and not _same_name(v.value, self.reg.name):
            self.issue(v, "info.name_mismatch", "warning",
                       f"Наименование ОО в форме («{v.value.strip()}») не совпадает с реестром («{self.reg.name}»). "
                       "Проверьте, та ли это школа; при необходимости исправьте форму или реестр.",
                       "используется наименование из реестра")

    def school_type(self) -> None:
        reg_type = self.reg.type
        types, aliases = tuple(self.m.form.school_types), tuple(self.m.form.type_aliases.items())
        v = self.get(self.form.by_key["school_type"], "warning", f"используется тип из реестра ({reg_type})")
        if v is None:
            return
        t = parse_type(v.value, types, aliases)
        if t is None:
            self.issue(v, "info.bad_type", "error", f"Тип ОО «{v.value}» не из списка ({', '.join(types)}). Выберите тип из списка.",
                       f"значение не используется; используется тип из реестра ({reg_type})")
        elif t != reg_type:
            self.issue(v, "info.type_mismatch", "warning",
                       f"Тип ОО в форме ({t}) не совпадает с реестром ({reg_type}). Исправьте форму или реестр.",
                       f"используется тип из реестра ({reg_type})")
        if parse_type(reg_type, types, aliases) is None and t is not None:
            self.row["school_type"] = t

    def date(self, f: InfoRow, severity: str, action: str) -> None:
        v = self.get(f, severity, action)
        if v is None:
            return
        d = parse_date(v.value, v.value_type)
        start, end = (int(x) for x in self.params.academic_year.split("-"))
        if d is None:
            self.issue(v, "info.bad_date", "error", f"«{f.label}» не распознана («{v.value}»). Введите дату в формате ДД.ММ.ГГГГ.",
                       NOT_USED)
            return
        self.row[f.key] = d.isoformat()
        if v.value_type != "date":
            self.issue(v, "info.date_as_text", "warning", f"«{f.label}» записана как текст ({v.value}). Введите дату в ячейку как дату.",
                       "дата распознана и использована")
        if not (dt.date(start, 9, 1) <= d <= dt.date(end, 12, 31)):
            self.issue(v, "info.date_out_of_range", "warning",
                       f"«{f.label}» {d.strftime('%d.%m.%Y')} вне {self.params.academic_year} учебного года. Проверьте дату.",
                       "дата использована")

    # -- the methodology's fields
    def declared(self, f: InfoRow) -> None:
        condition = self._condition(f)
        v = self.cells.get(f"info.{f.key}")
        if condition is False and (v is None or v.empty):  # not concerned: an empty answer is нет
            self.row[f.key] = False if f.kind == "yesno" else self.row[f.key]
            return
        action = self._action(f)
        v = self.get(f, "error" if f.required else "warning", action)
        if v is None:
            return
        if f.kind == "integer":
            self._integer(f, v, action)
        elif f.kind == "yesno":
            b = parse_yesno(v)
            if b is None:
                self.issue(v, "info.bad_yesno", "error",
                           f"«{f.label}»: ожидается «да» или «нет», записано «{v.value}». Выберите значение из списка.", NOT_USED)
            self.row[f.key] = pd.NA if b is None else b
        elif f.kind == "date":
            self.date(f, "error" if f.required else "warning", action)
        elif f.kind == "choice":
            chosen = {norm_text(c): c for c in f.choices}.get(norm_text(v.value))
            if chosen is None:
                self.issue(v, "info.bad_choice", "error",
                           f"«{f.label}»: «{v.value}» не из списка ({', '.join(f.choices)}). Выберите значение из списка.", NOT_USED)
            else:
                self.row[f.key] = chosen
        else:
            self.row[f.key] = v.value.strip()

    def _condition(self, f: InfoRow) -> bool | None:
        """For a field asked only where another да/нет is да: that answer (None when unknown)."""
        if f.required_if is None:
            return None
        v = self.cells.get(f"info.{f.required_if}")
        return None if v is None or v.empty else parse_yesno(v)

    def _action(self, f: InfoRow) -> str:
        if not f.required:
            return OPTIONAL
        if f.key == self.m.cluster_rule.size_field:
            return NOT_USED + ": кластер школы не определяется"
        return NOT_USED

    def _integer(self, f: InfoRow, v: Cell, action: str) -> None:
        n, problem = parse_count(v)
        if problem == "value.number_as_text":
            self.issue(v, problem, "warning", f"«{f.label}»: число записано как текст ({v.value}). Введите число в ячейку.",
                       "значение использовано")
        elif problem:
            self.issue(v, problem, "error", f"«{f.label}»: {number_problem_text(problem, v)}. Укажите целое число не меньше 0.",
                       action)
        self.row[f.key] = n if n is not None else pd.NA


def profile_row(code: str, reg: Any, file: str, cells: dict[str, Cell], issues: Issues, methodology: Methodology,
                params: YearParams) -> dict[str, Any]:
    """One school's row of profile.csv from its form's «Сведения»."""
    r = _ProfileReader(code, reg, file, cells, issues, methodology, params)
    r.school_code()
    r.school_name()
    r.school_type()
    r.get(r.form.by_key["academic_year"], "warning", "форма принята: учебный год не проверен")
    for f in r.form.declared:
        r.declared(f)
    r.date(r.form.by_key["filled_date"], "warning", "при нескольких формах школы эта считается самой ранней")
    return r.row
