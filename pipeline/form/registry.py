"""The school registry of a year: which schools are expected to report.

The registry is `registry.csv` (UTF-8 with or without BOM, or Windows-1251; ',' or ';') or
`registry.xlsx` (its first sheet), headed in Latin (code, name, type) or with the form's own
labels («Код ОО», «Наименование ОО», «Тип ОО»). Extra columns are kept (e-mail, district, head
of school; known ones under Latin names, see EXTRA_HEADERS). School codes are brought to one
canonical width (see canonical_code): a registry re-saved by Excel that lost the leading zeros
of its codes is repaired (the original code stays in `code_given`), or refused when ambiguous.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..config.params import YearParams
from ..config.years import earlier_years
from ..io.storage import read_table
from ..core.errors import FormError
from .text import norm_label, norm_text, normalize_school_code


REGISTRY_COLUMNS = ("code", "name", "type")
# The file names a year's registry may have, in the raw folder's top level.
REGISTRY_NAMES = ("registry.csv", "registry.xlsx")
# Headers accepted for each column (compared by norm_label: case, spaces and «ё» ignored).
HEADERS = {
    "code": ("code", "Код ОО", "Код"),
    "name": ("name", "Наименование ОО", "Наименование", "Название ОО"),
    "type": ("type", "Тип ОО", "Тип"),
}
EXTRA_HEADERS = {
    "email": ("email", "e-mail", "e mail", "Электронная почта", "Адрес электронной почты", "Почта"),
    "district": ("district", "Район", "Округ"),
    "head": ("head", "Руководитель", "Руководитель ОО", "Директор", "ФИО руководителя"),
}
# Columns of the registry that name or reach a person: never published.
PRIVATE_COLUMNS = ("head", "email")

_EXPECTED = "code, name, type (или «Код ОО», «Наименование ОО», «Тип ОО»)"
_HINT = (f"Сохраните реестр как registry.csv или registry.xlsx с первой строкой заголовков: {_EXPECTED}; "
         "другие столбцы (e-mail, район, руководитель) можно оставить.")


def registry_name(names: Iterable[str]) -> str | None:
    """Which of a raw folder's top-level file names is the registry (None: there is none).
    Two registries (a .csv and an .xlsx) are refused: which one counts would be a guess."""
    present = set(names)
    found = [n for n in REGISTRY_NAMES if n in present]
    if len(found) > 1:
        raise FormError(found[0], f"в папке года два реестра школ: {' и '.join(found)}", rule="registry.invalid",
                        hint="Оставьте в папке сырых данных года один реестр — registry.csv или registry.xlsx.")
    return found[0] if found else None


def find_registry(raw_dir: str | Path) -> Path:
    """The registry file of a raw folder (registry.csv or registry.xlsx): what ingest and
    clean both read."""
    raw_dir = Path(raw_dir)
    names = [p.name for p in raw_dir.iterdir()] if raw_dir.is_dir() else []
    name = registry_name(names)
    return raw_dir / (name or REGISTRY_NAMES[0])


def canonical_code(value: object, width: int | None) -> str:
    """A school code in the municipality's one form: spaces removed, '107.0' → '107', and a
    code of digits shorter than `width` padded with leading zeros (101 → 0101 for width 4)."""
    code = normalize_school_code(str(value or ""))
    if width and code.isdigit() and len(code) < width:
        code = code.zfill(width)
    return code


def _table(data: bytes, name: str) -> pd.DataFrame:
    """The registry's rows as text, whatever the file format."""
    if data[:2] == b"PK" or data[:4] == b"\xd0\xcf\x11\xe0":
        return _workbook_table(data, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except Exception:
        raise FormError(name, "реестр школ не читается как таблица CSV", rule="registry.invalid", hint=_HINT) from None


def _workbook_table(data: bytes, name: str) -> pd.DataFrame:
    """The first sheet of an .xlsx registry; numbers that are whole written without '.0'."""
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=True)
    except BaseException as exc:  # calamine raises several types, or panics (a BaseException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise FormError(name, "реестр школ не читается как книга Excel", rule="registry.invalid", hint=_HINT) from None

    def text(v: object) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return "" if v is None else str(v)

    rows = [[text(v) for v in row] for row in rows if any(text(v).strip() for v in row)]
    if not rows:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=str)


