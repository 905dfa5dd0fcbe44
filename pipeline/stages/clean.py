"""Stage «clean»: typed, validated tables from the forms, and every problem found.

Pure: `run` takes the ingest tables (forms.csv, files.csv), the registry, the methodology and
the parameters, and returns checklist.csv, staff.csv, profile.csv and issues.csv. Nothing is
lost and nothing is silent (SPEC §9): each problem becomes one row of issues.csv with the
school, file, sheet, cell, raw value, a stable rule code, the severity («error» — the value
or form is not used; «warning» — used, but look at it), a Russian message saying what is
wrong and what to fix, and the action the pipeline took.

Rules (issues.csv `rule`):

| rule | severity | what |
|---|---|---|
| file.lock, file.hidden | warning | an Office lock file / a hidden system file in raw_dir, skipped |
| file.not_xlsx, file.corrupt, file.too_large, file.unreadable | error | the file is not a readable .xlsx |
| form.not_a_form, form.missing_sheets, form.unrecognized | error | the workbook is not the year's form |
| form.no_school_code, form.unknown_school, form.wrong_year | error | the form cannot be matched to this year's registry |
| form.superseded | warning | a school sent two forms; the earlier one is not used |
| form.not_submitted | error | a registry school has no accepted form |
| field.duplicate | warning | a field appears twice in a form; the first one is used |
| info.missing | error/warning | a «Сведения» value is missing (warning where it does not affect results) |
| info.code_as_number, info.code_normalized | warning | «Код ОО» lost its leading zeros; matched to the registry |
| info.name_mismatch, info.type_mismatch | warning | name/type differ from the registry; the registry is used |
| info.bad_type, info.bad_yesno, info.bad_date | error | a value that is not one of the allowed ones |
| info.date_as_text, info.date_out_of_range | warning | a date written as text / outside the school year |
| value.number_as_text | warning | a number stored as text; the value is used |
| value.not_a_number, value.not_integer, value.negative | error | a count that is not an integer ≥ 0; not used |
| value.too_large | error | a count above MAX_COUNT (no school has a million teachers or pupils); not used |
| staff.missing | error | a count of «Кадры» is empty or its row is missing |
| staff.exceeds_total | error | P1…P7 or P9 greater than P0; that value is not used |
| staff.winners_exceed_participants | error | P3 greater than P2; P3 is not used |
| staff.mentored_exceed_young | error | P8 greater than P7; P8 is not used |
| checklist.missing, checklist.score_missing | error | a position's row or score is missing; no points |
| checklist.score_as_word | warning | a score written as a word (есть/частично/нет); converted |
| checklist.score_out_of_range, checklist.score_invalid | error | a score not on the position's scale; not counted |
| checklist.unconfirmed | warning | a score above 0 without a supporting document: «не подтверждено» |
| checklist.bad_link | warning | a link that is not an http(s) address; never shown as a link |
| checklist.unknown_position | warning | a row with a code that is not in the methodology; ignored |
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import gc
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NamedTuple
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from ..core.contract import RULE_NAMES, columns
from ..config.methodology import Methodology
from ..config.params import YearParams
from ..form.fields import STAFF_CODES, CHECKLIST_PARTS, INFO_FIELDS, INFO_LABELS, NO_WORDS, SCHOOL_TYPES, SCORE_WORDS, SHEET_CHECKLIST, SHEET_INFO, SHEET_STAFF, STAFF_LABELS, YES_WORDS
from ..form.text import norm_text, normalize_school_code, parse_date, split_address

ISSUE_COLUMNS = columns("clean", "issues.csv")

# What the school should do, per file rule (message = reason + this).
FILE_FIX = {
    "file.lock": "Удалять его не обязательно: он пропускается. Проверьте, что рядом лежит сама форма.",
    "file.hidden": "Удалять его не обязательно: он пропускается.",
    "file.not_xlsx": "Попросите школу заполнить шаблон формы года и прислать его как книгу Excel (.xlsx).",
    "file.corrupt": "Попросите школу сохранить форму заново и прислать файл ещё раз.",
    "file.too_large": "Попросите школу заполнить шаблон формы года заново, без лишних листов и вложений.",
    "file.unreadable": "Проверьте права доступа к файлу.",
    "form.not_a_form": "Если это не форма — уберите файл из папки года; иначе попросите школу заполнить шаблон формы года.",
    "form.missing_sheets": "Попросите школу заполнить шаблон формы года, не переименовывая и не удаляя листы.",
    "form.unrecognized": "Попросите школу заполнить шаблон формы года, не меняя подписи в столбце A.",
    "form.no_school_code": "Попросите школу указать «Код ОО» из реестра и прислать форму снова.",
    "form.unknown_school": "Проверьте код: если школа есть в реестре под другим кодом — исправьте код в форме; если это новая школа — добавьте её в registry.csv.",
    "form.wrong_year": "Попросите школу заполнить форму текущего учебного года.",
}

PLACEHOLDER_DOCS = {"-", "—", "–", "нет", "отсутствует", "н/д", "нет документа", "0"}
TYPE_ALIASES = {
    "средняя общеобразовательная школа": "СОШ",
    "основная общеобразовательная школа": "ООШ",
    "начальная общеобразовательная школа": "НОШ",
    "центр образования": "ЦО",
}


@dataclass
class Issues:
    """Collects issues (lazy validation: every failure at once)."""

    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, school_code: str, file: str, sheet: str, cell: str, fld: str, value: Any, rule: str,
            severity: str, message: str, action: str) -> None:
        assert severity in ("error", "warning"), severity
        self.rows.append({"school_code": school_code or "", "file": file or "", "sheet": sheet or "", "cell": cell or "",
                          "field": fld or "", "value": "" if value is None else str(value), "rule": rule,
                          "severity": severity, "message": message, "action": action})

    def at(self, v: "Cell", school: str, rule: str, severity: str, message: str, action: str) -> None:
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

    @property
    def empty(self) -> bool:
        return self.value_type == "empty" or not self.value.strip()

    def where(self) -> str:
        return f"лист «{self.sheet}», ячейка {self.cell}" if self.cell else f"лист «{self.sheet}»"


# --------------------------------------------------------------------------------------------
# Value parsers: return (value, problem) — problem is a rule code or None
# --------------------------------------------------------------------------------------------

_INT_TEXT = re.compile(r"[+]?\d+(?:[.,]0+)?")
# The largest count of people a form may hold: far above any school, far below what the
# nullable 64-bit integer columns of the processed tables can hold.
MAX_COUNT = 1_000_000


def parse_count(v: Cell) -> tuple[int | None, str | None]:
    """An integer ≥ 0 and ≤ MAX_COUNT. Text holding a whole number is used, with «value.number_as_text»."""
    if v.empty:
        return None, "missing"
    text = v.value.strip().replace("\u00a0", "").replace(" ", "")
    if v.value_type == "number":
        try:
            x = float(text)
        except ValueError:
            return None, "value.not_a_number"
        if x != x or x in (float("inf"), float("-inf")):
            return None, "value.not_a_number"
        if not x.is_integer():
            return None, "value.not_integer"
        if x < 0:
            return None, "value.negative"
        if x > MAX_COUNT:
            return None, "value.too_large"
        return int(x), None
    if v.value_type == "text":
        if _INT_TEXT.fullmatch(text):
            x = float(text.replace(",", "."))
            if x > MAX_COUNT:
                return None, "value.too_large"
            return int(x), "value.number_as_text"
        if re.fullmatch(r"-\d+(?:[.,]\d+)?", text):
            return None, "value.negative"
        if re.fullmatch(r"\d+[.,]\d+", text):
            return None, "value.not_integer"
    return None, "value.not_a_number"


def parse_score(v: Cell, scale: list[int]) -> tuple[int | None, str | None]:
    """A score on the position's scale; words есть/да = top, частично = 1, нет = 0."""
    top = max(scale)
    if v.empty:
        return None, "checklist.score_missing"
    text = norm_text(v.value)
    if v.value_type == "bool":
        return (top if v.value == "true" else 0), "checklist.score_as_word"
    word = SCORE_WORDS.get(text)
    if word is not None:
        if word == "full":
            return top, "checklist.score_as_word"
        if word == "zero":
            return 0, "checklist.score_as_word"
        if 1 in scale and top > 1:
            return 1, "checklist.score_as_word"
        return None, "checklist.score_invalid"
    note = None
    if v.value_type == "text":
        if not re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", text):
            return None, "checklist.score_invalid"
        note = "value.number_as_text"
    try:
        x = float(text.replace(",", "."))
    except ValueError:
        return None, "checklist.score_invalid"
    if not x.is_integer() or int(x) not in scale:
        return None, "checklist.score_out_of_range"
    return int(x), note


