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
from .fields import CHECKLIST_COLUMNS, CHECKLIST_PARTS, INFO_FIELDS, SHEET_CHECKLIST, SHEET_INFO, SHEET_STAFF, STAFF_CODES, STAFF_LABELS
from .package import _check_container, _load_rows, read_file
from .text import _memo, _text, canonical, cell_address, norm_code, norm_label


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
             "label": v.label, "value": v.value, "value_type": v.value_type, "school_code": school_code}
            for v in self.values
        ]
        return pd.DataFrame(rows, columns=["file", "sheet", "cell", "row", "field", "label", "value", "value_type", "school_code"])


def _first_filled(row: list[Any]) -> int | None:
    for i, v in enumerate(row):
        if v is not None and v != "" and canonical(v)[1] != "empty":
            return i
    return None


# The readers below return each value found as a tuple in FormValue's field order:
# (field, sheet, cell, row, col, label, value, value_type).
ValueRow = tuple[str, str, str, int, int, str, str, str]


_INFO_FIELD_NAMES = {f.key: f"info.{f.key}" for f in INFO_FIELDS}


_STAFF_FIELD_NAMES = {code: f"staff.{code}" for code in STAFF_CODES}


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


@_memo
def _match_info_label(text: str) -> str | None:
    t = norm_label(text)
    if not t:
        return None
    for f in sorted(INFO_FIELDS, key=lambda f: -len(f.label)):
        lab = norm_label(f.label)
        if t == lab or (t.startswith(lab) and not t[len(lab)].isalnum()):
            return f.key
    return None


@_memo
def _match_staff_label(text: str) -> str | None:
    t = norm_label(text)
    for code, lab in STAFF_LABELS.items():
        if t == norm_label(lab):
            return code
    return None


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


def _read_info(sheet: str, rows: list[list[Any]]) -> list[ValueRow]:
    out = []
    for r, row in enumerate(rows, start=1):
        i = _first_filled(row)
        if i is None:
            continue
        label = _text(row[i])
        key = _match_info_label(label)
        if key is None:
            continue
        text, kind = canonical(_cell(row, i + 1))
        out.append((_INFO_FIELD_NAMES[key], sheet, cell_address(r, i + 2), r, i + 2, _shared(str(label).strip()), text, kind))
    return out


def _read_staff(sheet: str, rows: list[list[Any]]) -> list[ValueRow]:
    out = []
    for r, row in enumerate(rows, start=1):
        i = _first_filled(row)
        if i is None:
            continue
        first = _text(row[i])
        code = norm_code(first)
        if code in STAFF_LABELS:
            label_col = i + 1
            label = str(_text(_cell(row, label_col)) or "").strip() or STAFF_LABELS[code]
            value_col = i + 2
        else:
            code = _match_staff_label(first) or ""
            if not code:
                continue
            label = str(first).strip()
            value_col = i + 1
        text, kind = canonical(_cell(row, value_col))
        out.append((_STAFF_FIELD_NAMES[code], sheet, cell_address(r, value_col + 1), r, value_col + 1, _shared(f"{code} {label}"),
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
        sheets, real = _load_rows(data, name, opened)
    finally:
        opened.close()
    values = _read_info(real[SHEET_INFO], sheets[SHEET_INFO])
    values += _read_staff(real[SHEET_STAFF], sheets[SHEET_STAFF])
    values += _read_checklist(real[SHEET_CHECKLIST], sheets[SHEET_CHECKLIST], methodology)
    if not values:
        raise FormError(name, "на листах формы не найдено ни одной известной подписи или кода (Код ОО, P0…P9, коды позиций)",
                        rule="form.unrecognized", hint="Попросите школу заполнить шаблон формы года, не меняя подписи в столбце A.")
    return name, values
