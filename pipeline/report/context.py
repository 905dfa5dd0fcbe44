"""What the report of a year is made from: the year's processed tables and every earlier
year reachable through `previous_params`, read once (`build_context`, the one place that
reads files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..config.methodology import Methodology, load_methodology
from ..config.params import YearParams, load_params
from ..config.years import EarlierYear, earlier_years
from ..core.contract import NO_LEVEL, OUTPUTS
from ..core.errors import StageError
from ..core.values import as_bool
from ..form.registry import canonical_code_column
from ..io.storage import read_table


NO_DATA = NO_LEVEL


# Tables the report does not show, read only when asked for: forms.csv, every answer of
# every form, is ~150 MB at 10,000 schools (~300 MB in memory, a second of reading), which the
# report's kernel and each of its forked writers would otherwise hold.
ON_DEMAND = ("forms.csv",)


@dataclass(frozen=True)
class YearData:
    """The processed tables of one year (by file name); a missing file is an empty table with
    the contract's columns, listed in `missing`. The tables of ON_DEMAND are read at their
    first use (`code_width`: as load_year's)."""

    params: YearParams
    tables: dict[str, pd.DataFrame]
    missing: tuple[str, ...] = ()
    code_width: int | None = None

    @property
    def year(self) -> int:
        return self.params.year

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables and name in ON_DEMAND:
            self.tables[name] = _normalise(canonical_code_column(read_table(Path(self.params.processed_dir), name),
                                                                 self.code_width))
        return self.tables[name]


@dataclass(frozen=True)
class HistoryYear:
    """One year of the dynamics: its parameters and data, or why it has none."""

    year: int
    academic_year: str
    data: YearData | None
    note: str = ""


def _empty(stage: str, name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in OUTPUTS[stage][name]})


def load_year(params: YearParams, code_width: int | None = None) -> YearData | None:
    """Every contract table of the year's processed_dir; None when the year has no scores.
    code_width: school codes brought to that width (the year being reported declares it)."""
    folder = Path(params.processed_dir)
    if not (folder / "scores.csv").is_file():
        return None
    tables, missing = {}, []
    for stage in ("ingest", "clean", "score", "recommendations"):
        for name in OUTPUTS[stage]:
            if (folder / name).is_file():
                if name not in ON_DEMAND:
                    tables[name] = _normalise(canonical_code_column(read_table(folder, name), code_width))
            else:
                tables[name] = _empty(stage, name)
                missing.append(name)
    return YearData(params, tables, tuple(missing), code_width)


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for col in ("school_code", "recommendation_id", "indicator_code", "position", "target", "criterion"):
        if col in df.columns:
            df[col] = df[col].astype("string").str.strip()
    if "submitted" in df.columns:
        df["submitted"] = df["submitted"].map(as_bool).fillna(False).astype(bool)
    return df


def load_history(params: YearParams) -> list[HistoryYear]:
    """The year and every earlier one reachable through previous_params, oldest first. A year
    whose parameter file or processed data is missing is kept with a note and no data."""
    chain: list[HistoryYear] = []
    last = params
    for current in [params, *(e for e in earlier_years(params))]:
        year = current.params if isinstance(current, EarlierYear) else current
        if year is None:  # an unreadable earlier year: say so, the chain ends there
            chain.append(HistoryYear(last.year - 1, "", None, f"файл параметров «{current.path.name}» не читается"))
            break
        data = load_year(year, params.code_width)
        note = "" if data is not None else f"обработанные данные не найдены ({Path(year.processed_dir).name})"
        chain.append(HistoryYear(year.year, year.academic_year, data, note))
        last = year
    return list(reversed(chain))


@dataclass
class ReportContext:
    """Everything the report of one year is made from."""

    params: YearParams
    methodology: Methodology
    data: YearData
    history: list[HistoryYear] = field(default_factory=list)
    # derived tables, computed once per context (the school pages ask for them per school)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_small(self) -> int:
        return int(self.params.report.min_group_size)

    @property
    def previous(self) -> YearData | None:
        """The previous year's data, when it was run."""
        if len(self.history) >= 2 and self.history[-2].year == self.params.year - 1:
            return self.history[-2].data
        return None


def build_context(params: YearParams | str | Path, methodology: Methodology | None = None) -> ReportContext:
    """Load the year (and its history) for the report. The one place that reads files."""
    if not isinstance(params, YearParams):
        params = load_params(params)
    methodology = methodology or load_methodology(params.methodology)
    history = load_history(params)
    data = history[-1].data
    if data is None:
        raise StageError(
            "report", f"нет обработанных данных {params.year} года в папке «{params.processed_dir}»",
            "Сначала выполните этапы ingest, clean, score и recommendations (python -m pipeline run --params …).",
        )
    return ReportContext(params, methodology, data, history)


def audit_notes(ctx: ReportContext) -> pd.DataFrame:
    """For the auditor: which years the dynamics use (or why not) and which tables are missing."""
    rows = []
    for hy in ctx.history:
        what = "данные есть" if hy.data is not None else hy.note
        if hy.data is not None and hy.data.missing:
            what += "; нет файлов: " + ", ".join(hy.data.missing)
        rows.append({"год": hy.year, "учебный год": hy.academic_year, "обработанные данные": what,
                     "папка": str(hy.data.params.processed_dir) if hy.data is not None else ""})
    return pd.DataFrame(rows)