def parse_yesno(v: Cell) -> bool | None:
    if v.value_type == "bool":
        return v.value == "true"
    return _yesno_word(v.value)


@functools.lru_cache(maxsize=1 << 12)
def _yesno_word(text: str) -> bool | None:
    t = norm_text(text).rstrip(".")
    if t in YES_WORDS:
        return True
    if t in NO_WORDS:
        return False
    return None


@functools.lru_cache(maxsize=1 << 12)
def parse_type(text: str) -> str | None:
    t = norm_text(text)
    for s in SCHOOL_TYPES:
        if t == norm_text(s):
            return s
    return TYPE_ALIASES.get(t)


_SPACE = re.compile(r"\s")  # exactly the characters str.isspace() accepts


def link_ok(text: str) -> bool:
    """An absolute http(s) address without spaces."""
    t = (text or "").strip()
    if not t or _SPACE.search(t):
        return False
    try:
        parts = urlsplit(t)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and "." in parts.netloc


def _same_name(a: str, b: str) -> bool:
    return _name_key(a) == _name_key(b)


@functools.lru_cache(maxsize=1 << 14)
def _name_key(s: str) -> str:
    return re.sub(r"[\s«»\"'„“”]", "", norm_text(s))


# --------------------------------------------------------------------------------------------
# The stage
# --------------------------------------------------------------------------------------------

