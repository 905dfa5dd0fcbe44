"""What is checked before a workbook is read: that it is an .xlsx package, not too big, and
that no sheet reaches beyond the form's rows and columns (the reader allocates the whole
rectangle up to the last cell)."""

from __future__ import annotations

import contextlib
import io
import posixpath
import zipfile
from pathlib import Path
from typing import Any


from ..core.errors import FormError
from .formats import OLE2_MAGIC, Formulas, check_ole2, is_ods, scan_ods, xlsx_formulas
from .xmlsafe import BadXml as _BadXml, parse_xml as _parse_xml
from ..fast.sheets import sheet_surely_small
from .fields import SHEETS
from .text import _clean_cell, norm_label, split_address


# Guards against huge files and zip bombs: a real form is about 10 KB. The sheet limits are
# checked on the package's XML before the reader builds its (dense) grid of cells, and are far
# above a real form so that blank rows a school inserted do not cost it its form.
MAX_FILE_BYTES = 5 * 1024 * 1024


MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024


MAX_ZIP_ENTRIES = 500


MAX_SHEET_ROWS = 20_000


MAX_SHEET_COLS = 60


def read_file(path: Path, name: str) -> bytes:
    """A form file's bytes, read-only (raw files are never modified); refused unread when it is
    larger than any form."""
    try:
        size = path.stat().st_size
    except OSError:
        raise FormError(name, "файл не найден или недоступен для чтения", rule="file.unreadable",
                        hint="Проверьте, что файл лежит в папке сырых данных года.") from None
    if size > MAX_FILE_BYTES:
        raise FormError(name, f"файл слишком большой ({size // 1024} КБ; допускается до {MAX_FILE_BYTES // 1024 // 1024} МБ)",
                        rule="file.too_large", hint="Сохраните форму заново из шаблона года.")
    with open(path, "rb") as fh:
        return fh.read()


