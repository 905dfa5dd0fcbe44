"""Small helpers to build school forms and raw folders in tests."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook


from pipeline.config.methodology import Methodology, load_methodology
from pipeline.form import template as form_template
from pipeline.form.fields import layout

ACADEMIC_YEAR = "2025-2026"
DEFAULT_METHODOLOGY = Path(__file__).resolve().parents[1] / "methodology" / "default.yaml"
# the default methodology's form (what the template and the sample have)
FORM = layout(load_methodology(DEFAULT_METHODOLOGY))
INFO_FIELDS = FORM.info
STAFF_CODES = FORM.staff_codes
STAFF_LABELS = FORM.staff_labels
SCHOOL_TYPES = FORM.school_types


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """A plain workbook: sheet name → rows of values, starting at A1 (None = empty cell)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def good_values(methodology: Methodology, code: str = "0107", **over: Any) -> dict[str, Any]:
    """A complete, consistent form (field → value); keyword overrides use '__' for '.'."""
    values: dict[str, Any] = {
        "info.school_code": code,
        "info.school_name": f"МБОУ СОШ № {int(code) % 100}",
        "info.school_type": "СОШ",
        "info.academic_year": ACADEMIC_YEAR,
        "info.pupils": 640,
        "info.innovation_site": "да",
        "info.low_results": "нет",
        "info.low_results_support": "нет",
        "info.staffing_monitoring": "да",
        "info.responsible": "Иванова Мария Петровна, заместитель директора",
        "info.filled_date": dt.date(2026, 4, 10),
        "staff.P0": 40, "staff.P1": 8, "staff.P2": 6, "staff.P3": 2, "staff.P4": 3,
        "staff.P5": 20, "staff.P6": 35, "staff.P7": 5, "staff.P8": 4, "staff.P9": 2,
    }
    for i, p in enumerate(methodology.positions):
        top = max(p.scale)
        score = top if i % 3 else 0
        values[f"checklist.{p.code}.score"] = score
        if score:
            values[f"checklist.{p.code}.document"] = f"Приказ № {10 + i} от 01.09.2025 «О позиции {p.code}»"
            values[f"checklist.{p.code}.link"] = f"https://school7.example.ru/metod/{p.code}.pdf"
    for k, v in over.items():
        values[k.replace("__", ".")] = v
    return values


def form_bytes(methodology: Methodology, values: dict[str, Any] | None = None, *, academic_year: str = ACADEMIC_YEAR,
               orders: dict | None = None, protect: bool = True) -> bytes:
    """A form built by the pipeline's own writer (as the template looks when filled)."""
    wb, _ = form_template.build_workbook(methodology, academic_year, values=values, orders=orders, protect=protect)
    return form_template.workbook_bytes(wb, dt.datetime(2026, 5, 31))


def form_cells(methodology: Methodology, values: dict[str, Any] | None = None, orders: dict | None = None) -> dict[str, str]:
    """field → 'Sheet!A1' for a form built with these values and orders."""
    _, cells = form_template.build_workbook(methodology, ACADEMIC_YEAR, values=values, orders=orders)
    return cells


REGISTRY = "code,name,type\n0107,МБОУ СОШ № 7,СОШ\n0108,МБОУ СОШ № 8,СОШ\n0201,МКОУ ООШ с. Ивановка,ООШ\n"


def raw_folder(folder: Path, files: dict[str, bytes], registry: str = REGISTRY) -> Path:
    """A raw_dir with registry.csv and the given files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registry.csv").write_text(registry, encoding="utf-8")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def ingest_and_clean(folder: Path, methodology: Methodology, workbooks: dict[str, bytes], write_params) -> dict:
    """ingest and clean of a raw folder holding one good school form (0107) and the given
    workbooks of the department (department.xlsx, measures.xlsx): every table they write."""
    from pipeline.config.params import load_params
    from pipeline.stages import clean, ingest

    files = {"0107.xlsx": form_bytes(methodology, good_values(methodology, "0107")), **workbooks}
    raw = raw_folder(folder / "raw", files)
    params = load_params(write_params(folder, raw_dir=raw))
    r = ingest.load_raw(params)
    t = ingest.run(r, methodology, params)
    return {**t, **clean.run(t["forms.csv"], t["files.csv"], ingest.registry_of(r), methodology, params)}
