"""The follow-up of last year's recommendations («анализ эффективности принятых мер»): each
of last year's recommendations marked устранён / улучшение / без изменений / ухудшение / нет
данных against this year's results, or «методика изменилась» where the indicator is defined
otherwise this year (another scale or measure): those are never compared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config.methodology import Methodology, comparable_codes, load_methodology
from ..config.params import YearParams
from ..config.years import earlier_years
from ..core.contract import FOLLOWUP_STATUSES, OUTPUTS
from ..core.errors import MethodologyError
from ..core.values import num, records
from ..form.registry import canonical_code_column
from ..io.storage import read_table, sha256_file
from .indicators import CHANGED, FIXED, IMPROVED, NO_DATA, UNCHANGED, WORSE, _empty, _frame, _indicator_order, _school_codes, _submitted, recommendation_id




# Follow-up availability (RecommendationsResult.followup_state / PreviousYear.state).
FIRST_YEAR = "first_year"


PREVIOUS_MISSING = "previous_missing"


AVAILABLE = "available"


FIRST_YEAR_MESSAGE = (
    "Первый год мониторинга: анализ эффективности принятых мер будет доступен со следующего года."
)


FOLLOWUP_COLUMNS = OUTPUTS["recommendations"]["followup.csv"] + (
    "kind", "previous_priority", "previous_points", "current_points", "max_points",
    "previous_value", "current_value", "target_value", "note",
)


@dataclass
class PreviousYear:
    """Last year's outputs the follow-up needs, and whether they could be found."""

    state: str  # FIRST_YEAR, PREVIOUS_MISSING or AVAILABLE
    message: str
    year: int | None = None
    processed_dir: Path | None = None
    recommendations: pd.DataFrame | None = None
    positions: pd.DataFrame | None = None
    targets_school: pd.DataFrame | None = None
    methodology: Methodology | None = None   # last year's methodology (None: it cannot be loaded)
    roadmap: pd.DataFrame | None = None      # last year's roadmap.csv (None: not written that year)

    def inputs_table(self) -> pd.DataFrame:
        """Last year's files the follow-up read, with sha256 (the stage header names only this year's)."""
        return pd.DataFrame([{"файл предыдущего года": str(p), "sha256": sha256_file(p)} for p in self.inputs],
                            columns=["файл предыдущего года", "sha256"])

    @property
    def inputs(self) -> list[Path]:
        """Files read (for the stage header's checksums)."""
        if self.processed_dir is None:
            return []
        return [self.processed_dir / n for n in ("recommendations.csv", "positions.csv", "targets_school.csv", "roadmap.csv")
                if (self.processed_dir / n).is_file()]


def load_previous(params: YearParams) -> PreviousYear:
    """Find last year's outputs through params.previous_params; never raises for absence."""
    if params.previous_params is None:
        return PreviousYear(FIRST_YEAR, FIRST_YEAR_MESSAGE)
    earlier = next(earlier_years(params, depth=1), None)
    if earlier is None or earlier.params is None:
        problem = earlier.problem if earlier is not None else "цепочка previous_params ведёт к этому же году"
        return PreviousYear(PREVIOUS_MISSING, f"Параметры предыдущего года не загружены: {problem} "
                            "Анализ эффективности принятых мер в этом году не выполнен.")
    prev = earlier.params
    folder = prev.processed_dir
    rec_file = folder / "recommendations.csv"
    if not rec_file.is_file():
        return PreviousYear(
            PREVIOUS_MISSING,
            f"Результаты {prev.year} года не найдены (нет файла {rec_file}): анализ эффективности "
            f"принятых мер не выполнен. Выполните сначала {prev.year} год "
            f"(python -m pipeline run --params {params.previous_params}) и запустите этот год снова.",
            year=prev.year, processed_dir=folder,
        )

    def optional(name: str) -> pd.DataFrame | None:
        # codes in this year's canonical width: a year whose codes lost their zeros still matches
        table = read_table(folder, name) if (folder / name).is_file() else None
        return canonical_code_column(table, params.code_width)

    try:
        prev_methodology: Methodology | None = load_methodology(prev.methodology)
    except MethodologyError:
        prev_methodology = None   # compared by the recorded maximum points only
    return PreviousYear(
        AVAILABLE, f"Анализ эффективности принятых мер: рекомендации {prev.year} года из {folder}.",
        year=prev.year, processed_dir=folder, recommendations=optional("recommendations.csv"),
        positions=optional("positions.csv"), targets_school=optional("targets_school.csv"), methodology=prev_methodology,
        roadmap=optional("roadmap.csv"),
    )


def _compare(current: float | None, previous: float | None) -> str:
    if current is None or previous is None:
        return UNCHANGED
    c, p = round(current, 6), round(previous, 6)
    return IMPROVED if c > p else WORSE if c < p else UNCHANGED