NOT_USED = "значение не используется в расчётах"


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


def _prepare(df: pd.DataFrame, text_cols: list[str]) -> pd.DataFrame:
    df = df.copy()
    for c in text_cols:
        if c in df.columns:
            df[c] = df[c].astype("string").fillna("").astype(str)
    return df


def _number_problem_text(problem: str, v: Cell) -> str:
    return {
        "value.not_a_number": f"вместо числа записано «{v.value}»",
        "value.not_integer": f"число {v.value} не целое",
        "value.negative": f"число {v.value} отрицательное",
        "value.too_large": f"число {v.value} слишком большое (допускается не больше {MAX_COUNT:,})".replace(",", "\u00a0"),
    }[problem]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building a million small objects (none of them in
    a reference cycle) would otherwise have the collector walk them all again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run(forms_df: pd.DataFrame, files: pd.DataFrame, registry: pd.DataFrame, methodology: Methodology,
        params: YearParams) -> dict[str, pd.DataFrame]:
    """checklist.csv, staff.csv, profile.csv and issues.csv of the year."""
    with _gc_paused():
        return _run(forms_df, files, registry, methodology, params)


def _run(forms_df: pd.DataFrame, files: pd.DataFrame, registry: pd.DataFrame, methodology: Methodology,
         params: YearParams) -> dict[str, pd.DataFrame]:
    files = _prepare(files, ["file", "kind", "status", "reason", "school_code", "filled_date", "rule", "sheet", "cell", "value"])
    registry = _prepare(registry, ["code", "name", "type"])
    issues = Issues()

    file_rows = _rows(files)
    # -- files: every rejected or superseded file is an issue too
    for f in file_rows:
        if f.status == "rejected":
            severity = "warning" if f.rule in ("file.lock", "file.hidden") else "error"
            action = "файл пропущен" if severity == "warning" else "форма отклонена, её данные не используются"
            fix = FILE_FIX.get(f.rule, "Попросите школу исправить форму и прислать её снова.")
            where = f" (лист «{f.sheet}»" + (f", ячейка {f.cell})" if f.cell else ")") if f.sheet else ""
            issues.add(f.school_code, f.file, f.sheet, f.cell, "", f.value, f.rule or "form.rejected", severity,
                       f"Файл «{f.file}»{where} отклонён: {f.reason}. {fix}", action)
        elif f.status == "superseded":
            issues.add(f.school_code, f.file, f.sheet, f.cell, "info.filled_date", f.value, "form.superseded", "warning",
                       f"Школа прислала несколько форм; эта не используется: {f.reason}. "
                       "Если действовать должна эта форма — исправьте в ней «Дата заполнения» или уберите лишний файл.",
                       "форма не используется (заменена более поздней)")

    accepted = {f.school_code: f.file for f in file_rows if f.status == "accepted"}
    rejected_by_school: dict[str, list[str]] = defaultdict(list)
    for f in file_rows:
        if f.status == "rejected" and f.school_code:
            rejected_by_school[f.school_code].append(f.file)

    by_file = _cells_by_file(forms_df, set(accepted.values()))
    context = _Context(methodology)

    profile_rows, staff_rows, checklist_rows = [], [], []
    for reg in _rows(registry.sort_values("code")):
        code = reg.code
        file = accepted.get(code)
        if file is None:
            others = rejected_by_school.get(code)
            if others:
                msg = (f"Форма школы не принята: отклонён файл {', '.join('«' + o + '»' for o in others)} "
                       "(причина — в строке этого файла). Попросите школу прислать исправленную форму.")
            else:
                msg = "Форма школы не представлена. Напомните школе прислать форму года."
            issues.add(code, "", "", "", "", "", "form.not_submitted", "error", msg,
                       "школа не участвует в расчётах; в отчёте — «нет данных»")
            profile_rows.append({"school_code": code, "school_name": reg.name, "school_type": reg.type, "submitted": False,
                                 "file": "", "pupils": pd.NA, "innovation_site": pd.NA, "low_results": pd.NA,
                                 "low_results_support": pd.NA, "staffing_monitoring": pd.NA, "responsible": "",
                                 "filled_date": ""})
            continue
        cells = _first_of_each(by_file.get(file, ({}, {})), code, issues)
        profile_rows.append(_profile(code, reg, file, cells, issues, params))
        staff_rows.append(_staff(code, file, cells, issues, context))
        checklist_rows += _checklist(code, file, cells, methodology, issues, context)

    profile = pd.DataFrame(profile_rows, columns=list(columns("clean", "profile.csv")))
    profile["submitted"] = profile["submitted"].astype(bool)
    profile["pupils"] = profile["pupils"].astype("Int64")
    for c in INFO_FIELDS:
        if c.kind == "yesno":
            profile[c.key] = profile[c.key].astype("boolean")

    staff = pd.DataFrame(staff_rows, columns=list(columns("clean", "staff.csv")))
    for c in STAFF_CODES:
        staff[c] = staff[c].astype("Int64")

    checklist = pd.DataFrame(checklist_rows, columns=CHECKLIST_COLUMNS)
    checklist["score"] = checklist["score"].astype("Int64")
    checklist["link_ok"] = checklist["link_ok"].astype(bool)
    checklist["has_document"] = checklist["has_document"].astype(bool)

    return {
        "checklist.csv": checklist.reset_index(drop=True),
        "staff.csv": staff.reset_index(drop=True),
        "profile.csv": profile.reset_index(drop=True),
        "issues.csv": issues.frame(),
    }