def _rename(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Known headers (Latin or Russian) renamed to their Latin names; others kept as written."""
    known = {norm_label(h): key for key, heads in {**HEADERS, **EXTRA_HEADERS}.items() for h in heads}
    renamed: dict[str, str] = {}
    for col in df.columns:
        key = known.get(norm_label(norm_text(col)))
        renamed[col] = key if key and key not in renamed.values() else str(col).strip()
    df = df.rename(columns=renamed)
    missing = [c for c in REGISTRY_COLUMNS if c not in df.columns]
    if missing:
        found = ", ".join(f"«{c}»" for c in df.columns) or "нет"
        raise FormError(name, f"в реестре школ нет столбцов {', '.join(missing)} (столбцы в файле: {found}; "
                              f"нужны {_EXPECTED})", rule="registry.invalid", hint=_HINT)
    return df


def _infer_width(codes: pd.Series) -> int | None:
    """The code width a registry itself proves: the longest codes of digits, when one of them
    begins with 0 (so leading zeros matter) and some codes are shorter."""
    digits = [c for c in codes if c.isdigit()]
    if not digits:
        return None
    longest = max(len(c) for c in digits)
    if any(len(c) == longest and c.startswith("0") for c in digits) and any(len(c) < longest for c in digits):
        return longest
    return None


def _canonical_codes(df: pd.DataFrame, name: str, width: int | None) -> pd.DataFrame:
    given = df["code"].map(normalize_school_code)
    width = width or _infer_width(given)
    df["code"] = given.map(lambda c: canonical_code(c, width))
    df["code_given"] = given
    dupes = df["code"][df["code"].duplicated()].tolist()
    if dupes:
        same = sorted(set(given[df["code"] == dupes[0]]))
        if len(same) > 1:
            raise FormError(name, f"коды ОО {' и '.join(same)} после восстановления ведущих нулей (до {width} знаков) "
                                  f"совпадают ({dupes[0]}) — неясно, какая школа какая", rule="registry.invalid",
                            hint="Исправьте коды в реестре (сохраните столбец кодов как текст, чтобы Excel не убирал нули).")
        raise FormError(name, f"код ОО {dupes[0]} встречается в реестре дважды", rule="registry.invalid",
                        hint="У каждой школы в реестре должен быть свой код.")
    return df


def read_registry(source: str | Path | bytes, *, name: str = "registry.csv", code_width: int | None = None) -> pd.DataFrame:
    """The school registry (code, name, type, the extra columns, code_given) as text; codes in
    their canonical form (code_given: as the file wrote them, differing where repaired)."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        name = path.name
        if not path.is_file():
            raise FormError(name, f"реестр школ не найден ({path})", rule="registry.missing",
                            hint="Положите registry.csv или registry.xlsx (столбцы code, name, type) в папку сырых данных года.")
        data = path.read_bytes()
    df = _rename(_table(data, name), name)
    df = df[[*REGISTRY_COLUMNS, *[c for c in df.columns if c not in REGISTRY_COLUMNS]]].copy()
    for c in df.columns:
        df[c] = df[c].astype(str).str.strip()
    df = df[df["code"].map(normalize_school_code) != ""]
    df = _canonical_codes(df, name, code_width)
    return df.sort_values("code", kind="stable").reset_index(drop=True).astype("string")


def repaired_codes(registry: pd.DataFrame) -> list[tuple[str, str]]:
    """(code as the file wrote it, canonical code) of every registry code that was repaired."""
    if "code_given" not in registry.columns:
        return []
    return [(g, c) for g, c in zip(registry["code_given"].astype(str), registry["code"].astype(str)) if g != c]


def learned_code_width(codes: Iterable[str]) -> int | None:
    """The width earlier codes prove: all of digits, of one length, some beginning with 0."""
    digits = [str(c) for c in codes if str(c).isdigit()]
    if digits and any(c.startswith("0") for c in digits) and len({len(c) for c in digits}) == 1:
        return len(digits[0])
    return None


def code_width(params: YearParams) -> int | None:
    """The municipality's school code width: `code_width` of the year's parameters, else learned
    from the newest earlier year's processed profile.csv (None: codes are taken as written)."""
    if params.code_width:
        return params.code_width
    for earlier in earlier_years(params):
        if earlier.params is None:
            return None
        folder = Path(earlier.params.processed_dir)
        if (folder / "profile.csv").is_file():
            try:
                codes = read_table(folder, "profile.csv")["school_code"].astype(str)
            except (ValueError, KeyError, OSError, pd.errors.ParserError):
                return None
            return learned_code_width(codes)
    return None


def load_registry(params: YearParams) -> pd.DataFrame:
    """The year's registry from its raw folder (registry.csv or registry.xlsx), codes canonical."""
    return read_registry(find_registry(params.raw_dir), code_width=code_width(params))


def canonical_code_column(df: pd.DataFrame | None, width: int | None) -> pd.DataFrame | None:
    """An earlier year's table with its school_code brought to the canonical width (what the
    follow-up and the dynamics compare with this year's codes)."""
    if df is None or not width or "school_code" not in df.columns:
        return df
    df = df.copy()
    codes = df["school_code"]
    df["school_code"] = codes.map(lambda c: c if pd.isna(c) else canonical_code(c, width)).astype(codes.dtype)
    return df
