"""Next year's measures as the documents list them: the processed roadmap.csv (one row per
seminar topic, municipal measure and visit with its month), read with the year's tables; the
order and roadmap.docx both take their items from here."""

from __future__ import annotations

import pandas as pd

from ...core.values import text
from ..context import ReportContext
from ..tables import _names

ROADMAP = "roadmap.csv"
COLUMNS = ("decision_id", "number", "kind", "title", "due_month", "due", "indicator", "executors", "school_code")


def roadmap(ctx: ReportContext) -> pd.DataFrame:
    """roadmap.csv of the year (texts, in its order), with the school's name for a visit."""
    df = ctx.data.tables.get(ROADMAP)
    if df is None:
        df = pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    df = df.copy()
    for c in COLUMNS:
        df[c] = df[c].map(text) if c in df.columns else ""
    names = _names(ctx)
    df["school_name"] = [names.get(c, c) if c else "" for c in df["school_code"]]
    return df.reset_index(drop=True)
