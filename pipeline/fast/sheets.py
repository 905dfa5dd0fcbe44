"""The quick answer to «does this sheet certainly stay within the form's rows and columns?»:
a few regular-expression scans that call no Python per element. Its plain twin is
pipeline.form.package.sheet_extent (an expat count); anything unusual goes there."""

from __future__ import annotations

import functools
import re


def _above(limit: str, symbols: str, first: str) -> str:
    """A regular expression for a number written in `symbols` that is above the one written
    `limit`: longer (starting with a symbol of `first`), or as long and larger at some place.
    Decimal numbers without leading zeros and column letters (bijective base 26) of one length
    compare as their texts do."""
    alternatives = [f"[{first}][{symbols}]{{{len(limit)},}}"]
    for i, ch in enumerate(limit):
        higher = symbols[symbols.index(ch) + 1:]
        if higher:
            alternatives.append(f"{re.escape(limit[:i])}[{higher}][{symbols}]{{{len(limit) - i - 1}}}")
    return "(?:" + "|".join(alternatives) + ")"


# A cell whose tag does not begin with a well-formed address (Excel, LibreOffice and openpyxl
# write r= first): where the reader places it, or where a later r= puts it, only the slow
# count knows. Cells with a namespace prefix («<x:c») are left to the slow count too.
_UNADDRESSED_CELL = re.compile(rb"<c(?=[\s/>])(?!\sr=\"\$?[A-Za-z]{1,3}\$?\d+\")")


_PREFIXED_CELL = re.compile(rb":c(?=[\s/>])")


@functools.lru_cache(maxsize=4)
def _far_address(max_rows: int, max_cols: int) -> re.Pattern[bytes]:
    """Any address attribute beyond the limits (of a cell or not: a false alarm only costs the
    slow count); column letters of either case, row numbers after leading zeros."""
    last_column = _column_letters(max_cols)
    columns = _above(last_column, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A-Z")
    rows = _above(str(max_rows), "0123456789", "1-9")
    return re.compile(f"r=\"\\$?(?:(?i:{columns})\\$?\\d|[A-Za-z]{{1,3}}\\$?0*{rows}\")".encode())


# the sheet's <dimension ref="A1:C30"> (its end counts as a cell's address)
_DIMENSION = re.compile(rb"dimension(?=[\s/>])[^>]*")  # (a literal first: a quick scan; any other
# «dimension» in the part only sends it to the slow count)
_DIMENSION_END = re.compile(rb"\sref=\"(?:\$?[A-Z]{1,3}\$?[1-9]\d{0,6}:)?\$?([A-Z]{1,3})\$?([1-9]\d{0,6})\"")


def _dimension_small(data: bytes, max_rows: int, max_cols: int) -> bool:
    """Every <dimension> of the sheet plainly written and ending within the limits."""
    for m in _DIMENSION.finditer(data):
        end = _DIMENSION_END.search(m.group())
        if end is None or int(end.group(2)) > max_rows or len(end.group(1)) > len(_column_letters(max_cols)) or (
                len(end.group(1)) == len(_column_letters(max_cols)) and end.group(1).decode() > _column_letters(max_cols)):
            return False
    return True


_SHEET_END = re.compile(rb"</(?:[^\s<>/:!?=\"']+:)?worksheet\s*>\s*$")


def _column_letters(col: int) -> str:
    """1 → A, 27 → AA: a column's letters (bijective base 26)."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def sheet_surely_small(data: bytes, max_rows: int, max_cols: int) -> bool:
    """True when a sheet's XML certainly has no cell beyond max_rows × max_cols,
    known from a few scans that call no Python per element: no DTD, comment or CDATA (``<!``),
    the part complete (ends with its closing tag), every cell addressed and none far, the
    <dimension> within the limits. False
    sends the part to form.package.sheet_extent, which counts (and refuses a DTD or broken XML)."""
    return ((b"!" not in data or b"<!" not in data)  # (a one-byte search first: «!» is rare)
            and _SHEET_END.search(data[-256:]) is not None
            and _UNADDRESSED_CELL.search(data) is None and _PREFIXED_CELL.search(data) is None
            and _far_address(max_rows, max_cols).search(data) is None
            and (b"dimension" not in data or _dimension_small(data, max_rows, max_cols)))
