"""What is checked before a workbook is read: that it is an .xlsx package, not too big, and
that no sheet reaches beyond the form's rows and columns (the reader allocates the whole
rectangle up to the last cell)."""

from __future__ import annotations

import contextlib
import functools
import html
import io
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


@functools.lru_cache(maxsize=4096)  # the forms of a year share their entries' names
def part_name(name: str) -> str:
    """A package part's name as the reader may find it: XML references undone, «\\» as «/»,
    letter case, «.», «..» and doubled «/» ignored. The reader (calamine) compares a sheet's
    path with the zip's entry names without letter case and without undoing «&#50;» in the
    relationship, so every spelling it could match has one key here."""
    text = html.unescape(name).replace("\\", "/").lower()
    parts: list[str] = []
    for piece in text.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def target_names(target: str) -> set[str]:
    """The part names a relationship target of xl/workbook.xml may mean: relative to «xl/»
    or (starting with «/», or spelled so once «\\» is read as «/») from the package's root."""
    return {part_name("xl/" + target), part_name(target)}


def _entry_names(info: zipfile.ZipInfo) -> set[str]:
    """The names a zip entry answers to: its name and the Unicode path of its extra field
    (0x7075), which a reader may prefer to the name."""
    names = {part_name(info.filename)}
    if not info.extra:
        return names
    extra, i = info.extra, 0
    while i + 4 <= len(extra):
        kind, size = int.from_bytes(extra[i:i + 2], "little"), int.from_bytes(extra[i + 2:i + 4], "little")
        if kind == 0x7075 and size > 5:
            names.add(part_name(extra[i + 9:i + 4 + size].decode("utf-8", "replace")))
        i += 4 + size
    return names


def _entries(zf: zipfile.ZipFile) -> dict[str, list[zipfile.ZipInfo]]:
    """Every entry of the package by part_name (duplicates kept: a reader may open any)."""
    out: dict[str, list[zipfile.ZipInfo]] = {}
    for info in zf.infolist():
        for key in _entry_names(info):
            out.setdefault(key, []).append(info)
    return out


_SHEET_PARTS_SEEN: dict[tuple[bytes, ...], dict[str, set[str]]] = {}


def _sheet_parts(zf: zipfile.ZipFile, entries: dict[str, list[zipfile.ZipInfo]] | None = None) -> dict[str, set[str]]:
    """Sheet name → the part names (part_name) its XML may be read from, from every entry that
    may be xl/workbook.xml and its relationships (duplicates and other spellings included).

    Remembered by those parts' bytes (not by anything the package merely declares): the
    forms of a year are filled from one template, so they nearly all have the same ones."""
    entries = _entries(zf) if entries is None else entries
    books, rels = (entries.get(part, []) for part in _WORKBOOK_PARTS)
    try:
        key = tuple(zf.read(info) for info in books + rels) + (len(books).to_bytes(4, "little"),)
    except Exception:  # a damaged part: _read_sheet_parts says how, as it always did
        key = None
    if key is not None and key in _SHEET_PARTS_SEEN:
        return {k: set(v) for k, v in _SHEET_PARTS_SEEN[key].items()}
    out = _read_sheet_parts(zf, books, rels)
    if key is not None and len(_SHEET_PARTS_SEEN) < 64 and sum(len(k) for k in key) <= 1 << 16:
        _SHEET_PARTS_SEEN[key] = {k: set(v) for k, v in out.items()}
    return out


