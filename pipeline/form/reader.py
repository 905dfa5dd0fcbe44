"""Reading a filled form: every field found by its label or code, never by a fixed address,
each value kept with its sheet and cell."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..config.methodology import Methodology
from ..core.errors import FormError
from .fields import CHECKLIST_COLUMNS, CHECKLIST_PARTS, SHEET_CHECKLIST, SHEET_INFO, SHEET_STAFF, FormLayout, layout
from .package import _check_container, _load_rows, read_file
from .text import _text, canonical, cell_address, norm_code, norm_label


@dataclass(frozen=True)
class FormValue:
    """One field found in a form, with where it came from."""

    field: str          # info.<key> | staff.P0 | checklist.<code>.score|document|link
    sheet: str          # the sheet's name as written in the file
    cell: str           # A1 address of the value cell
    row: int
    col: int
    label: str          # the label (or code and header) the field was recognised by
    value: str          # canonical text of the raw value ('' when empty)
    value_type: str     # text | number | date | bool | empty
    formula: str = ""   # the cell's formula when it holds one (value: its cached result)


@dataclass
class ParsedForm:
    """Everything recognised in one form; fields in reading order (duplicates kept)."""

    file: str
    values: list[FormValue] = field(default_factory=list)

    def get(self, name: str) -> FormValue | None:
        """The first occurrence of a field, or None."""
        for v in self.values:
            if v.field == name:
                return v
        return None

    def text(self, name: str) -> str:
        v = self.get(name)
        return v.value if v is not None else ""

    def to_frame(self, school_code: str = "") -> pd.DataFrame:
        rows = [
            {"file": self.file, "sheet": v.sheet, "cell": v.cell, "row": v.row, "field": v.field,
             "label": v.label, "value": v.value, "value_type": v.value_type, "school_code": school_code,
             "formula": v.formula}
            for v in self.values
        ]
        return pd.DataFrame(rows, columns=["file", "sheet", "cell", "row", "field", "label", "value", "value_type", "school_code",
                                           "formula"])


def _first_filled(row: list[Any]) -> int | None:
    for i, v in enumerate(row):
        if v is not None and v != "" and canonical(v)[1] != "empty":
            return i
    return None


# The readers below return each value found as a tuple in FormValue's field order:
# (field, sheet, cell, row, col, label, value, value_type); _read_values adds the formula.
ValueRow = tuple[str, str, str, int, int, str, str, str]






_SHARED_TEXTS: dict[str, str] = {}


def _shared(text: str) -> str:
    """One string object for a text that repeats in every form (a field name, a label): less
    memory, and many forms' values pickled between processes carry it once."""
    got = _SHARED_TEXTS.get(text)
    if got is None:
        if len(_SHARED_TEXTS) >= 1 << 16:
            return text
        _SHARED_TEXTS[text] = got = text
    return got


def _cell(row: list[Any], i: int) -> Any:
    return row[i] if 0 <= i < len(row) else None


class _Labels:
    """The labels and codes of one form's «Сведения» and «Кадры», and the answers to «which
    field does this label name?» (asked again for every form of a year: remembered)."""

    def __init__(self, form: FormLayout) -> None:
        self.info_fields = {f.key: _shared(f"info.{f.key}") for f in form.info}
        self.staff_fields = {code: _shared(f"staff.{code}") for code in form.staff_codes}
        self.staff_labels = form.staff_labels
        self._info = [(norm_label(f.label), f.key) for f in sorted(form.info, key=lambda f: -len(f.label))]
        self._staff = {norm_label(lab): code for code, lab in reversed(form.staff)}
        self._info_seen: dict[Any, str | None] = {}
        self._staff_seen: dict[Any, str | None] = {}

    def info(self, text: Any) -> str | None:
        """The key of the «Сведения» field a column-A label names (a label may go on after it:
        «Дата заполнения (ДД.ММ.ГГГГ)»)."""
        try:
            return self._info_seen[text]
        except (KeyError, TypeError):
            pass
        t = norm_label(text)
        got = None
        if t:
            for lab, key in self._info:
                if t == lab or (t.startswith(lab) and not t[len(lab)].isalnum()):
                    got = key
                    break
        try:
            self._info_seen[text] = got
        except TypeError:
            pass
        return got

    def staff(self, text: Any) -> str | None:
        """The code of the «Кадры» count a label names."""
        try:
            return self._staff_seen[text]
        except (KeyError, TypeError):
            pass
        got = self._staff.get(norm_label(text))
        try:
            self._staff_seen[text] = got
        except TypeError:
            pass
        return got


_LABELS: dict[int, tuple[FormLayout, _Labels]] = {}


def _labels(m: Methodology) -> _Labels:
    form = layout(m)
    got = _LABELS.get(id(form))
    if got is None or got[0] is not form:
        if len(_LABELS) > 64:
            _LABELS.clear()
        got = _LABELS[id(form)] = (form, _Labels(form))
    return got[1]


def _position_code(raw: Any, codes: dict[str, str]) -> str | None:
    """The methodology code a «Код» cell names, or the normalised raw code if it looks like one."""
    c = norm_code(raw)
    if not c:
        return None
    if c in codes:
        return codes[c]
    if ("M" + c) in codes:
        return codes["M" + c]
    if re.fullmatch(r"M?\d+(\.\d+)*", c):
        return c if c.startswith("M") else "M" + c
    return None