def _check_container(data: bytes, name: str) -> zipfile.ZipFile | None:
    """Refuse what is not a spreadsheet (an .xlsx/.xlsm or .ods package, an .xls workbook), or
    is too big to open safely; the zip package opened (the caller closes it) for the checks
    that follow, None for an .xls (OLE2, no package)."""
    if len(data) > MAX_FILE_BYTES:
        raise FormError(name, f"файл слишком большой ({len(data) // 1024} КБ; допускается до {MAX_FILE_BYTES // 1024 // 1024} МБ)",
                        rule="file.too_large", hint="Сохраните форму заново из шаблона года, без вложенных картинок и лишних листов.")
    if data[:4] == OLE2_MAGIC:
        check_ole2(data, name)
        return None
    if not data.startswith(b"PK"):
        raise FormError(name, "файл не является электронной таблицей (книгой Excel .xlsx/.xls или таблицей .ods)",
                        rule="file.not_xlsx",
                        hint="Попросите школу заполнить шаблон формы года и прислать его как файл .xlsx.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError):
        raise FormError(name, "файл повреждён: архив книги Excel обрезан или испорчен", rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None
    try:
        _check_entries(infos, name, zf)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_entries(infos: list[zipfile.ZipInfo], name: str, zf: zipfile.ZipFile) -> None:
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
        raise FormError(name, "файл после распаковки слишком большой — это не форма мониторинга", rule="file.too_large",
                        hint="Попросите школу заполнить шаблон формы года.")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and not is_ods(zf, names):
        what = "другой документ в формате zip"
        if "mimetype" in names:
            what = "документ OpenDocument, но не таблица (например, текст .odt)"
        elif "word/document.xml" in names:
            what = "документ Word (.docx), переименованный в .xlsx"
        elif "xl/workbook.bin" in names:
            what = "двоичная книга Excel (.xlsb)"
        raise FormError(name, f"файл не является электронной таблицей (это {what})", rule="file.not_xlsx",
                        hint="Попросите школу заполнить шаблон формы года и сохранить его как «Книга Excel (*.xlsx)».")


_WORKBOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")


_SHEET_PARTS_SEEN: dict[tuple[bytes | None, ...], dict[str, str]] = {}


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → path of its XML part, from xl/workbook.xml and its relationships.

    Remembered by the two parts' bytes (not by anything the package merely declares): the
    forms of a year are filled from one template, so they nearly all have the same ones."""
    try:
        members = set(zf.namelist())
        key = tuple(zf.read(part) if part in members else None for part in _WORKBOOK_PARTS)
    except Exception:  # a damaged part: _read_sheet_parts says how, as it always did
        key = None
    if key is not None and key in _SHEET_PARTS_SEEN:
        return dict(_SHEET_PARTS_SEEN[key])
    out = _read_sheet_parts(zf)
    if key is not None and len(_SHEET_PARTS_SEEN) < 64 and sum(len(k or b"") for k in key) <= 1 << 16:
        _SHEET_PARTS_SEEN[key] = dict(out)
    return out


def _read_sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    sheets: dict[str, str] = {}
    targets: dict[str, str] = {}

    def on_sheet(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id" and k != "sheetId"), "")
            sheets[attrs.get("name", "")] = rid

    def on_rel(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship":
            targets[attrs.get("Id", "")] = attrs.get("Target", "")

    with zf.open("xl/workbook.xml") as fh:
        _parse_xml(fh, on_sheet)
    if "xl/_rels/workbook.xml.rels" in zf.namelist():
        with zf.open("xl/_rels/workbook.xml.rels") as fh:
            _parse_xml(fh, on_rel)
    out = {}
    for sheet, rid in sheets.items():
        target = targets.get(rid, "")
        if target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            out[sheet] = path
    return out


def _sheet_extent(zf: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """(last row, last column), 1-based, of the cells holding a value in one sheet's XML part,
    counted as a spreadsheet reader places them (cells and rows without an address follow the
    previous one). Streams the XML: nothing is built in memory."""
    pos = {"row": 0, "col": 0, "cell": (0, 0), "value": False, "in_v": False, "rows": 0, "cols": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "row":
            r = attrs.get("r", "")
            pos["row"] = int(r) if r.isdigit() else pos["row"] + 1
            pos["col"] = 0
        elif tag == "c":
            row, col = split_address(attrs.get("r", ""))
            if row:
                pos["row"], pos["col"] = row, col
            else:
                pos["row"], pos["col"] = max(pos["row"], 1), pos["col"] + 1
            pos["cell"], pos["value"] = (pos["row"], pos["col"]), False
        elif tag == "is":
            pos["value"] = True
        elif tag == "v":
            pos["in_v"] = True

    def end(tag: str) -> None:
        if tag == "v":
            pos["in_v"] = False
        elif tag == "c" and pos["value"]:
            pos["rows"] = max(pos["rows"], pos["cell"][0])
            pos["cols"] = max(pos["cols"], pos["cell"][1])

    def chars(text: str) -> None:
        if pos["in_v"] and text.strip():
            pos["value"] = True

    with zf.open(part) as fh:
        _parse_xml(fh, start, end, chars)
    return pos["rows"], pos["cols"]


_BROKEN = (_BadXml, zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError, NotImplementedError, RuntimeError)


def _ods_checked(data: bytes, name: str, package: zipfile.ZipFile | None) -> Formulas | None:
    """For an .ods, before the reader opens it (it parses every sheet at once): content.xml
    streamed with DTDs refused, every sheet's extent within the limits; its formulas. None for
    any other format."""
    if package is None or "xl/workbook.xml" in package.namelist() or not is_ods(package, set(package.namelist())):
        return None
    try:
        extents, formulas = scan_ods(package)
    except _BROKEN:
        raise FormError(name, "файл повреждён: таблицу OpenDocument (.ods) не удаётся прочитать", rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None
    for sheet, (rows, cols) in sorted(extents.items()):
        _refuse_large(name, sheet, rows, cols)
    return formulas


def _refuse_large(name: str, sheet: str, rows: int, cols: int) -> None:
    if rows > MAX_SHEET_ROWS or cols > MAX_SHEET_COLS:
        raise FormError(name, f"лист слишком большой ({rows} строк × {cols} столбцов; допускается до "
                              f"{MAX_SHEET_ROWS} строк и {MAX_SHEET_COLS} столбцов)", sheet=sheet,
                        rule="file.too_large",
                        hint="Удалите лишние данные с листа (в том числе далеко внизу или справа) "
                             "или заполните шаблон формы года заново.")


def _check_sheet_sizes(data: bytes, name: str, wanted: list[str], package: zipfile.ZipFile | None = None) -> Formulas:
    """Refuse a form sheet whose cells reach beyond MAX_SHEET_ROWS × MAX_SHEET_COLS before the
    reader is asked for it: the reader allocates the whole rectangle up to the last cell, so one
    value typed into cell XFD1048576 of a 10 KB file would need hundreds of gigabytes. Returns
    the formulas of the wanted sheets (none known for an .xls, whose size the reader checks).
    `package`: data already opened as a zip (by _check_container), not opened again."""
    if data[:4] == OLE2_MAGIC:
        return {}
    sheet = None
    try:
        with contextlib.nullcontext(package) if package is not None else zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = _sheet_parts(zf)
            members = set(zf.namelist())
            for sheet in wanted:
                part = parts.get(sheet)
                candidates = [part] if part in members else sorted(m for m in members if m.startswith("xl/worksheets/"))
                for p in candidates:
                    if sheet_surely_small(zf.read(p), MAX_SHEET_ROWS, MAX_SHEET_COLS):
                        continue
                    _refuse_large(name, sheet, *_sheet_extent(zf, p))
            sheet = None
            return xlsx_formulas(zf, {s: parts[s] for s in wanted if s in parts})
    except _BROKEN:
        reason = "лист не удаётся прочитать (файл повреждён)" if sheet else "файл повреждён: книгу Excel не удаётся прочитать"
        raise FormError(name, reason, sheet=sheet, rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None


def _reraise_interrupt(exc: BaseException) -> None:
    """What the reader raised, if it is not the reader's failure (an interrupt, an exit)."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
        raise exc


def _load_rows(data: bytes, name: str, package: zipfile.ZipFile | None = None, sheets: tuple[str, ...] = SHEETS
               ) -> tuple[dict[str, list[list[Any]]], dict[str, str], Formulas]:
    """Rows of raw values (starting at A1) of the three form sheets, each sheet's name as
    written in the file (found ignoring case, spaces and «ё»), and the formulas of the cells
    that hold one ((sheet, cell) → text). `package`: see _check_sheet_sizes."""
    import python_calamine as pc

    ods_formulas = _ods_checked(data, name, package)
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_names = list(wb.sheet_names)
    except BaseException as exc:  # calamine raises several types for broken packages, or panics
        _reraise_interrupt(exc)
        what = "книгу Excel 97–2003 (.xls)" if data[:4] == OLE2_MAGIC else "книгу"
        raise FormError(name, f"файл повреждён: {what} не удаётся прочитать", rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None
    wanted = {norm_label(s): s for s in sheets}
    chosen: dict[str, str] = {}
    for sheet_name in sheet_names:
        key = norm_label(sheet_name)
        if key in wanted and wanted[key] not in chosen:
            chosen[wanted[key]] = sheet_name
    if ods_formulas is None:
        formulas = _check_sheet_sizes(data, name, list(chosen.values()), package)
    else:
        keep = {_clean_cell(s) for s in chosen.values()}
        formulas = {k: f for k, f in ods_formulas.items() if k[0] in keep}
    out: dict[str, list[list[Any]]] = {}
    real: dict[str, str] = {}
    for sheet_name in sheet_names:
        key = norm_label(sheet_name)
        if key not in wanted or wanted[key] in out:
            continue
        try:
            sheet = wb.get_sheet_by_name(sheet_name)
            end = sheet.end
            if end is not None and (end[0] + 1 > MAX_SHEET_ROWS or end[1] + 1 > MAX_SHEET_COLS):
                raise FormError(name, f"лист слишком большой ({end[0] + 1} строк × {end[1] + 1} столбцов)", sheet=sheet_name,
                                rule="file.too_large", hint="Удалите лишние данные с листа или заполните шаблон формы года заново.")
            rows = sheet.to_python(skip_empty_area=False) if end is not None else []
        except FormError:
            raise
        except BaseException as exc:  # a pyo3 panic is a BaseException
            _reraise_interrupt(exc)
            raise FormError(name, "лист не удаётся прочитать (файл повреждён)", sheet=sheet_name, rule="file.corrupt",
                            hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None
        out[wanted[key]] = rows  # texts as read: cleaned where they are used (canonical, _text)
        real[wanted[key]] = _clean_cell(sheet_name)
    missing = [s for s in sheets if s not in out]
    if missing:
        found = ", ".join(f"«{s}»" for s in sheet_names) or "нет"
        need = ", ".join(f"«{s}»" for s in missing)
        if len(missing) == len(sheets):
            raise FormError(name, f"это не форма мониторинга: нет листов {need} (листы в файле: {found})",
                            rule="form.not_a_form", hint="Попросите школу заполнить шаблон формы года, не переименовывая листы.")
        raise FormError(name, f"в форме нет листа {need} (листы в файле: {found})", rule="form.missing_sheets",
                        hint="Попросите школу заполнить шаблон формы года, не переименовывая и не удаляя листы.")
    return out, real, formulas
