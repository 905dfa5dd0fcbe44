"""The school form: the exchange format between the department and the schools (SPEC §4).

One `.xlsx` workbook per school per year with three sheets:

* «Сведения» — column A label, column B value (the school's profile);
* «Кадры» — column A code P0…P9, column B label, column C value (counts of teachers);
* «Показатели» — a header row, then one row per methodology position: Код, Позиция
  оценивания, Балл, Подтверждающий документ, Ссылка.

The layout is data (the constants below). `build_workbook` writes it with openpyxl (the
template and the embedded sample use the same code); `read_form` reads a filled form with
python-calamine and finds every field by its label or code, never by a fixed address, so
reordered rows, blank rows, extra spaces, letter case, «ё» and numbers stored as text do not
matter. Every value found keeps where it came from: sheet and A1 cell address.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from xml.parsers import expat

import pandas as pd

from .errors import FormError
from .methodology import Methodology, load_methodology
from .params import YearParams
from .storage import write_bytes_atomic

# --------------------------------------------------------------------------------------------
# The layout as data
# --------------------------------------------------------------------------------------------

SHEET_INFO = "Сведения"
SHEET_STAFF = "Кадры"
SHEET_CHECKLIST = "Показатели"
SHEETS = (SHEET_INFO, SHEET_STAFF, SHEET_CHECKLIST)

SCHOOL_TYPES = ("СОШ", "Гимназия", "Лицей", "ЦО", "ООШ", "НОШ")
YES, NO = "да", "нет"


@dataclass(frozen=True)
class InfoField:
    """One row of the «Сведения» sheet."""

    key: str        # profile key (profile.csv column)
    label: str      # what column A says
    kind: str       # code | text | school_type | academic_year | count | yesno | date
    hint: str       # what column C of the template says


INFO_FIELDS: tuple[InfoField, ...] = (
    InfoField("school_code", "Код ОО", "code", "код из реестра, текстом, с ведущими нулями (например, 0107)"),
    InfoField("school_name", "Наименование ОО", "text", "полное наименование, как в уставе"),
    InfoField("school_type", "Тип ОО", "school_type", "выберите из списка: " + ", ".join(SCHOOL_TYPES)),
    InfoField("academic_year", "Учебный год", "academic_year", "заполнено управлением образования, не меняйте"),
    InfoField("pupils", "Численность обучающихся", "count", "целое число не меньше 0"),
    InfoField("innovation_site", "Инновационная площадка", "yesno", "да или нет"),
    InfoField("low_results", "ШНОР", "yesno", "да — школа с низкими образовательными результатами; иначе нет"),
    InfoField("low_results_support", "Методическая поддержка ШНОР получена", "yesno", "да или нет (для школ, не входящих в ШНОР, — нет)"),
    InfoField("staffing_monitoring", "Мониторинг кадровых потребностей", "yesno", "да или нет"),
    InfoField("responsible", "Ответственный", "text", "фамилия, имя, отчество и должность ответственного за заполнение"),
    InfoField("filled_date", "Дата заполнения", "date", "дата в формате ДД.ММ.ГГГГ"),
)
INFO_LABELS: dict[str, str] = {f.key: f.label for f in INFO_FIELDS}
INFO_BY_KEY: dict[str, InfoField] = {f.key: f for f in INFO_FIELDS}

STAFF_LABELS: dict[str, str] = {
    "P0": "педагогических работников всего",
    "P1": "выступили с докладами/мастер-классами на муниципальных методических мероприятиях",
    "P2": "участвовали в муниципальных профессиональных конкурсах",
    "P3": "победители, призёры, лауреаты муниципальных профессиональных конкурсов",
    "P4": "опубликовали методические материалы в профессиональных изданиях",
    "P5": "прошли курсы повышения квалификации",
    "P6": "прошли диагностику профессиональных дефицитов",
    "P7": "молодых педагогов (до 35 лет)",
    "P8": "молодых педагогов, охваченных наставничеством",
    "P9": "представили опыт (семинары, мастер-классы, конференции, конкурсы, банк передового опыта)",
}
STAFF_CODES = tuple(STAFF_LABELS)

# «Показатели»: column key -> header text
CHECKLIST_COLUMNS: dict[str, str] = {
    "code": "Код",
    "text": "Позиция оценивания",
    "score": "Балл",
    "document": "Подтверждающий документ",
    "link": "Ссылка",
}
CHECKLIST_PARTS = ("score", "document", "link")

# Words a school may write instead of a score (SPEC §4). "full" = the top of the scale.
SCORE_WORDS: dict[str, str] = {
    "есть": "full", "да": "full", "имеется": "full", "в наличии": "full",
    "частично": "partial",
    "нет": "zero", "отсутствует": "zero",
}
YES_WORDS = {"да", "yes", "true", "1", "есть", "+"}
NO_WORDS = {"нет", "no", "false", "0", "-", "—"}

# Guards against huge files and zip bombs: a real form is about 10 KB. The sheet limits are
# checked on the package's XML before the reader builds its (dense) grid of cells, and are far
# above a real form so that blank rows a school inserted do not cost it its form.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
MAX_SHEET_ROWS = 20_000
MAX_SHEET_COLS = 60

VALUE_TYPES = ("text", "number", "date", "bool", "empty")

# --------------------------------------------------------------------------------------------
# Normalisation helpers (shared with ingest and clean)
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


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


def _check_container(data: bytes, name: str) -> zipfile.ZipFile:
    """Refuse what is not an xlsx package, or is too big to open safely; the package opened
    (the caller closes it) for the checks that follow."""
    if len(data) > MAX_FILE_BYTES:
        raise FormError(name, f"файл слишком большой ({len(data) // 1024} КБ; допускается до {MAX_FILE_BYTES // 1024 // 1024} МБ)",
                        rule="file.too_large", hint="Сохраните форму заново из шаблона года, без вложенных картинок и лишних листов.")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise FormError(name, "книга Excel защищена паролем на открытие (зашифрована) — её нельзя прочитать",
                            rule="file.not_xlsx",
                            hint="Попросите школу снять пароль (Файл → Сведения → Защита книги → Зашифровать с "
                                 "использованием пароля → пустой пароль) и прислать форму снова; защита листов не мешает.")
        raise FormError(name, "файл в старом формате Excel 97–2003 (.xls) или другой документ Office, а нужна книга Excel .xlsx",
                        rule="file.not_xlsx", hint="Попросите школу сохранить форму как «Книга Excel (*.xlsx)».")
    if not data.startswith(b"PK"):
        raise FormError(name, "файл не является книгой Excel .xlsx", rule="file.not_xlsx",
                        hint="Попросите школу заполнить шаблон формы года и прислать его как файл .xlsx.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError):
        raise FormError(name, "файл повреждён: архив книги Excel обрезан или испорчен", rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None
    try:
        _check_entries(infos, name)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_entries(infos: list[zipfile.ZipInfo], name: str) -> None:
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
        raise FormError(name, "файл после распаковки слишком большой — это не форма мониторинга", rule="file.too_large",
                        hint="Попросите школу заполнить шаблон формы года.")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        what = "другой документ в формате zip"
        if "mimetype" in names:
            what = "документ OpenDocument (.ods/.odt), переименованный в .xlsx"
        elif "word/document.xml" in names:
            what = "документ Word (.docx), переименованный в .xlsx"
        elif "xl/workbook.bin" in names:
            what = "двоичная книга Excel (.xlsb)"
        raise FormError(name, f"файл не является книгой Excel .xlsx (это {what})", rule="file.not_xlsx",
                        hint="Попросите школу заполнить шаблон формы года и сохранить его как «Книга Excel (*.xlsx)».")


class _BadXml(Exception):
    """A part of the package is not well-formed XML, or declares a DTD (never in a workbook)."""


def _parse_xml(stream: Any, start: Any, end: Any = None, chars: Any = None) -> None:
    """Stream one XML part of the package through expat (DTDs refused: no entity expansion)."""
    parser = expat.ParserCreate()

    def refuse(*_: Any) -> None:
        raise _BadXml("DTD")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = lambda n, a: start(n.rpartition(":")[2], a)
    if end is not None:
        parser.EndElementHandler = lambda n: end(n.rpartition(":")[2])
    if chars is not None:
        parser.CharacterDataHandler = chars
    try:
        while chunk := stream.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError:
        raise _BadXml("syntax") from None


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
    last_column = re.sub(r"\d", "", cell_address(1, max_cols))
    columns = _above(last_column, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A-Z")
    rows = _above(str(max_rows), "0123456789", "1-9")
    return re.compile(f"r=\"\\$?(?:(?i:{columns})\\$?\\d|[A-Za-z]{{1,3}}\\$?0*{rows}\")".encode())


_SHEET_END = re.compile(rb"</(?:[^\s<>/:!?=\"']+:)?worksheet\s*>\s*$")


def _sheet_surely_small(data: bytes) -> bool:
    """True when a sheet's XML certainly has no cell beyond MAX_SHEET_ROWS × MAX_SHEET_COLS,
    known from a few scans that call no Python per element: no DTD, comment or CDATA (``<!``),
    the part complete (ends with its closing tag), every cell addressed and none far. False
    sends the part to _sheet_extent, which counts (and refuses a DTD or broken XML)."""
    return ((b"!" not in data or b"<!" not in data)  # (a one-byte search first: «!» is rare)
            and _SHEET_END.search(data[-256:]) is not None
            and _UNADDRESSED_CELL.search(data) is None and _PREFIXED_CELL.search(data) is None
            and _far_address(MAX_SHEET_ROWS, MAX_SHEET_COLS).search(data) is None)


def _check_sheet_sizes(data: bytes, name: str, wanted: list[str], package: zipfile.ZipFile | None = None) -> None:
    """Refuse a form sheet whose cells reach beyond MAX_SHEET_ROWS × MAX_SHEET_COLS before the
    reader is asked for it: the reader allocates the whole rectangle up to the last cell, so one
    value typed into cell XFD1048576 of a 10 KB file would need hundreds of gigabytes.
    `package`: data already opened as a zip (by _check_container), not opened again."""
    broken = (_BadXml, zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError, NotImplementedError, RuntimeError)
    sheet = None
    try:
        with contextlib.nullcontext(package) if package is not None else zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = _sheet_parts(zf)
            members = set(zf.namelist())
            for sheet in wanted:
                part = parts.get(sheet)
                candidates = [part] if part in members else sorted(m for m in members if m.startswith("xl/worksheets/"))
                for p in candidates:
                    if _sheet_surely_small(zf.read(p)):
                        continue
                    rows, cols = _sheet_extent(zf, p)
                    if rows > MAX_SHEET_ROWS or cols > MAX_SHEET_COLS:
                        raise FormError(name, f"лист слишком большой ({rows} строк × {cols} столбцов; допускается до "
                                              f"{MAX_SHEET_ROWS} строк и {MAX_SHEET_COLS} столбцов)", sheet=sheet,
                                        rule="file.too_large",
                                        hint="Удалите лишние данные с листа (в том числе далеко внизу или справа) "
                                             "или заполните шаблон формы года заново.")
    except broken:
        reason = "лист не удаётся прочитать (файл повреждён)" if sheet else "файл повреждён: книгу Excel не удаётся прочитать"
        raise FormError(name, reason, sheet=sheet, rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None


def _load_rows(data: bytes, name: str, package: zipfile.ZipFile | None = None) -> tuple[dict[str, list[list[Any]]], dict[str, str]]:
    """Rows of raw values (starting at A1) of the three form sheets, and each sheet's name as
    written in the file (found ignoring case, spaces and «ё»). `package`: see _check_sheet_sizes."""
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_names = list(wb.sheet_names)
    except Exception:  # calamine raises several types for broken packages
        raise FormError(name, "файл повреждён: книгу Excel не удаётся прочитать", rule="file.corrupt",
                        hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None
    wanted = {norm_label(s): s for s in SHEETS}
    chosen: dict[str, str] = {}
    for sheet_name in sheet_names:
        key = norm_label(sheet_name)
        if key in wanted and wanted[key] not in chosen:
            chosen[wanted[key]] = sheet_name
    _check_sheet_sizes(data, name, list(chosen.values()), package)
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
        except Exception:
            raise FormError(name, "лист не удаётся прочитать (файл повреждён)", sheet=sheet_name, rule="file.corrupt",
                            hint="Попросите школу сохранить форму заново и прислать файл ещё раз.") from None
        out[wanted[key]] = rows  # texts as read: cleaned where they are used (canonical, _text)
        real[wanted[key]] = _clean_cell(sheet_name)
    missing = [s for s in SHEETS if s not in out]
    if missing:
        found = ", ".join(f"«{s}»" for s in sheet_names) or "нет"
        need = ", ".join(f"«{s}»" for s in missing)
        if len(missing) == len(SHEETS):
            raise FormError(name, f"это не форма мониторинга: нет листов {need} (листы в файле: {found})",
                            rule="form.not_a_form", hint="Попросите школу заполнить шаблон формы года, не переименовывая листы.")
        raise FormError(name, f"в форме нет листа {need} (листы в файле: {found})", rule="form.missing_sheets",
                        hint="Попросите школу заполнить шаблон формы года, не переименовывая и не удаляя листы.")
    return out, real


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
        path = Path(source)
        name = name or path.name
        try:
            size = path.stat().st_size
        except OSError:
            raise FormError(name, "файл не найден или недоступен для чтения", rule="file.unreadable",
                            hint="Проверьте, что файл лежит в папке сырых данных года.") from None
        if size > MAX_FILE_BYTES:
            raise FormError(name, f"файл слишком большой ({size // 1024} КБ; допускается до {MAX_FILE_BYTES // 1024 // 1024} МБ)",
                            rule="file.too_large", hint="Сохраните форму заново из шаблона года.")
        with open(path, "rb") as fh:  # read-only: raw files are never modified
            data = fh.read()
    package = _check_container(data, name)
    try:
        sheets, real = _load_rows(data, name, package)
    finally:
        package.close()
    values = _read_info(real[SHEET_INFO], sheets[SHEET_INFO])
    values += _read_staff(real[SHEET_STAFF], sheets[SHEET_STAFF])
    values += _read_checklist(real[SHEET_CHECKLIST], sheets[SHEET_CHECKLIST], methodology)
    if not values:
        raise FormError(name, "на листах формы не найдено ни одной известной подписи или кода (Код ОО, P0…P9, коды позиций)",
                        rule="form.unrecognized", hint="Попросите школу заполнить шаблон формы года, не меняя подписи в столбце A.")
    return name, values


# --------------------------------------------------------------------------------------------
# The registry of schools
# --------------------------------------------------------------------------------------------

REGISTRY_COLUMNS = ("code", "name", "type")


def read_registry(source: str | Path | bytes, *, name: str = "registry.csv") -> pd.DataFrame:
    """The school registry (code, name, type) as text; codes keep their leading zeros.

    Accepts UTF-8 (with or without BOM) or Windows-1251, comma or semicolon separated.
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        name = path.name
        if not path.is_file():
            raise FormError(name, f"реестр школ не найден ({path})", rule="registry.missing",
                            hint="Положите registry.csv (столбцы code, name, type) в папку сырых данных года.")
        data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except Exception:
        raise FormError(name, "реестр школ не читается как таблица CSV", rule="registry.invalid",
                        hint="Сохраните реестр как CSV со столбцами code, name, type.") from None
    df.columns = [norm_text(c) for c in df.columns]
    missing = [c for c in REGISTRY_COLUMNS if c not in df.columns]
    if missing:
        raise FormError(name, f"в реестре школ нет столбцов {', '.join(missing)}", rule="registry.invalid",
                        hint="Нужны столбцы code, name, type.")
    df = df[list(REGISTRY_COLUMNS)].copy()
    for c in REGISTRY_COLUMNS:
        df[c] = df[c].astype(str).str.strip()
    df["code"] = df["code"].map(normalize_school_code)
    df = df[df["code"] != ""]
    dupes = df["code"][df["code"].duplicated()].tolist()
    if dupes:
        raise FormError(name, f"код ОО {dupes[0]} встречается в реестре дважды", rule="registry.invalid",
                        hint="У каждой школы в реестре должен быть свой код.")
    return df.sort_values("code", kind="stable").reset_index(drop=True).astype("string")


