"""A methodology is data: positions, criteria, shares and targets, loaded from YAML and validated.

Hard errors (duplicate codes, an unknown criterion, a bad scale) stop the run. A declared
maximum that differs from the computed one is not an error: it is kept as a warning that the
report shows in its methodology appendix, never silently.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.errors import MethodologyError, ParamsError

if TYPE_CHECKING:  # pragma: no cover
    from .params import YearParams

_STRICT = ConfigDict(extra="forbid", frozen=True)

# Staff fields of the form's «Кадры» sheet that shares and count targets may refer to.
STAFF_CODES = tuple(f"P{i}" for i in range(10))
# Profile (да/нет) fields of the «Сведения» sheet that flag targets may refer to.
FLAG_FIELDS = ("innovation_site", "low_results", "low_results_support", "staffing_monitoring")


class Criterion(BaseModel):
    model_config = _STRICT
    code: str
    name: str


class Position(BaseModel):
    """One position of the self-assessment checklist."""

    model_config = _STRICT
    code: str
    criterion: str
    short: str
    text: str
    scale: list[int] = Field(min_length=2)
    evidence_required: bool = True
    recommendation: str

    @property
    def max_points(self) -> int:
        return max(self.scale)


class Share(BaseModel):
    model_config = _STRICT
    code: str
    name: str
    numerator: str
    denominator: str
    in_activity_index: bool = False


class Measure(BaseModel):
    model_config = _STRICT
    kind: Literal["share", "flag", "count"]
    share: str | None = None
    field: str | None = None
    among: str | None = None


class Target(BaseModel):
    model_config = _STRICT
    code: str
    name: str
    measure: Measure
    scope: list[Literal["school", "municipal"]] = Field(min_length=1)
    unit: str = "%"
    recommendation: str


class Methodology(BaseModel):
    """A validated methodology. `warnings` holds the non-fatal findings (Russian)."""

    model_config = _STRICT
    name: str
    version: str
    declared_max: int | None = None
    criteria: list[Criterion] = Field(min_length=1)
    positions: list[Position] = Field(min_length=1)
    shares: list[Share] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    # set by load_methodology
    source: Path | None = None
    sha256: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def max_points(self) -> int:
        """The computed maximum: the sum of every position's top score."""
        return sum(p.max_points for p in self.positions)

    def position(self, code: str) -> Position:
        for p in self.positions:
            if p.code == code:
                return p
        raise KeyError(code)

    def criterion_name(self, code: str) -> str:
        for c in self.criteria:
            if c.code == code:
                return c.name
        raise KeyError(code)

    def share(self, code: str) -> Share:
        for s in self.shares:
            if s.code == code:
                return s
        raise KeyError(code)

    def target(self, code: str) -> Target:
        for t in self.targets:
            if t.code == code:
                return t
        raise KeyError(code)

    @property
    def index_shares(self) -> list[str]:
        """Codes of the shares averaged into the activity index, in methodology order."""
        return [s.code for s in self.shares if s.in_activity_index]


