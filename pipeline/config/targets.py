"""Kinds of target: what a target of a methodology measures and how it is judged, one class per
kind, registered by name.

A methodology's target names its kind and the kind's own fields (`measure: {kind: share,
share: S6}`). The kind says which fields it needs and checks what they refer to (at load), how
a school's value and status are computed (targets_school.csv), how the municipal value is made
from the schools' counts — always a ratio of sums (targets_municipal.csv) — and how each is
shown and explained in Russian. Adding a kind is one class here (see ARCHITECTURE.md); a
methodology file then uses it by name.

Statuses: met / not_met / not_applicable; the score stage adds not_submitted for a school
without a form.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from ..core.errors import MethodologyError
from ..core.messages import location, russian
from ..core.privacy import is_small, shown, small_label
from ..core.russian import fmt_int, fmt_number, fmt_pct, plural

# (a kind is handed the methodology it belongs to — pipeline.config.methodology.Methodology,
# which imports this module — and reads its shares and fields)
Methodology = Any

RANK_DECIMALS = 9  # values are compared with the target at this precision (float noise)
_SPEC = ConfigDict(extra="forbid", frozen=True)


def at_least(value: pd.Series, goal: float) -> pd.Series:
    """value ≥ goal, compared at RANK_DECIMALS (missing → False)."""
    return value.astype("float64").round(RANK_DECIMALS) >= goal


class TargetKind:
    """What every kind provides. `Spec` is the pydantic model of its `measure:` fields."""

    name: ClassVar[str]
    Spec: ClassVar[type[BaseModel]]
    municipal_unit: ClassVar[str] = "%"   # what targets_municipal.csv's value is in
    municipal_only: ClassVar[bool] = False  # measured from the department's data (scope municipal only)

    def check(self, spec: Any, m: Methodology, file: str, code: str) -> None:
        """Refuse a spec that names what the methodology does not have (MethodologyError)."""

    # -- computing
    def school(self, spec: Any, m: Methodology, profile: pd.DataFrame, staff: pd.DataFrame,
               goal: float) -> tuple[pd.Series, pd.Series]:
        """(value, status) per school of profile (staff aligned with it, row by row)."""
        raise NotImplementedError

    def municipal(self, spec: Any, m: Methodology, profile: pd.DataFrame, staff: pd.DataFrame,
                  goal: float) -> tuple[int, int, float]:
        """(numerator, denominator, goal in %) over the schools with a form."""
        raise NotImplementedError

    def school_threshold(self, goal: float) -> float:
        """The per-school threshold a municipal value counts against (only where it differs)."""
        return np.nan

    # -- showing
    def denominator(self, spec: Any, denominators: dict[str, Any]) -> Any:
        """The number of people a school's value is computed from, where that matters
        (the small-group rule), from the school's share denominators."""
        return None

    def school_value_text(self, spec: Any, m: Methodology, value: float, denominators: dict[str, Any],
                          n_small: int) -> str:
        return fmt_pct(value)

    def goal_text(self, goal: float | None) -> str:
        return f"≥ {fmt_pct(goal, 0)}"

    def municipal_small(self, denominator: Any, n_small: int) -> bool:
        """Whether the municipal value is computed from too few people to be published."""
        return False

    def municipal_how(self, numerator: Any, denominator: Any, small: bool, n_small: int) -> str:
        return f"{fmt_int(numerator)} из {fmt_int(denominator)} ОО"

    def reason(self, value: float | None, goal: float | None, unit: str) -> str:
        """Why a school does not meet it, for its recommendation."""
        if value is None:
            return "показатель не достигнут: значение не рассчитано"
        u = " %" if unit.strip() == "%" else f" {unit.strip()}"
        text = f"показатель не достигнут: {fmt_number(value)}{u}"
        if goal is not None:
            text += f" при целевом {fmt_number(goal)}{u}"
        return text


KINDS: dict[str, TargetKind] = {}


def register(cls: type[TargetKind]) -> type[TargetKind]:
    """Class decorator: make a kind known by its name."""
    KINDS[cls.name] = cls()
    return cls


def parse_measure(value: Any) -> BaseModel:
    """A target's `measure:` mapping as its kind's spec (ValueError in Russian otherwise)."""
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, dict):
        raise ValueError("ожидается набор ключей measure (kind и поля этого вида)")
    kind = value.get("kind")
    if kind not in KINDS:
        raise ValueError(f"неизвестный вид показателя measure.kind «{kind}»; известны: {', '.join(KINDS)}")
    try:
        return KINDS[kind].Spec.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"measure.{location(err)}: {russian(err)} (вид «{kind}»)") from None


def kind_of(spec: Any) -> TargetKind:
    return KINDS[spec.kind]


