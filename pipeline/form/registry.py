"""The school registry of a year: which schools are expected to report."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..core.errors import FormError
from .text import norm_text, normalize_school_code


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