def _check(m: Methodology, file: str) -> list[str]:
    """Cross-field checks; raise for hard errors, return warnings."""

    def dupes(codes: list[str]) -> list[str]:
        seen, out = set(), []
        for c in codes:
            if c in seen and c not in out:
                out.append(c)
            seen.add(c)
        return out

    for kind, items in (("критерий", m.criteria), ("позиция", m.positions), ("доля", m.shares), ("целевой показатель", m.targets)):
        d = dupes([i.code for i in items])
        if d:
            raise MethodologyError(file, d[0], f"{kind} с кодом «{d[0]}» указан(а) дважды", "Коды должны быть уникальны.")
    crit = {c.code for c in m.criteria}
    for p in m.positions:
        if p.criterion not in crit:
            raise MethodologyError(file, p.code, f"неизвестный критерий «{p.criterion}»", f"Добавьте его в criteria или исправьте код. Известные: {', '.join(sorted(crit))}.")
        if sorted(set(p.scale)) != sorted(p.scale) or min(p.scale) != 0 or any(s < 0 for s in p.scale):
            raise MethodologyError(file, p.code, f"шкала {p.scale} недопустима: нужны разные целые баллы, начиная с 0 (например [0, 1] или [0, 1, 2])")
    for s in m.shares:
        for f in (s.numerator, s.denominator):
            if f not in STAFF_CODES:
                raise MethodologyError(file, s.code, f"поле «{f}» не из листа «Кадры» ({', '.join(STAFF_CODES)})")
    share_codes = {s.code for s in m.shares}
    for t in m.targets:
        ms = t.measure
        # each kind names exactly the fields it uses: share → share; flag → field (+ among); count → field
        needs = {"share": {"share"}, "flag": {"field"}, "count": {"field"}}[ms.kind]
        allowed = needs | ({"among"} if ms.kind == "flag" else set())
        given = {k for k in ("share", "field", "among") if getattr(ms, k)}
        if needs - given:
            raise MethodologyError(file, t.code, f"для measure.kind «{ms.kind}» нужно поле measure.{sorted(needs - given)[0]}")
        if given - allowed:
            raise MethodologyError(file, t.code, f"поле measure.{sorted(given - allowed)[0]} не используется при measure.kind «{ms.kind}»", "Удалите его.")
        if ms.kind == "share" and ms.share not in share_codes:
            raise MethodologyError(file, t.code, f"доля «{ms.share}» не описана в shares")
        if ms.kind == "flag":
            for f in (ms.field, ms.among):
                if f is not None and f not in FLAG_FIELDS:
                    raise MethodologyError(file, t.code, f"поле да/нет «{f}» неизвестно; допустимы: {', '.join(FLAG_FIELDS)}")
        if ms.kind == "count" and ms.field not in STAFF_CODES:
            raise MethodologyError(file, t.code, f"поле «{ms.field}» не из листа «Кадры» ({', '.join(STAFF_CODES)})")
    warnings = []
    if m.declared_max is not None and m.declared_max != m.max_points:
        warnings.append(
            f"Заявленный в методике максимальный балл ({m.declared_max}) не совпадает с суммой "
            f"максимальных баллов позиций ({m.max_points}); в расчётах используется {m.max_points}."
        )
    used = {p.criterion for p in m.positions}
    for c in m.criteria:
        if c.code not in used:
            warnings.append(f"Критерий {c.code} «{c.name}» не содержит ни одной позиции; в профиле критериев он не показывается.")
    if not m.index_shares:
        warnings.append(
            "Ни одна доля не отмечена in_activity_index: индекс активности не рассчитывается, "
            "итоговый балл равен проценту по чек-листу."
        )
    return warnings


_MESSAGES = {
    "missing": "обязательное поле отсутствует",
    "extra_forbidden": "неизвестное поле",
    "int_type": "ожидается целое число",
    "int_parsing": "ожидается целое число",
    "int_from_float": "ожидается целое число",
    "string_type": "ожидается текст",
    "bool_type": "ожидается true или false",
    "bool_parsing": "ожидается true или false",
    "list_type": "ожидается список",
    "dict_type": "ожидается набор ключей (словарь)",
    "model_type": "ожидается набор ключей (словарь)",
}


def _russian(err: dict) -> str:
    """One pydantic finding as a Russian phrase."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "too_short":
        return f"нужно не меньше {ctx.get('min_length')} элементов"
    if kind == "literal_error":
        return f"допустимые значения: {str(ctx.get('expected', '')).replace(' or ', ', ')}"
    return str(err.get("msg", "недопустимое значение"))


def load_methodology(path: str | Path) -> Methodology:
    """Load and validate a methodology file."""
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise MethodologyError(file, None, "файл не найден", "Проверьте ключ methodology в файле параметров.")
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise MethodologyError(file, None, "файл не читается как YAML") from None
    if not isinstance(data, dict):
        raise MethodologyError(file, None, "ожидается набор ключей (словарь) верхнего уровня")
    for reserved in ("source", "sha256", "warnings"):
        data.pop(reserved, None)
    try:
        m = Methodology.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        key = ".".join(str(x) for x in loc)
        # name the element by its code where possible: positions.3.scale -> M2.scale
        if len(loc) >= 2 and isinstance(loc[1], int):
            items = data.get(str(loc[0])) or []
            if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict) and "code" in items[loc[1]]:
                key = ".".join([str(items[loc[1]]["code"])] + [str(x) for x in loc[2:]])
        raise MethodologyError(file, key, _russian(err)) from None
    warnings = _check(m, file)
    return m.model_copy(update={"source": path.resolve(), "sha256": hashlib.sha256(raw).hexdigest(), "warnings": tuple(warnings)})


def check_targets(methodology: Methodology, params: YearParams) -> None:
    """The year's target values (params.targets) must match the methodology's targets one to one.

    Raises ParamsError naming the key: a value for a target the methodology does not describe,
    or a target of the methodology without a value for the year.
    """
    file = str(params.source or "параметры года")
    known = [t.code for t in methodology.targets]
    for key in params.targets:
        if key not in known:
            raise ParamsError(
                file, f"targets.{key}",
                f"целевой показатель «{key}» не описан в методике «{methodology.source or methodology.name}»",
                f"Удалите его или исправьте код. Показатели методики: {', '.join(known) or 'нет'}.",
            )
    for code in known:
        if code not in params.targets:
            raise ParamsError(
                file, f"targets.{code}",
                f"не задано значение целевого показателя «{code}» ({methodology.target(code).name})",
                "Добавьте значение года в раздел targets файла параметров.",
            )