def _need(ok: bool, file: str, code: str, problem: str, hint: str = "") -> None:
    if not ok:
        raise MethodologyError(file, code, problem, hint)


# --------------------------------------------------------------------------- share


class ShareSpec(BaseModel):
    model_config = _SPEC
    kind: Literal["share"]
    share: str


@register
class ShareKind(TargetKind):
    """A share of the methodology (S6 …): the school's share ≥ the year's value; municipal
    Σ numerator × 100 / Σ denominator over the schools that reported both counts.
    Not applicable where the denominator is 0 (S7 with no young teachers); not met where a
    count is missing (nothing shows it was met)."""

    name = "share"
    Spec = ShareSpec

    def check(self, spec, m, file, code):
        codes = [s.code for s in m.shares]
        _need(spec.share in codes, file, code, f"доля «{spec.share}» не описана в shares", f"Доли: {', '.join(codes) or 'нет'}.")

    def _counts(self, spec, m, staff):
        sh = m.share(spec.share)
        return staff[sh.numerator].astype("float64"), staff[sh.denominator].astype("float64")

    def school(self, spec, m, profile, staff, goal):
        num, den = self._counts(spec, m, staff)
        ok = num.notna() & (den > 0)
        value = (num * 100).where(ok) / den.where(ok)
        status = pd.Series("not_met", index=profile.index, dtype="object")
        status[at_least(value, goal)] = "met"
        status[den == 0] = "not_applicable"
        return value, status

    def municipal(self, spec, m, profile, staff, goal):
        num, den = self._counts(spec, m, staff)
        both = num.notna() & den.notna()
        return int(num[both].sum()), int(den[both].sum()), goal

    def denominator(self, spec, denominators):
        return denominators.get(spec.share)

    def school_value_text(self, spec, m, value, denominators, n_small):
        return shown(fmt_pct(value), denominators.get(spec.share), n_small)

    def municipal_small(self, denominator, n_small):
        return is_small(denominator, n_small)

    def municipal_how(self, numerator, denominator, small, n_small):
        return small_label(n_small) if small else f"{fmt_int(numerator)} из {fmt_int(denominator)} педагогов"


# --------------------------------------------------------------------------- flag


class FlagSpec(BaseModel):
    model_config = _SPEC
    kind: Literal["flag"]
    field: str
    among: str | None = None


@register
class FlagKind(TargetKind):
    """A да/нет field of «Сведения»: met where да (value 100, нет 0); with `among`, only the
    schools with да in that field are concerned (the others: not applicable). Municipal:
    schools with да / schools concerned × 100; an unanswered flag counts as not да."""

    name = "flag"
    Spec = FlagSpec

    def check(self, spec, m, file, code):
        yesno = m.fields_of_type("yesno")
        for f in (spec.field, spec.among):
            _need(f is None or f in yesno, file, code, f"поле да/нет «{f}» неизвестно; допустимы: {', '.join(yesno) or 'нет'}")

    def school(self, spec, m, profile, staff, goal):
        flag = profile[spec.field]
        value = flag.astype("Float64").mul(100).astype("float64")
        status = pd.Series("not_met", index=profile.index, dtype="object")
        status[flag.fillna(False).astype(bool)] = "met"
        if spec.among:
            status[~profile[spec.among].fillna(False).astype(bool)] = "not_applicable"
        return value, status

    def municipal(self, spec, m, profile, staff, goal):
        concerned = profile[spec.among].fillna(False).astype(bool) if spec.among else pd.Series(True, index=profile.index)
        yes = profile[spec.field].fillna(False).astype(bool)
        return int((concerned & yes).sum()), int(concerned.sum()), goal

    def school_value_text(self, spec, m, value, denominators, n_small):
        return "да" if value >= 50 else "нет"

    def goal_text(self, goal):
        return "да"

    def reason(self, value, goal, unit):
        return "показатель не достигнут: в форме не указано «да»"


# --------------------------------------------------------------------------- count


class CountSpec(BaseModel):
    model_config = _SPEC
    kind: Literal["count"]
    field: str


@register
class CountKind(TargetKind):
    """A count of «Кадры» (P9 …): the school's count ≥ the year's value; municipal: schools
    meeting it / schools with a form × 100, compared with 100 (the per-school value is kept as
    school_threshold)."""

    name = "count"
    Spec = CountSpec

    def check(self, spec, m, file, code):
        _need(spec.field in m.staff_codes, file, code,
              f"поле «{spec.field}» не из листа «Кадры» ({', '.join(m.staff_codes) or 'в методике нет листа «Кадры»'})")

    def school(self, spec, m, profile, staff, goal):
        value = staff[spec.field].astype("float64")
        status = pd.Series("not_met", index=profile.index, dtype="object")
        status[at_least(value, goal)] = "met"
        return value, status

    def municipal(self, spec, m, profile, staff, goal):
        return int(at_least(staff[spec.field].astype("float64"), goal).sum()), len(profile), 100.0

    def school_threshold(self, goal):
        return goal

    def school_value_text(self, spec, m, value, denominators, n_small):
        return shown(fmt_int(value), value, n_small)  # a count of people is itself a group

    def goal_text(self, goal):
        return f"≥ {fmt_int(goal)} чел."