_CELL_COLUMNS = Cell._fields  # forms.csv's columns a Cell is made of, in its order


# One form's cells: each field's first cell (fields in the order they first appear), and the
# cells of a field that appears again (only for those fields: a dict per form, not a list per
# field — a year has a million fields).
FormCells = tuple[dict[str, Cell], dict[str, list[Cell]]]


def _cells_by_file(forms_df: pd.DataFrame, files: set[str]) -> dict[str, FormCells]:
    """The values of the given files, in the order of forms_df: file → FormCells."""
    by_file: dict[str, FormCells] = {}
    cols = [_text_column(forms_df[c]) for c in _CELL_COLUMNS]
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


def _first_of_each(fields: FormCells, code: str, issues: Issues) -> dict[str, Cell]:
    first, again = fields
    for name, cell in first.items() if again else ():
        for dup in again.get(name, ()):
            issues.at(dup, code, "field.duplicate", "warning",
                      f"Поле «{dup.label or name}» встречается в форме дважды ({cell.where()} и {dup.where()}). "
                      "Удалите лишнюю строку.",
                      f"используется первое значение ({cell.sheet}!{cell.cell}); это значение не используется")
    return first


def _missing(code: str, file: str, sheet: str, fld: str, label: str, issues: Issues, rule: str, severity: str, action: str) -> None:
    issues.add(code, file, sheet, "", fld, "", rule, severity,
               f"На листе «{sheet}» нет строки «{label}». Заполните форму по шаблону года.", action)