def build_followup(
    methodology: Methodology,
    scores: pd.DataFrame,
    positions: pd.DataFrame,
    targets_school: pd.DataFrame,
    previous: PreviousYear | None,
) -> pd.DataFrame:
    """followup.csv: each of last year's recommendations and what became of it this year."""
    if previous is None or previous.state != AVAILABLE or previous.recommendations is None:
        return _empty(FOLLOWUP_COLUMNS)
    prev = previous.recommendations.copy()
    if prev.empty:
        return _empty(FOLLOWUP_COLUMNS)
    prev["school_code"] = _school_codes(prev["school_code"])
    submitted = set(_submitted(scores))
    pos_codes = {p.code: p for p in methodology.positions}
    tgt_codes = {t.code: t for t in methodology.targets if "school" in t.scope}

    def index(df: pd.DataFrame | None, key: str) -> dict:
        if df is None or df.empty:
            return {}
        df = df.copy()
        df["school_code"] = _school_codes(df["school_code"])
        return {(r.school_code, getattr(r, key)): r for r in records(df)}

    cur_pos, cur_tgt = index(positions, "position"), index(targets_school, "target")
    same = comparable_codes(previous.methodology, methodology) if previous.methodology is not None else None
    changed_note = "методика изменилась: шкала или способ расчёта показателя другие, результаты не сравниваются"
    old_pos, old_tgt = index(previous.positions, "position"), index(previous.targets_school, "target")

    rows = []
    for r in records(prev):
        school, code = r.school_code, str(r.indicator_code)
        kind = getattr(r, "kind", None)
        if not isinstance(kind, str):
            kind = "target" if code in tgt_codes else "position"
        row = {"recommendation_id": getattr(r, "recommendation_id", None) or recommendation_id(school, code),
               "school_code": school, "indicator_code": code, "kind": kind,
               "previous_priority": getattr(r, "priority", None)}
        if kind == "position":
            old = old_pos.get((school, code))
            prev_points = num(old.points) if old is not None else num(getattr(r, "points", None))
            row["previous_points"] = 0 if prev_points is None else prev_points
            old_max = num(getattr(old, "max_points", None)) if old is not None else None
            if code not in pos_codes:
                row.update(status=NO_DATA, note="позиция исключена из методики")
            elif (same is not None and code not in same) or (same is None and old_max is not None
                                                               and old_max != pos_codes[code].max_points):
                row.update(status=CHANGED, note=changed_note)
            elif school not in submitted:
                row.update(status=NO_DATA, note="форма в этом году не представлена")
            else:
                mx = pos_codes[code].max_points
                cur = cur_pos.get((school, code))
                cur_points = num(cur.points) if cur is not None else None
                cur_points = 0 if cur_points is None else cur_points
                row.update(current_points=cur_points, max_points=mx)
                row["status"] = FIXED if cur_points >= mx else _compare(cur_points, row["previous_points"])
        else:
            old = old_tgt.get((school, code))
            row["previous_value"] = num(old.value) if old is not None else num(getattr(r, "value", None))
            cur = cur_tgt.get((school, code))
            if code not in tgt_codes:
                row.update(status=NO_DATA, note="показатель исключён из методики")
            elif same is not None and code not in same:
                row.update(status=CHANGED, note=changed_note)
            elif school not in submitted or cur is None or str(cur.status) == "not_submitted":
                row.update(status=NO_DATA, note="форма в этом году не представлена")
            elif str(cur.status) == "not_applicable":
                row.update(status=NO_DATA, note="показатель в этом году к школе не применяется")
            else:
                row.update(current_value=num(cur.value), target_value=num(cur.target_value))
                row["status"] = FIXED if str(cur.status) == "met" else _compare(row["current_value"], row["previous_value"])
        rows.append(row)
    return _frame(rows, FOLLOWUP_COLUMNS, ints=("previous_points", "current_points", "max_points"),
                  floats=("previous_value", "current_value", "target_value"))


def followup_summary(followup: pd.DataFrame, methodology: Methodology, *, shares: bool = True) -> pd.DataFrame:
    """Per indicator and overall («всего», last row): n and the share (%) or count of each status.

    Columns: indicator_code, indicator_name, n, then one column per status in FOLLOWUP_STATUSES order.
    """
    cols = ["indicator_code", "indicator_name", "n", *FOLLOWUP_STATUSES]
    if followup.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    names = {p.code: p.short for p in methodology.positions} | {t.code: t.name for t in methodology.targets}
    out = []
    groups = [(c, followup[followup["indicator_code"] == c]) for c in _indicator_order(methodology, followup["indicator_code"])]
    for code, g in groups + [("всего", followup)]:
        counts = g["status"].value_counts()
        n = len(g)
        row = {"indicator_code": code, "indicator_name": names.get(code, "все рекомендации" if code == "всего" else ""), "n": n}
        for s in FOLLOWUP_STATUSES:
            k = int(counts.get(s, 0))
            row[s] = round(k * 100 / n, 1) if shares else k
        out.append(row)
    return pd.DataFrame(out, columns=cols)