# --------------------------------------------------------------------------- the department's data

NO_DEPARTMENT = "нет данных: данные управления образования (department.xlsx) не представлены"


class Department:
    """The department's tables of a year (department_rmo / _network / _visits.csv);
    `present` False when the year has no department.xlsx."""

    def __init__(self, rmo: pd.DataFrame, network: pd.DataFrame, visits: pd.DataFrame, present: bool) -> None:
        self.rmo, self.network, self.visits, self.present = rmo, network, visits, present


class DepartmentKind(TargetKind):
    """A kind measured from the department's workbook: municipal only; `municipal` gets the
    department's tables as `department` (score passes them) and is not computed without them."""

    municipal_only = True

    def school(self, spec, m, profile, staff, goal):
        raise NotImplementedError("municipal only")

    def municipal(self, spec, m, profile, staff, goal, department: Department | None = None):
        raise NotImplementedError

    def school_threshold(self, goal):
        return goal

    def goal_text(self, goal):
        return f"≥ {fmt_int(goal)}"


class RmoSpec(BaseModel):
    model_config = _SPEC
    kind: Literal["rmo_meetings"]


@register
class RmoMeetingsKind(DepartmentKind):
    """РМО (sheet «РМО»): directions that held at least the year's number of meetings /
    directions listed × 100, compared with 100 (the number of meetings is school_threshold)."""

    name = "rmo_meetings"
    Spec = RmoSpec

    def municipal(self, spec, m, profile, staff, goal, department=None):
        meetings = pd.to_numeric(department.rmo["meetings"], errors="coerce")
        return int(at_least(meetings, goal).sum()), len(meetings), 100.0

    def municipal_how(self, numerator, denominator, small, n_small):
        return f"{fmt_int(numerator)} из {fmt_int(denominator)} направлений РМО"

    def goal_text(self, goal):
        n = int(goal)
        return f"≥ {fmt_int(goal)} {plural(n, 'заседания', 'заседаний', 'заседаний')} по каждому направлению"


class NetworkSpec(BaseModel):
    model_config = _SPEC
    kind: Literal["network"]
    form: Literal["tutor_community", "internship_site"]


@register
class NetworkKind(DepartmentKind):
    """Network forms (sheet «Сетевые формы») of one `form`: working ones / the year's number
    × 100, compared with 100 — met when at least the year's number work (kept as
    school_threshold)."""

    name = "network"
    Spec = NetworkSpec
    _WORDS = {"tutor_community": "тьюторских сообществ", "internship_site": "стажировочных площадок"}

    def municipal(self, spec, m, profile, staff, goal, department=None):
        net = department.network
        working = (net["form"].astype("string") == spec.form) & net["working"].astype("boolean").fillna(False)
        return int(working.sum()), int(round(goal)), 100.0

    def municipal_how(self, numerator, denominator, small, n_small):
        return f"работает {fmt_int(numerator)} из {fmt_int(denominator)} запланированных"

    def goal_text(self, goal):
        return f"≥ {fmt_int(goal)} работающих"


class VisitedSpec(BaseModel):
    model_config = _SPEC
    kind: Literal["visited"]
    among: str


@register
class VisitedKind(DepartmentKind):
    """ШНОР support (sheet «Выезды»): schools with да in `among` (a да/нет field) that had a
    visit / those schools × 100, compared with the year's value."""

    name = "visited"
    Spec = VisitedSpec

    def check(self, spec, m, file, code):
        yesno = m.fields_of_type("yesno")
        _need(spec.among in yesno, file, code, f"поле да/нет «{spec.among}» неизвестно; допустимы: {', '.join(yesno) or 'нет'}")

    def municipal(self, spec, m, profile, staff, goal, department=None):
        concerned = profile[spec.among].fillna(False).astype(bool)
        visited = profile["school_code"].astype("string").isin(set(department.visits["school_code"].astype("string")))
        return int((concerned & visited).sum()), int(concerned.sum()), goal

    def school_threshold(self, goal):
        return np.nan

    def goal_text(self, goal):
        return f"≥ {fmt_pct(goal, 0)}"
