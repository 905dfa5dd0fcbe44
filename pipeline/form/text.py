"""How the text of a form's cells is compared and kept: labels and codes normalised (case,
spaces, «ё», Latin look-alike letters), cell values as canonical text with their type, A1
addresses."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any




_WS = re.compile(r"\s+")


_LATIN_LOOKALIKE = str.maketrans({"Р": "P", "р": "P", "М": "M", "м": "M", "p": "P", "m": "M"})


# Latin letters that look like Cyrillic ones (after lower-casing): «Код OO» typed with Latin O,
# «Kaдры» with Latin K and a. Labels, headers and sheet names of the form are all Cyrillic.
_CYRILLIC_LOOKALIKE = str.maketrans("abcehkmoptxy", "авсенкмортху")


# In a code, a letter O (Latin or Cyrillic) after the first character is a zero: «PО» → P0.
_ZERO_LOOKALIKE = str.maketrans({"O": "0", "О": "0"})


def _memo(fn):
    """Remember a normaliser's answers: a form's labels, hints and codes repeat in every form
    of a year, so thousands of forms need only a few hundred distinct normalisations. Values
    of different types stay apart (1, 1.0 and True are normalised differently)."""
    cached = functools.lru_cache(maxsize=1 << 16, typed=True)(fn)

    @functools.wraps(fn)
    def wrapper(value: Any) -> Any:
        try:
            return cached(value)
        except TypeError:  # an unhashable value: normalised without the cache
            return fn(value)

    return wrapper


def norm_text(value: Any) -> str:
    """Label comparison form: lower case, «ё» as «е», one space, no trailing colon/asterisk."""
    text = "" if value is None else str(value)
    text = text.replace("\u00a0", " ").replace("ё", "е").replace("Ё", "Е")
    text = _WS.sub(" ", text).strip().lower()
    return text.rstrip(":*").strip()


@_memo
def norm_label(value: Any) -> str:
    """A label, header or sheet name as compared: norm_text with Latin look-alikes made Cyrillic."""
    return norm_text(value).translate(_CYRILLIC_LOOKALIKE)


@_memo
def norm_code(value: Any) -> str:
    """A staff or position code: «р0» → P0, «РО» → P0, «М 1.1.» → M1.1, 1.1 (a number) → 1.1."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _WS.sub("", str(value if value is not None else "").replace("\u00a0", ""))
    text = text.translate(_LATIN_LOOKALIKE).upper().rstrip(".")
    return text[:1] + text[1:].translate(_ZERO_LOOKALIKE)


def normalize_school_code(value: str) -> str:
    """A school code as text: spaces removed, leading zeros kept; '107.0' → '107'."""
    text = _WS.sub("", str(value or "").replace("\u00a0", ""))
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text


def normalize_academic_year(value: str) -> str:
    """'2025/2026', '2025 – 2026', '2025-26' → '2025-2026'; anything else as given (stripped)."""
    text = _WS.sub("", str(value or "").replace("\u00a0", ""))
    m = re.fullmatch(r"(\d{4})(?:г\.?)?[-–—/\\](\d{2}|\d{4})(?:г\.?|гг\.?|уч\.?г\.?)?", text.lower())
    if not m:
        return text
    start, end = int(m.group(1)), m.group(2)
    end_full = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
    return f"{start}-{end_full}"


def parse_date(value: str, value_type: str) -> dt.date | None:
    """A date from a form cell (a date cell, or text ДД.ММ.ГГГГ / ГГГГ-ММ-ДД); None if not a date."""
    text = str(value or "").strip()
    if not text:
        return None
    if value_type == "date":
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            return None
    m = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})(?:\s*г\.?)?", text)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


@functools.lru_cache(maxsize=1 << 14)
def cell_address(row: int, col: int) -> str:
    """1-based row and column → 'B4' (remembered: every form has the same few hundred)."""
    letters = ""
    n = col
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def split_address(cell: str) -> tuple[int, int]:
    """'B4' → (4, 2); anything unparseable → (0, 0)."""
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", str(cell or ""))
    if not m:
        return 0, 0
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


_EMPTY = ("", "empty")


def canonical(value: Any) -> tuple[str, str]:
    """A calamine cell value → (canonical text, value type)."""
    if value is None or value == "":  # (the reader gives "" for an empty cell)
        return _EMPTY
    if type(value) is str:  # most cells: the answer is remembered (labels repeat in every form)
        return _canonical_text(value)
    if isinstance(value, bool):
        return ("true" if value else "false"), "bool"
    if isinstance(value, int):
        return str(value), "number"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value), "text"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), "number"
        return repr(value), "number"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat(), "date"
        return value.isoformat(sep=" "), "date"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    return _canonical_text(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _canonical_text(value: str) -> tuple[str, str]:
    text = clean_str(value)
    if not text.strip():
        return "", "empty"
    return text, "text"


# Invisible characters no form text needs: C0 controls other than tab and line feed (Excel
# keeps them as _x0007_ escapes), DEL, and the bidirectional embeddings, overrides and isolates
# that make text display as something else («\u202eexe.cod» shows as «doc.exe»).
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_str(text: str) -> str:
    """Cell text as every output can carry it: line breaks as «\\n» (a carriage return — Excel's
    _x000D_, text pasted from Windows — would end a row of a processed CSV file when it is read
    back), invisible control and bidirectional-override characters removed."""
    return _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


# clean_str of a cell as read: the same texts (labels, headers, codes, scores) come back in every
# form of a year, and the cached answer is the same string object each time, so the values of
# many forms sent between processes are pickled once (pickle shares identical objects)
_clean_cell = functools.lru_cache(maxsize=1 << 16)(clean_str)


def _text(value: Any) -> Any:
    """A cell as read, its text (a label, header or code) cleaned as clean_str cleans it."""
    return _clean_cell(value) if type(value) is str else value