def _read_sheet_parts(zf: zipfile.ZipFile, books: list[zipfile.ZipInfo], rels: list[zipfile.ZipInfo]) -> dict[str, set[str]]:
    sheets: dict[str, set[str]] = {}
    targets: dict[str, set[str]] = {}

    def on_sheet(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet":
            ids = {v for k, v in attrs.items() if k.rpartition(":")[2].lower() == "id" and k != "sheetId"}
            sheets.setdefault(attrs.get("name", ""), set()).update(ids)

    def on_rel(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship":
            targets.setdefault(attrs.get("Id", ""), set()).add(attrs.get("Target", ""))

    if not books:
        raise KeyError("xl/workbook.xml")
    for info in books:
        with zf.open(info) as fh:
            _parse_xml(fh, on_sheet)
    for info in rels:
        with zf.open(info) as fh:
            _parse_xml(fh, on_rel)
    return {sheet: {name for rid in ids for target in targets.get(rid, ()) if target for name in target_names(target)}
            for sheet, ids in sheets.items()}


def _address(text: str) -> tuple[int, int]:
    """(row, column) of a cell address, read leniently (as a reader might take a malformed
    one: its letters the column, its digits the row); (0, 0) when it has neither."""
    row, col = split_address(text)
    if row or not text:
        return row, col
    letters = "".join(ch for ch in text.upper() if "A" <= ch <= "Z")[:12]
    digits = "".join(ch for ch in text if "0" <= ch <= "9")[:12]
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits or 0), col


def _sheet_extent(zf: zipfile.ZipFile, part: str | zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column), 1-based, of the cells holding a value (a <v> or <is> element,
    even an empty one: the reader keeps an empty text) in one sheet's XML part, counted as a
    spreadsheet reader places them (cells and rows without an address follow the previous
    one); the end of the sheet's <dimension> counts too. Streams the XML: nothing is built."""
    pos = {"row": 0, "col": 0, "cell": (0, 0), "value": False, "rows": 0, "cols": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "row":
            r = attrs.get("r", "")
            pos["row"] = int(r) if r.isdigit() else pos["row"] + 1
            pos["col"] = 0
        elif tag == "c":
            row, col = _address(attrs.get("r", ""))
            if row:
                pos["row"], pos["col"] = row, col
            else:
                pos["row"], pos["col"] = max(pos["row"], 1), pos["col"] + 1
            pos["cell"], pos["value"] = (pos["row"], pos["col"]), False
        elif tag in ("is", "v"):
            pos["value"] = True
        elif tag == "dimension":
            row, col = _address(attrs.get("ref", "").rpartition(":")[2])
            pos["rows"], pos["cols"] = max(pos["rows"], row), max(pos["cols"], col)

    def end(tag: str) -> None:
        if tag == "c" and pos["value"]:
            pos["rows"] = max(pos["rows"], pos["cell"][0])
            pos["cols"] = max(pos["cols"], pos["cell"][1])

    with zf.open(part) as fh:
        _parse_xml(fh, start, end)
    return pos["rows"], pos["cols"]


def _sheet_entries(zf: zipfile.ZipFile, wanted: list[str]) -> list[tuple[str, zipfile.ZipInfo]]:
    """(sheet, entry) for every entry the reader may read each wanted sheet from (all the
    entries under xl/worksheets/ for a sheet the workbook does not place)."""
    entries = _entries(zf)
    parts = _sheet_parts(zf, entries)
    out: list[tuple[str, zipfile.ZipInfo]] = []
    for sheet in wanted:
        names = sorted(parts.get(sheet, ()))
        found = [info for n in names for info in entries.get(n, [])]
        if not found:
            found = [info for n in sorted(entries) if n.startswith("xl/worksheets/") for info in entries[n]]
        out += [(sheet, info) for info in dict.fromkeys(found)]
    return out


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
    value typed into cell XFD1048576 of a 10 KB file would need hundreds of gigabytes. Every
    entry the reader could take the sheet from is checked (see part_name). Returns
    the formulas of the wanted sheets (none known for an .xls, whose size the reader checks).
    `package`: data already opened as a zip (by _check_container), not opened again."""
    if data[:4] == OLE2_MAGIC:
        return {}
    sheet = None
    try:
        with contextlib.nullcontext(package) if package is not None else zipfile.ZipFile(io.BytesIO(data)) as zf:
            chosen: dict[str, str] = {}
            for sheet, info in _sheet_entries(zf, wanted):
                chosen.setdefault(sheet, info.filename)
                if sheet_surely_small(zf.read(info), MAX_SHEET_ROWS, MAX_SHEET_COLS):
                    continue
                _refuse_large(name, sheet, *_sheet_extent(zf, info))
            sheet = None
            return xlsx_formulas(zf, chosen)
    except FormError:
        raise
    except Exception:  # a part that does not unpack (zlib, bz2, lzma errors) or parse, a missing one
        reason = "лист не удаётся прочитать (файл повреждён)" if sheet else "файл повреждён: книгу Excel не удаётся прочитать"
        raise FormError(name, reason, sheet=sheet, rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None


# what stops the program rather than tells of a broken file
_INTERRUPTS = (KeyboardInterrupt, SystemExit, GeneratorExit)


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
    except _INTERRUPTS:
        raise
    except BaseException:  # calamine raises several types for broken packages, a Rust panic included
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
        except (FormError, *_INTERRUPTS):
            raise
        except MemoryError:
            raise FormError(name, "для чтения листа не хватило памяти", sheet=sheet_name, rule="file.too_large",
                            hint="Удалите лишние данные с листа или заполните шаблон формы года заново.") from None
        except BaseException:  # (a Rust panic is a BaseException)
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
