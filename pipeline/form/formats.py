"""The spreadsheet formats schools send, told apart by their bytes (never by the file name):
an Excel package (.xlsx, .xlsm, also as re-saved by LibreOffice), an OpenDocument
spreadsheet (.ods: a zip with content.xml) and an Excel 97–2003 workbook (.xls: OLE2).

What is checked before python-calamine reads them: for .ods the zip limits (as for .xlsx) and
content.xml streamed through expat with DTDs refused (no entity expansion), every sheet's
extent counted with its repeated rows and columns; for .xls the size (cells are stored
sparsely, so the file's size bounds what is read) and that it is an Excel workbook at all.

Formulas: which cells hold one (calamine gives cached values only) — `<f>` elements of the
sheet XML of .xlsx/.xlsm, `table:formula` attributes of .ods; not detected in .xls.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from ..core.errors import FormError
from .text import _clean_cell, cell_address
from .xmlsafe import parse_xml

XLSX, ODS, XLS = "xlsx", "ods", "xls"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
SHARED_FORMULA = "(общая формула)"
_HAS_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")

# (sheet as written in the file, A1 address) → the formula's text
Formulas = dict[tuple[str, str], str]


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def check_ole2(data: bytes, name: str) -> None:
    """An OLE2 file: an Excel 97–2003 workbook is read; encrypted or another Office document is refused."""
    if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
        raise FormError(name, "книга Excel защищена паролем на открытие (зашифрована) — её нельзя прочитать",
                        rule="file.not_xlsx",
                        hint="Попросите школу снять пароль (Файл → Сведения → Защита книги → Зашифровать с "
                             "использованием пароля → пустой пароль) и прислать форму снова; защита листов не мешает.")
    if _utf16("Workbook") not in data and _utf16("Book") not in data:
        raise FormError(name, "файл — документ Office 97–2003, но не книга Excel (например, документ Word .doc)",
                        rule="file.not_xlsx", hint="Попросите школу сохранить форму как «Книга Excel (*.xlsx)».")


def is_ods(zf: zipfile.ZipFile, names: set[str]) -> bool:
    """A zip that declares itself an OpenDocument spreadsheet and has its content part."""
    if "mimetype" not in names or "content.xml" not in names:
        return False
    try:
        return zf.read("mimetype").strip() == ODS_MIMETYPE
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return False


def _repeat(attrs: dict[str, str], key: str) -> int:
    text = attrs.get(key, "1")
    return int(text) if text.isdigit() and int(text) > 0 else 1


class _OdsScan:
    """One pass over content.xml: each table's extent of cells with a value, and formulas."""

    def __init__(self) -> None:
        self.extents: dict[str, tuple[int, int]] = {}
        self.formulas: Formulas = {}
        self.sheet = ""
        self.row = self.col = 0          # 1-based start of the current row / next cell
        self.rows_repeat = 1
        self.cell: dict[str, Any] | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "table":
            self.sheet, self.row = attrs.get("table:name", ""), 0
            self.extents.setdefault(self.sheet, (0, 0))
        elif tag == "table-row":
            self.row += self.rows_repeat if self.row else 1
            self.rows_repeat, self.col = _repeat(attrs, "table:number-rows-repeated"), 1
        elif tag in ("table-cell", "covered-table-cell") and self.cell is None:
            self.cell = {"repeat": _repeat(attrs, "table:number-columns-repeated"),
                         "value": "office:value-type" in attrs, "formula": attrs.get("table:formula")}

    def chars(self, text: str) -> None:
        if self.cell is not None and text.strip():
            self.cell["value"] = True

    def end(self, tag: str) -> None:
        if tag in ("table-cell", "covered-table-cell") and self.cell is not None:
            cell, self.cell = self.cell, None
            if cell["formula"] is not None:
                self.formulas[(self.sheet, cell_address(self.row, self.col))] = cell["formula"]
            if cell["value"]:
                rows, cols = self.extents[self.sheet]
                self.extents[self.sheet] = (max(rows, self.row + self.rows_repeat - 1),
                                            max(cols, self.col + cell["repeat"] - 1))
            self.col += cell["repeat"]


def scan_ods(zf: zipfile.ZipFile) -> tuple[dict[str, tuple[int, int]], Formulas]:
    """(sheet → (last row, last column) holding a value, formulas) of an .ods; streamed."""
    scan = _OdsScan()
    with zf.open("content.xml") as fh:
        parse_xml(fh, scan.start, scan.end, scan.chars)
    return scan.extents, {(_clean_cell(s), c): "=" + f.partition(":=")[2] if f.startswith("of:=") else f
                          for (s, c), f in scan.formulas.items()}


def sheet_formulas(xml: bytes) -> dict[str, str]:
    """A1 address → formula text of one .xlsx sheet part (cheap when it has none)."""
    if _HAS_FORMULA.search(xml) is None:
        return {}
    out: dict[str, str] = {}
    state: dict[str, Any] = {"cell": "", "in_f": False, "text": []}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            state["cell"] = attrs.get("r", "")
        elif tag == "f":
            state["in_f"], state["text"] = True, []

    def end(tag: str) -> None:
        if tag == "f" and state["in_f"]:
            state["in_f"] = False
            if state["cell"]:
                out[state["cell"]] = "".join(state["text"]).strip() or SHARED_FORMULA

    def chars(text: str) -> None:
        if state["in_f"]:
            state["text"].append(text)

    parse_xml(io.BytesIO(xml), start, end, chars)
    return {cell: ("=" + f if not f.startswith(("=", "(")) else f) for cell, f in out.items()}


def xlsx_formulas(zf: zipfile.ZipFile, parts: dict[str, str]) -> Formulas:
    """(sheet, cell) → formula of the given sheets (sheet name → part path) of an .xlsx."""
    members = set(zf.namelist())
    out: Formulas = {}
    for sheet, part in parts.items():
        if part in members:
            for cell, formula in sheet_formulas(zf.read(part)).items():
                out[(_clean_cell(sheet), cell)] = formula
    return out