# --------------------------------------------------------------------------------------------
# Writing (template and sample)
# --------------------------------------------------------------------------------------------

COLUMN_WIDTHS = {
    SHEET_INFO: {"A": 44, "B": 46, "C": 70},
    SHEET_STAFF: {"A": 7, "B": 92, "C": 18},
    SHEET_CHECKLIST: {"A": 8, "B": 78, "C": 8, "D": 64, "E": 48},
}
FIRST_ROW = 4  # rows 1–3: title, instruction, header


def _scale_text(scale: Iterable[int]) -> str:
    return ", ".join(str(s) for s in sorted(scale))


def default_orders(methodology: Methodology) -> dict[str, list[str | None]]:
    """The template's row order of each sheet (fields; None would be a blank row)."""
    return {
        SHEET_INFO: [f.key for f in INFO_FIELDS],
        SHEET_STAFF: list(STAFF_CODES),
        SHEET_CHECKLIST: [p.code for p in methodology.positions],
    }


def build_workbook(
    methodology: Methodology,
    academic_year: str,
    *,
    values: dict[str, Any] | None = None,
    orders: dict[str, list[str | None]] | None = None,
    protect: bool = True,
) -> tuple[Any, dict[str, str]]:
    """The year's form as an openpyxl workbook, with `values` filled in.

    values: field name (info.<key>, staff.Pn, checklist.<code>.score|document|link) → value
    written as is (a str stays text, an int a number). orders: row order per sheet (see
    default_orders; None inserts a blank row). Returns the workbook and field → 'Sheet!A1'.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    values = dict(values or {})
    values.setdefault("info.academic_year", academic_year)
    orders = {**default_orders(methodology), **(orders or {})}
    start, end = (int(x) for x in academic_year.split("-"))

    bold = Font(bold=True)
    title_font = Font(bold=True, size=13)
    note_font = Font(italic=True, color="555555")
    answer_fill = PatternFill("solid", fgColor="FFF2CC")
    head_fill = PatternFill("solid", fgColor="D9E1F2")
    thin = Side(style="thin", color="A6A6A6")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    unlocked = Protection(locked=False)
    cells: dict[str, str] = {}

    wb = Workbook()
    ws_info = wb.active
    ws_info.title = SHEET_INFO
    ws_staff = wb.create_sheet(SHEET_STAFF)
    ws_check = wb.create_sheet(SHEET_CHECKLIST)

    def header(ws: Any, title: str, note: str, heads: list[str], last_col: str) -> None:
        ws["A1"] = title
        ws["A1"].font = title_font
        ws["A2"] = note
        ws["A2"].font = note_font
        ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(f"A1:{last_col}1")
        ws.merge_cells(f"A2:{last_col}2")
        ws.row_dimensions[2].height = 48
        for i, h in enumerate(heads, start=1):
            c = ws.cell(row=3, column=i, value=h)
            c.font = bold
            c.fill = head_fill
            c.border = box
            c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.freeze_panes = "A4"

    def answer(ws: Any, row: int, col: int, name: str, number_format: str | None = None, locked: bool = False) -> Any:
        c = ws.cell(row=row, column=col)
        if name in values and values[name] is not None:
            c.value = values[name]
        c.border = box
        if not locked:
            c.protection = unlocked
            c.fill = answer_fill
        if number_format:
            c.number_format = number_format
        cells[name] = f"{ws.title}!{c.coordinate}"
        return c

    def validation(ws: Any, dv: DataValidation) -> DataValidation:
        dv.showErrorMessage = True
        dv.showInputMessage = True
        dv.errorTitle = "Недопустимое значение"
        ws.add_data_validation(dv)
        return dv

    # «Сведения»
    header(ws_info, f"Форма самооценки методической службы образовательной организации, {academic_year} учебный год",
           "Заполните жёлтые ячейки столбца «Значение». Не меняйте названия листов и подписи в столбце A. "
           "Код ОО — текстом, как в реестре (с ведущими нулями).",
           ["Показатель", "Значение", "Подсказка"], "C")
    dv_type = validation(ws_info, DataValidation(type="list", formula1='"' + ",".join(SCHOOL_TYPES) + '"', allow_blank=True,
                                                 error="Выберите тип из списка: " + ", ".join(SCHOOL_TYPES) + ".",
                                                 promptTitle="Тип ОО", prompt="Выберите из списка."))
    dv_yes = validation(ws_info, DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True,
                                                error="Выберите «да» или «нет».", promptTitle="да/нет", prompt="Выберите «да» или «нет»."))
    dv_count = validation(ws_info, DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                                  error="Введите целое число не меньше 0.", promptTitle="Число", prompt="Целое число не меньше 0."))
    excel_epoch = dt.date(1899, 12, 30)
    d0, d1 = (dt.date(start, 9, 1) - excel_epoch).days, (dt.date(end, 12, 31) - excel_epoch).days
    dv_date = validation(ws_info, DataValidation(type="date", operator="between", formula1=str(d0), formula2=str(d1), allow_blank=True,
                                                 error=f"Введите дату с 01.09.{start} по 31.12.{end} в формате ДД.ММ.ГГГГ.",
                                                 promptTitle="Дата", prompt="Дата в формате ДД.ММ.ГГГГ."))
    row = FIRST_ROW
    for key in orders[SHEET_INFO]:
        if key is None:
            row += 1
            continue
        f = INFO_BY_KEY[key]
        ws_info.cell(row=row, column=1, value=f.label).border = box
        hint = ws_info.cell(row=row, column=3, value=f.hint)
        hint.font = note_font
        hint.alignment = wrap
        name = f"info.{key}"
        fmt = {"code": "@", "date": "DD.MM.YYYY"}.get(f.kind)
        c = answer(ws_info, row, 2, name, fmt, locked=(f.kind == "academic_year"))
        if f.kind == "school_type":
            dv_type.add(c.coordinate)
        elif f.kind == "yesno":
            dv_yes.add(c.coordinate)
        elif f.kind == "count":
            dv_count.add(c.coordinate)
        elif f.kind == "date":
            dv_date.add(c.coordinate)
        c.alignment = Alignment(horizontal="left")
        row += 1

    # «Кадры»
    header(ws_staff, "Кадровые показатели методической работы (число педагогов, чел.)",
           "Укажите целые числа не меньше 0. P1–P7 и P9 не больше P0; P3 не больше P2; P8 не больше P7. "
           "Если молодых педагогов нет, в P7 и P8 укажите 0.",
           ["Код", "Показатель", "Значение, чел."], "C")
    dv_staff = validation(ws_staff, DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                                   error="Введите целое число не меньше 0.", promptTitle="Число педагогов",
                                                   prompt="Целое число не меньше 0."))
    row = FIRST_ROW
    for code in orders[SHEET_STAFF]:
        if code is None:
            row += 1
            continue
        ws_staff.cell(row=row, column=1, value=code).border = box
        lab = ws_staff.cell(row=row, column=2, value=STAFF_LABELS[code])
        lab.border = box
        lab.alignment = wrap
        dv_staff.add(answer(ws_staff, row, 3, f"staff.{code}").coordinate)
        row += 1

    # «Показатели»
    scales = sorted({tuple(sorted(p.scale)) for p in methodology.positions})
    scale_note = " или ".join(_scale_text(s) for s in scales)
    header(ws_check, f"Самооценка по позициям (балл: {scale_note}; наибольший — есть, 0 — нет)",
           "Для балла выше 0 укажите подтверждающий документ (название и реквизиты: вид, номер, дата) и ссылку на "
           "его размещение на сайте ОО (адрес, начинающийся с https://). Балл без подтверждающего документа не засчитывается.",
           list(CHECKLIST_COLUMNS.values()), "E")
    dv_scores = {
        s: validation(ws_check, DataValidation(type="list", formula1='"' + ",".join(str(x) for x in s) + '"', allow_blank=True,
                                               error=f"Выберите балл из списка: {_scale_text(s)}.", promptTitle="Балл",
                                               prompt=f"Выберите балл: {_scale_text(s)}."))
        for s in scales
    }
    row = FIRST_ROW
    for code in orders[SHEET_CHECKLIST]:
        if code is None:
            row += 1
            continue
        p = methodology.position(code)
        ws_check.cell(row=row, column=1, value=p.code).border = box
        t = ws_check.cell(row=row, column=2, value=p.text)
        t.border = box
        t.alignment = wrap
        dv_scores[tuple(sorted(p.scale))].add(answer(ws_check, row, 3, f"checklist.{code}.score").coordinate)
        answer(ws_check, row, 4, f"checklist.{code}.document").alignment = wrap
        answer(ws_check, row, 5, f"checklist.{code}.link").alignment = wrap
        row += 1

    for ws in (ws_info, ws_staff, ws_check):
        for col, width in COLUMN_WIDTHS[ws.title].items():
            ws.column_dimensions[col].width = width
        if protect:
            ws.protection.sheet = True
            ws.protection.formatColumns = False
            ws.protection.formatRows = False
    if protect:
        wb.security = WorkbookProtection(lockStructure=True)
    return wb, cells


def workbook_bytes(wb: Any, stamp: dt.datetime) -> bytes:
    """Save a workbook reproducibly: fixed document dates and zip entry times."""
    buf = io.BytesIO()
    wb.properties.creator = "pipeline"
    wb.properties.lastModifiedBy = "pipeline"
    wb.properties.created = stamp
    wb.save(buf)  # openpyxl sets `modified` to now; fixed below
    stamp_text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp_text.encode() + rb"\g<2>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    return out.getvalue()


def template_name(academic_year: str, code: str | None = None) -> str:
    return f"form_{academic_year}.xlsx" if code is None else f"form_{academic_year}_{code}.xlsx"


def write_template(params: YearParams, out_dir: str | Path, prefilled: bool = False) -> list[Path]:
    """Write the year's blank form (and, with prefilled, one form per registry school with its
    code, name, type and academic year filled in). Returns the paths written."""
    methodology = load_methodology(params.methodology)
    out_dir = Path(out_dir)
    stamp = dt.datetime(params.year, 3, 1)
    wb, _ = build_workbook(methodology, params.academic_year)
    written = [write_bytes_atomic(out_dir / template_name(params.academic_year), workbook_bytes(wb, stamp))]
    if prefilled:
        registry = read_registry(Path(params.raw_dir) / "registry.csv")
        for rec in registry.itertuples(index=False):
            values = {"info.school_code": str(rec.code), "info.school_name": str(rec.name)}
            if str(rec.type) in SCHOOL_TYPES:
                values["info.school_type"] = str(rec.type)
            wb, _ = build_workbook(methodology, params.academic_year, values=values)
            written.append(write_bytes_atomic(out_dir / template_name(params.academic_year, str(rec.code)), workbook_bytes(wb, stamp)))
    return written