def _read_info(sheet: str, rows: list[list[Any]], labels: _Labels) -> list[ValueRow]:
    out = []
    for r, row in enumerate(rows, start=1):
        i = _first_filled(row)
        if i is None:
            continue
        label = _text(row[i])
        key = labels.info(label)
        if key is None:
            continue
        text, kind = canonical(_cell(row, i + 1))
        out.append((labels.info_fields[key], sheet, cell_address(r, i + 2), r, i + 2, _shared(str(label).strip()), text, kind))
    return out


def _read_staff(sheet: str, rows: list[list[Any]], labels: _Labels) -> list[ValueRow]:
    out = []
    for r, row in enumerate(rows, start=1):
        i = _first_filled(row)
        if i is None:
            continue
        first = _text(row[i])
        code = norm_code(first)
        if code in labels.staff_labels:
            label_col = i + 1
            label = str(_text(_cell(row, label_col)) or "").strip() or labels.staff_labels[code]
            value_col = i + 2
        else:
            code = labels.staff(first) or ""
            if not code:
                continue
            label = str(first).strip()
            value_col = i + 1
        text, kind = canonical(_cell(row, value_col))
        out.append((labels.staff_fields[code], sheet, cell_address(r, value_col + 1), r, value_col + 1, _shared(f"{code} {label}"),
                    text, kind))
    return out


def _checklist_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    """The header row (0-based) and the column index of each part, found by header text."""
    wanted = {k: norm_label(v) for k, v in CHECKLIST_COLUMNS.items()}
    for r, row in enumerate(rows):
        cols: dict[str, int] = {}
        for i, v in enumerate(row):
            t = norm_label(_text(v))
            if not t:
                continue
            for key, head in wanted.items():
                if key not in cols and (t == head or (t.startswith(head) and not t[len(head)].isalnum())):
                    cols[key] = i
                    break
        if "code" in cols and "score" in cols:
            return r, cols
    return None


def _read_checklist(sheet: str, rows: list[list[Any]], methodology: Methodology) -> list[ValueRow]:
    codes = {norm_code(p.code): p.code for p in methodology.positions}
    known = set(codes.values())
    header = _checklist_header(rows)
    out = []
    if header is not None:
        start, cols = header
        heads = {k: str(_text(rows[start][i])).strip() for k, i in cols.items()}
    else:
        start, cols, heads = -1, {}, dict(CHECKLIST_COLUMNS)
    for r0 in range(start + 1, len(rows)):
        row = rows[r0]
        if header is not None:
            code_col = cols["code"]
            raw = _cell(row, code_col)
        else:
            code_col = _first_filled(row)
            if code_col is None:
                continue
            raw = row[code_col]
            cols = {"code": code_col, "text": code_col + 1, "score": code_col + 2, "document": code_col + 3, "link": code_col + 4}
        code = _position_code(_text(raw), codes)
        if code is None:
            continue
        if code not in known and canonical(_cell(row, cols["score"]))[1] == "empty":
            # looks like a position code but is not one of the methodology, and carries no
            # score: a heading or a total line, not an answer
            continue
        r = r0 + 1
        raw_code = canonical(raw)[0]
        for part in CHECKLIST_PARTS:
            if part not in cols:
                continue
            c = cols[part]
            text, kind = canonical(row[c] if c < len(row) else None)
            out.append((_checklist_field(code, part), sheet, cell_address(r, c + 1), r, c + 1,
                        _checklist_label(raw_code, heads.get(part, CHECKLIST_COLUMNS[part])), text, kind))
    return out


@functools.lru_cache(maxsize=1 << 14)
def _checklist_field(code: str, part: str) -> str:
    return _shared(f"checklist.{code}.{part}")


@functools.lru_cache(maxsize=1 << 14)
def _checklist_label(raw_code: str, head: str) -> str:
    return _shared(f"{raw_code} · {head}")


def read_form(source: str | Path | bytes, methodology: Methodology, *, name: str | None = None) -> ParsedForm:
    """Read a filled form (a path or its bytes). Raises FormError if it cannot be used at all."""
    name, values = _read_values(source, methodology, name)
    return ParsedForm(file=name, values=[FormValue(*v) for v in values])


def read_form_values(source: str | Path | bytes, methodology: Methodology, *, name: str | None = None) -> list[ValueRow]:
    """read_form's values as plain tuples in FormValue's field order (what ingest sends between
    processes: a tuple is built and pickled several times faster than a dataclass)."""
    return _read_values(source, methodology, name)[1]


def _read_values(source: str | Path | bytes, methodology: Methodology, name: str | None) -> tuple[str, list[ValueRow]]:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        name = name or "форма.xlsx"
    else:
        name = name or Path(source).name
        data = read_file(Path(source), name)
    opened = _check_container(data, name)
    try:
        sheets, real, formulas = _load_rows(data, name, opened, layout(methodology).sheets)
    finally:
        if opened is not None:
            opened.close()
    labels = _labels(methodology)
    values = _read_info(real[SHEET_INFO], sheets[SHEET_INFO], labels)
    if SHEET_STAFF in sheets:
        values += _read_staff(real[SHEET_STAFF], sheets[SHEET_STAFF], labels)
    if SHEET_CHECKLIST in sheets:
        values += _read_checklist(real[SHEET_CHECKLIST], sheets[SHEET_CHECKLIST], methodology)
    if not values:
        raise FormError(name, "на листах формы не найдено ни одной известной подписи или кода (Код ОО, P0…P9, коды позиций)",
                        rule="form.unrecognized", hint="Попросите школу заполнить шаблон формы года, не меняя подписи в столбце A.")
    if not formulas:
        return name, [v + ("",) for v in values]
    return name, [v + (formulas.get((v[1], v[2]), ""),) for v in values]