def _profile(code: str, reg: Any, file: str, cells: dict[str, Cell], issues: Issues, params: YearParams) -> dict[str, Any]:
    row: dict[str, Any] = {"school_code": code, "school_name": reg.name, "school_type": reg.type, "submitted": True, "file": file,
                           "pupils": pd.NA, "innovation_site": pd.NA, "low_results": pd.NA, "low_results_support": pd.NA,
                           "staffing_monitoring": pd.NA, "responsible": "", "filled_date": ""}
    sheet = SHEET_INFO

    def get(key: str, severity: str, action: str) -> Cell | None:
        v = cells.get(f"info.{key}")
        label = INFO_LABELS[key]
        if v is None:
            _missing(code, file, sheet, f"info.{key}", label, issues, "info.missing", severity, action)
            return None
        if v.empty:
            issues.at(v, code, "info.missing", severity, f"Не заполнено «{label}» ({v.where()}). Заполните значение.", action)
            return None
        return v

    # Код ОО — ingest matched it; say so if it had lost its leading zeros
    v = cells.get("info.school_code")
    if v is not None and not v.empty and normalize_school_code(v.value) != code:
        written = normalize_school_code(v.value)
        if v.value_type == "number":
            rule, how = "info.code_as_number", "записан числом — ведущие нули потеряны"
        elif written.isdigit():
            rule, how = "info.code_normalized", "записан без ведущих нулей"
        else:
            rule, how = "info.code_normalized", "записан с буквой «О» вместо нуля"
        issues.at(v, code, rule, "warning",
                  f"«Код ОО» {how} ({v.value}). Запишите код текстом, как в реестре: {code}.",
                  f"форма сопоставлена с кодом {code} из реестра")

    v = get("school_name", "warning", "используется наименование из реестра")
    if v is not None and not _same_name(v.value, reg.name):
        issues.at(v, code, "info.name_mismatch", "warning",
                  f"Наименование ОО в форме («{v.value.strip()}») не совпадает с реестром («{reg.name}»). "
                  "Проверьте, та ли это школа; при необходимости исправьте форму или реестр.",
                  "используется наименование из реестра")

    v = get("school_type", "warning", f"используется тип из реестра ({reg.type})")
    if v is not None:
        t = parse_type(v.value)
        if t is None:
            issues.at(v, code, "info.bad_type", "error",
                      f"Тип ОО «{v.value}» не из списка ({', '.join(SCHOOL_TYPES)}). Выберите тип из списка.",
                      f"значение не используется; используется тип из реестра ({reg.type})")
        elif t != reg.type:
            issues.at(v, code, "info.type_mismatch", "warning",
                      f"Тип ОО в форме ({t}) не совпадает с реестром ({reg.type}). Исправьте форму или реестр.",
                      f"используется тип из реестра ({reg.type})")
        if parse_type(reg.type) is None and t is not None:
            row["school_type"] = t

    get("academic_year", "warning", "форма принята: учебный год не проверен")

    v = get("pupils", "error", NOT_USED + ": кластер школы не определяется")
    if v is not None:
        n, problem = parse_count(v)
        if problem == "value.number_as_text":
            issues.at(v, code, problem, "warning",
                      f"Численность обучающихся записана как текст ({v.value}). Введите число в ячейку.", "значение использовано")
        elif problem:
            issues.at(v, code, problem, "error",
                      f"Численность обучающихся: {_number_problem_text(problem, v)}. Укажите целое число не меньше 0.",
                      NOT_USED + ": кластер школы не определяется")
        row["pupils"] = n if n is not None else pd.NA

    flags: dict[str, bool | None] = {}
    for key in ("innovation_site", "low_results", "low_results_support", "staffing_monitoring"):
        label = INFO_LABELS[key]
        optional = key == "low_results_support" and flags.get("low_results") is False
        v = cells.get(f"info.{key}")
        if optional and (v is None or v.empty):
            flags[key] = False
            row[key] = False
            continue
        v = get(key, "error", NOT_USED)
        if v is None:
            flags[key] = None
            continue
        b = parse_yesno(v)
        if b is None:
            issues.at(v, code, "info.bad_yesno", "error",
                      f"«{label}»: ожидается «да» или «нет», записано «{v.value}». Выберите значение из списка.", NOT_USED)
        flags[key] = b
        row[key] = pd.NA if b is None else b

    v = get("responsible", "warning", "замечание для школы; на расчёты не влияет")
    if v is not None:
        row["responsible"] = v.value.strip()

    v = get("filled_date", "warning", "при нескольких формах школы эта считается самой ранней")
    if v is not None:
        d = parse_date(v.value, v.value_type)
        start, end = (int(x) for x in params.academic_year.split("-"))
        if d is None:
            issues.at(v, code, "info.bad_date", "error",
                      f"«Дата заполнения» не распознана («{v.value}»). Введите дату в формате ДД.ММ.ГГГГ.", NOT_USED)
        else:
            row["filled_date"] = d.isoformat()
            if v.value_type != "date":
                issues.at(v, code, "info.date_as_text", "warning",
                          f"«Дата заполнения» записана как текст ({v.value}). Введите дату в ячейку как дату.",
                          "дата распознана и использована")
            if not (dt.date(start, 9, 1) <= d <= dt.date(end, 12, 31)):
                issues.at(v, code, "info.date_out_of_range", "warning",
                          f"«Дата заполнения» {d.strftime('%d.%m.%Y')} вне {params.academic_year} учебного года. Проверьте дату.",
                          "дата использована")
    return row


