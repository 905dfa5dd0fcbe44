"""What became of last year's roadmap (measures.csv): each measure of the previous year's
roadmap.csv with its status — выполнено / не выполнено / нет сведений — from the record the
department kept (measures.xlsx in this year's raw folder, checked by the clean stage into
measures_reported.csv). A measure without a row in the record, or a year without the record,
is «нет сведений»; a reported id that is not in last year's roadmap is not counted (listed by
`unknown_ids`)."""

from __future__ import annotations

import pandas as pd

from pathlib import Path

from ..core.contract import MEASURE_STATUSES, OUTPUTS
from ..core.values import as_bool, text
from ..io.storage import read_table
from .indicators import _frame

DONE, NOT_DONE, NO_RECORD = MEASURE_STATUSES
MEASURE_COLUMNS = OUTPUTS["recommendations"]["measures.csv"] + ("number", "due_month", "due", "indicator_code", "schools")


def read_reported(folder: str | Path) -> pd.DataFrame | None:
    """The clean stage's measures_reported.csv of a processed folder; None for a folder written
    before the record was read (its measures are then «нет сведений»)."""
    return read_table(folder, "measures_reported.csv") if (Path(folder) / "measures_reported.csv").is_file() else None


def build_measures(previous_roadmap: pd.DataFrame | None, reported: pd.DataFrame | None) -> pd.DataFrame:
    """measures.csv: one row per measure of last year's roadmap, in its order."""
    if previous_roadmap is None or previous_roadmap.empty:
        return _frame([], MEASURE_COLUMNS)
    got = {}
    if reported is not None and len(reported):
        for r in reported.to_dict("records"):
            got.setdefault(text(r.get("decision_id")), r)
    rows = []
    for m in previous_roadmap.to_dict("records"):
        ident = text(m.get("decision_id"))
        r = got.get(ident)
        done = as_bool(r.get("done")) if r is not None else None
        status = NO_RECORD if done is None else DONE if done else NOT_DONE
        rows.append({
            "decision_id": ident, "kind": text(m.get("kind")), "title": text(m.get("title")),
            "school_code": text(m.get("school_code")), "status": status,
            **{k: text(r.get(k)) if r is not None else "" for k in ("date", "document", "participants")},
            "number": m.get("number"), "due_month": text(m.get("due_month")), "due": text(m.get("due")),
            "indicator_code": text(m.get("indicator_code")), "schools": text(m.get("schools")),
        })
    return _frame(rows, MEASURE_COLUMNS, ints=("number",))


def unknown_ids(previous_roadmap: pd.DataFrame | None, reported: pd.DataFrame | None) -> list[str]:
    """Ids reported in measures.xlsx that last year's roadmap does not have (not counted)."""
    if reported is None or reported.empty:
        return []
    known = set() if previous_roadmap is None else {text(x) for x in previous_roadmap["decision_id"]}
    return sorted({text(x) for x in reported["decision_id"]} - known)