_STAFF_FIELDS = {p: f"staff.{p}" for p in STAFF_CODES}


def _staff(code: str, file: str, cells: dict[str, Cell], issues: Issues, context: _Context | None = None) -> dict[str, Any]:
    count = context.count if context is not None else parse_count
    values: dict[str, int | None] = {}
    where: dict[str, Cell] = {}
    for p in STAFF_CODES:
        label = STAFF_LABELS[p]
        v = cells.get(_STAFF_FIELDS[p])
        if v is None:
            _missing(code, file, SHEET_STAFF, f"staff.{p}", f"{p} {label}", issues, "staff.missing", "error", NOT_USED)
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
                      f"{p} «{label}»: {_number_problem_text(problem, v)}. Укажите целое число не меньше 0.", NOT_USED)
        values[p] = n

    p0 = values.get("P0")
    if p0 is not None:
        for p in ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P9"):
            if values.get(p) is not None and values[p] > p0:
                issues.at(where[p], code, "staff.exceeds_total", "error",
                          f"{p} ({values[p]}) больше общего числа педагогов P0 ({p0}). Исправьте {p} или P0.",
                          f"значение {p} не используется в расчётах")
                values[p] = None
    for part, whole, rule, what in (("P3", "P2", "staff.winners_exceed_participants", "победителей и призёров больше, чем участников конкурсов"),
                                    ("P8", "P7", "staff.mentored_exceed_young", "охваченных наставничеством больше, чем молодых педагогов")):
        if values.get(part) is not None and values.get(whole) is not None and values[part] > values[whole]:
            issues.at(where[part], code, rule, "error",
                      f"{part} ({values[part]}) больше {whole} ({values[whole]}): {what}. Исправьте {part} или {whole}.",
                      f"значение {part} не используется в расчётах")
            values[part] = None
    return {"school_code": code, **{p: (pd.NA if values[p] is None else values[p]) for p in STAFF_CODES}}


CHECKLIST_COLUMNS = list(columns("clean", "checklist.csv")) + ["has_document", "document_cell", "link_cell"]


_PLACEHOLDER_MAX = max(len(d) for d in PLACEHOLDER_DOCS)
# An address link_ok certainly accepts: http(s)://, a host of ASCII letters, digits, dots and
# hyphens with a dot in it, then nothing or a path, query or fragment of visible ASCII.
_PLAIN_LINK = re.compile(r"(?i:https?)://[A-Za-z0-9-]*\.[A-Za-z0-9.-]*(?:[/?#][!-~]*)?")


class _Context:
    """What every school needs, worked out once per run: the positions' field names and scale
    texts, and the answers to the questions ten thousand forms keep asking again (a count's or
    a score's value, whether a document is a placeholder, whether a link is an address)."""

    def __init__(self, methodology: Methodology) -> None:
        self.methodology = methodology
        self.known = {p.code for p in methodology.positions}
        self.positions = [(p, f"checklist.{p.code}.score", f"checklist.{p.code}.document", f"checklist.{p.code}.link",
                           "/".join(str(s) for s in sorted(p.scale, reverse=True)), tuple(p.scale))
                          for p in methodology.positions]
        # the fields of a form that holds only what the year's form asks: nothing else to look at
        self.expected = ({f"info.{f.key}" for f in INFO_FIELDS} | {f"staff.{c}" for c in STAFF_CODES}
                         | {f"checklist.{p.code}.{part}" for p in methodology.positions for part in CHECKLIST_PARTS})
        self.counts: dict[tuple[str, str], tuple[int | None, str | None]] = {}
        self.scores: dict[tuple[str, str, tuple[int, ...]], tuple[int | None, str | None]] = {}
        self.placeholders: dict[str, bool] = {}
        self.links: dict[str, bool] = {}

    def count(self, v: Cell) -> tuple[int | None, str | None]:
        key = (v.value, v.value_type)
        got = self.counts.get(key)
        if got is None:
            got = self.counts[key] = parse_count(v)
        return got

    def score(self, v: Cell, scale: tuple[int, ...]) -> tuple[int | None, str | None]:
        key = (v.value, v.value_type, scale)
        got = self.scores.get(key)
        if got is None:
            got = self.scores[key] = parse_score(v, list(scale))
        return got

    def placeholder(self, doc: str) -> bool:
        got = self.placeholders.get(doc)
        if got is None:
            # norm_text keeps every character that is not a space, «:» or «*» (lower case is
            # never shorter): a text with more of them than the longest placeholder is none
            if len("".join(doc.split())) - doc.count(":") - doc.count("*") > _PLACEHOLDER_MAX:
                got = False
            else:
                got = norm_text(doc) in PLACEHOLDER_DOCS
            self.placeholders[doc] = got
        return got

    def link_ok(self, link: str) -> bool:
        got = self.links.get(link)
        if got is None:
            got = self.links[link] = True if _PLAIN_LINK.fullmatch(link) else link_ok(link)
        return got


def _checklist(code: str, file: str, cells: dict[str, Cell], methodology: Methodology, issues: Issues,
               context: _Context | None = None) -> list[tuple[Any, ...]]:
    """One school's rows of checklist.csv (tuples in CHECKLIST_COLUMNS order)."""
    context = context or _Context(methodology)
    rows = []
    known = context.known
    scores, placeholders, links = context.scores, context.placeholders, context.links
    extra = cells.keys() - context.expected
    for name, v in cells.items() if extra else ():
        if name in extra and name.startswith("checklist.") and name.endswith(".score"):
            pos = name[len("checklist."):-len(".score")]
            if pos not in known and not v.empty:
                issues.at(v, code, "checklist.unknown_position", "warning",
                          f"Строка с кодом «{pos}» не относится к позициям методики {methodology.version}. "
                          "Проверьте код позиции.", "строка не учитывается")
    for p, score_field, document_field, link_field, scale_text, scale in context.positions:
        sv = cells.get(score_field)
        dv = cells.get(document_field)
        lv = cells.get(link_field)
        score = problem = None
        if sv is None:
            _missing(code, file, SHEET_CHECKLIST, score_field, f"{p.code} {p.short}", issues,
                     "checklist.missing", "error", "позиция не засчитана (0 баллов)")
        else:
            got = scores.get((sv.value, sv.value_type, scale))
            score, problem = got if got is not None else context.score(sv, scale)
        if problem is None:
            pass
        elif problem == "checklist.score_missing":
                issues.at(sv, code, problem, "error", f"Позиция {p.code}: балл не указан. Выберите балл ({scale_text}).",
                          "позиция не засчитана (0 баллов)")
        elif problem == "checklist.score_as_word":
            issues.at(sv, code, problem, "warning",
                      f"Позиция {p.code}: балл записан словом («{sv.value}»), засчитано {score}. Выберите балл из списка ({scale_text}).",
                      f"слово переведено в балл {score}")
        elif problem == "value.number_as_text":
            issues.at(sv, code, problem, "warning", f"Позиция {p.code}: балл записан как текст ({sv.value}). Выберите балл из списка.",
                      "значение использовано")
        elif problem in ("checklist.score_out_of_range", "checklist.score_invalid"):
            issues.at(sv, code, problem, "error",
                      f"Позиция {p.code}: «{sv.value}» — не балл шкалы {scale_text}. Выберите балл из списка.",
                      "балл не засчитан (0 баллов)")
        # (an empty cell's value is blank or holds only spaces: stripped, it is "" as well)
        doc_raw = dv.value.strip() if dv is not None and dv.value_type != "empty" else ""
        placeholder = placeholders.get(doc_raw)
        if placeholder is None:
            placeholder = context.placeholder(doc_raw)
        document = "" if placeholder else doc_raw
        if score is not None and score > 0 and not document and p.evidence_required:
            target = dv or sv
            extra = f" (записано «{doc_raw}»)" if placeholder else ""
            issues.add(code, file, target.sheet, target.cell, document_field, doc_raw, "checklist.unconfirmed", "warning",
                       f"Позиция {p.code}: балл {score} не подтверждён — не указан подтверждающий документ{extra}. "
                       "Укажите название и реквизиты документа.",
                       "не подтверждено: балл не засчитан (0 баллов)")
        link = lv.value.strip() if lv is not None and lv.value_type != "empty" else ""
        ok = links.get(link)
        if ok is None:
            ok = context.link_ok(link)
        if link and not ok:
            issues.at(lv, code, "checklist.bad_link", "warning",
                      f"Позиция {p.code}: ссылка «{link}» — не адрес сайта (нужен адрес, начинающийся с http:// или https://). "
                      "Укажите адрес страницы на сайте ОО.",
                      "ссылка не выводится в отчёте как ссылка")
        rows.append((code, p.code, pd.NA if score is None else score, sv.value if sv is not None else "", document, link, ok,
                     file, sv.cell if sv is not None else "", bool(document), dv.cell if dv is not None else "",
                     lv.cell if lv is not None else ""))
    return rows


def summary(issues: pd.DataFrame) -> pd.DataFrame:
    """Issues by rule and severity, most frequent first (for the notebook)."""
    if issues.empty:
        return pd.DataFrame({"правило": [], "что проверяется": [], "важность": [], "замечаний": []})
    g = issues.groupby(["rule", "severity"]).size().reset_index(name="n")
    g = g.sort_values(["n", "rule"], ascending=[False, True], kind="stable")
    return pd.DataFrame({
        "правило": g["rule"].to_numpy(),
        "что проверяется": [RULE_NAMES.get(r, r) for r in g["rule"]],
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
    """forms.csv and files.csv of the ingest stage, every text column kept as text.

    (storage.read_table infers types, which would turn a value column holding only codes such
    as «0340» into numbers and «NA» typed by a school into a missing value.)
    """
    folder = Path(folder)
    out = []
    for name, ints in (("forms.csv", ("row",)), ("files.csv", ("size_bytes",))):
        # na_filter=False: nothing is missing (as keep_default_na=False alone says), without
        # looking at every cell for it
        df = pd.read_csv(folder / name, dtype=str, keep_default_na=False, na_filter=False)
        for c in ints:
            df[c] = df[c].astype("int64")
        out.append(df)
    return out[0], out[1]
