"""A methodology is data: the school form it asks for, how each answer is scored, which shares,
clusters and targets it has — one YAML file, loaded and validated here.

The file is the one declaration of the form (like an XLSForm): the template writer, the reader,
the clean checks, the report's appendix and the cluster labels are all derived from it. Its
format is described in methodology/README.md.

Hard errors (duplicate codes, a reference to an unknown field, share or criterion, a bad scale)
stop the run with a MethodologyError naming the file and the element. A declared maximum that
differs from the computed one is not an error: it is kept as a warning that the report shows
in its methodology appendix, never silently.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..core.errors import MethodologyError, ParamsError
from ..core.messages import russian
from . import targets as target_kinds

if TYPE_CHECKING:  # pragma: no cover
    from .params import YearParams

_STRICT = ConfigDict(extra="forbid", frozen=True)

# Keys of «Сведения» the form always has (the school's identity, pipeline.form.fields): a
# declared field may not take them.
IDENTITY_KEYS = ("school_code", "school_name", "school_type", "academic_year", "filled_date")
# Columns of profile.csv that are not fields of the form.
PROFILE_KEYS = ("submitted", "file")
DEFAULT_SCHOOL_TYPES = ("СОШ", "Гимназия", "Лицей", "ЦО", "ООШ", "НОШ")
DEFAULT_TYPE_ALIASES = {
    "средняя общеобразовательная школа": "СОШ",
    "основная общеобразовательная школа": "ООШ",
    "начальная общеобразовательная школа": "НОШ",
    "центр образования": "ЦО",
}
FIELD_TYPES = ("text", "integer", "yesno", "date", "choice")


# --------------------------------------------------------------------------- the form


class InfoField(BaseModel):
    """One row of «Сведения» after the school's identity: column A the label, B the value."""

    model_config = _STRICT
    key: str                      # its column in profile.csv
    label: str                    # what column A says
    type: Literal["text", "integer", "yesno", "date", "choice"]
    required: bool = True         # missing: an error (the value is needed) or a warning
    hint: str = ""                # column C of the template; a default per type when empty
    choices: list[str] = Field(default_factory=list)   # type choice: the drop-down list
    personal: bool = False        # personal data: never on a published page
    required_if: str | None = None  # a да/нет field: required only where that field is да


class StaffCount(BaseModel):
    """One row of «Кадры»: a count of people (an integer ≥ 0)."""

    model_config = _STRICT
    code: str
    label: str


class CountCheck(BaseModel):
    """A consistency rule between counts: each of `counts` is at most `at_most`."""

    model_config = _STRICT
    counts: list[str] = Field(min_length=1)
    at_most: str
    rule: str = "staff.part_exceeds_whole"   # the issues.csv rule (pipeline/core/rules.py)
    what: str = ""                            # what it means, for the message («победителей больше, чем участников»)
    whole_text: str = ""                      # or how the message names the whole («общего числа педагогов»)


class FormDeclaration(BaseModel):
    """The school form beyond its identity: «Сведения» fields, «Кадры» counts and their rules."""

    model_config = _STRICT
    school_types: list[str] = Field(default_factory=lambda: list(DEFAULT_SCHOOL_TYPES), min_length=1)
    type_aliases: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TYPE_ALIASES))
    info: list[InfoField] = Field(default_factory=list)
    staff: list[StaffCount] = Field(default_factory=list)
    checks: list[CountCheck] = Field(default_factory=list)
    staff_note: str = ""          # a sentence added to the «Кадры» sheet's instruction
    headcount: str | None = None  # the count of all the school's teachers (default: the first of staff)


class ScoreWords(BaseModel):
    """Words a school may write instead of a score: the top of the scale, a part of it, zero."""

    model_config = _STRICT
    full: list[str] = Field(default_factory=lambda: ["есть", "да", "имеется", "в наличии"])
    partial: list[str] = Field(default_factory=lambda: ["частично"])
    zero: list[str] = Field(default_factory=lambda: ["нет", "отсутствует"])


# --------------------------------------------------------------------------- the method


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


class ClusterGroup(BaseModel):
    """School types compared with each other; `split` divides them by the size field at the
    year's threshold (labels «<label>>N» and «<label>≤N»)."""

    model_config = _STRICT
    label: str
    types: list[str] = Field(min_length=1)
    split: bool = False


class Clusters(BaseModel):
    model_config = _STRICT
    size_field: str | None = None     # an integer field of «Сведения» (the number of pupils)
    groups: list[ClusterGroup] = Field(min_length=1)

    def labels(self, threshold: int) -> list[str]:
        """The clusters' labels in order: a split group gives «<label>>N» then «<label>≤N»."""
        out: list[str] = []
        for g in self.groups:
            out += [f"{g.label}>{threshold}", f"{g.label}≤{threshold}"] if g.split else [g.label]
        return out

    def describe(self, threshold: int) -> str:
        """The rule in words, for the report: «СОШ>500» — СОШ, Гимназия, … with more than N pupils."""
        parts = []
        for g in self.groups:
            types = ", ".join(g.types)
            if g.split:
                parts.append(f"«{g.label}>{threshold}» — {types} с числом обучающихся более {threshold}")
                parts.append(f"«{g.label}≤{threshold}» — те же типы ОО с числом обучающихся {threshold} и менее")
            else:
                parts.append(f"«{g.label}» — {types}")
        return "; ".join(parts)


class VisitRule(BaseModel):
    """Schools that get a methodological visit (besides every school at level низкий): `when`
    is да and `unless` is not да."""

    model_config = _STRICT
    when: str
    unless: str | None = None
    reason: str                # `unless` is нет
    reason_unknown: str = ""   # `unless` is not answered


class Target(BaseModel):
    model_config = _STRICT
    code: str
    name: str
    measure: Any               # the kind's own spec (pipeline/config/targets.py)
    scope: list[Literal["school", "municipal"]] = Field(min_length=1)
    unit: str = "%"
    recommendation: str
    method: str = ""           # how the data is collected (shown with the target in the report)

    @field_validator("measure", mode="before")
    @classmethod
    def _measure(cls, v: Any) -> Any:
        return target_kinds.parse_measure(v)

    @property
    def kind(self) -> target_kinds.TargetKind:
        return target_kinds.kind_of(self.measure)


class Department(BaseModel):
    """The department's own workbook (department.xlsx): the РМО directions its template lists."""

    model_config = _STRICT
    rmo_directions: list[str] = Field(default_factory=list)


class Methodology(BaseModel):
    """A validated methodology. `warnings` holds the non-fatal findings (Russian)."""

    model_config = _STRICT
    name: str
    version: str
    declared_max: int | None = None
    form: FormDeclaration = FormDeclaration()
    score_words: ScoreWords = ScoreWords()
    criteria: list[Criterion] = Field(default_factory=list)
    positions: list[Position] = Field(default_factory=list)
    shares: list[Share] = Field(default_factory=list)
    clusters: Clusters | None = None
    visits: list[VisitRule] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    department: Department = Department()
    # set by load_methodology
    source: Path | None = None
    sha256: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def max_points(self) -> int:
        """The computed maximum: the sum of every position's top score."""
        return sum(p.max_points for p in self.positions)

    def position(self, code: str) -> Position:
        return _by_code(self.positions, code)

    def criterion_name(self, code: str) -> str:
        return _by_code(self.criteria, code).name

    def share(self, code: str) -> Share:
        return _by_code(self.shares, code)

    def target(self, code: str) -> Target:
        return _by_code(self.targets, code)

    def info_field(self, key: str) -> InfoField:
        for f in self.form.info:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def cluster_rule(self) -> Clusters:
        """The clusters; without a declaration every school type forms one cluster «Все ОО»."""
        return self.clusters or Clusters(groups=[ClusterGroup(label="Все ОО", types=list(self.form.school_types))])

    @property
    def staff_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.form.staff)

    @property
    def headcount(self) -> str | None:
        """The «Кадры» count of all the school's teachers: figures of a school with fewer
        than min_group_size of them are not published."""
        return self.form.headcount or (self.form.staff[0].code if self.form.staff else None)

    @property
    def has_checklist(self) -> bool:
        """Whether the form has «Показатели» (positions scored by the school)."""
        return bool(self.positions)

    @property
    def has_total(self) -> bool:
        """Whether schools get a total score, a rank and a level (a checklist or an activity index)."""
        return bool(self.positions) or bool(self.index_shares)

    @property
    def index_shares(self) -> list[str]:
        """Codes of the shares averaged into the activity index, in methodology order."""
        return [s.code for s in self.shares if s.in_activity_index]

    def fields_of_type(self, *types: str) -> tuple[str, ...]:
        """Keys of the declared «Сведения» fields of the given types."""
        return tuple(f.key for f in self.form.info if f.type in types)

    @property
    def personal_fields(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.form.info if f.personal)

    def indicator_order(self) -> dict[str, tuple[int, int, int]]:
        """Sort key of every indicator: positions (criterion order, position order), then targets."""
        crit = {c.code: i for i, c in enumerate(self.criteria)}
        key = {p.code: (0, crit[p.criterion], i) for i, p in enumerate(self.positions)}
        key.update({t.code: (1, 0, i) for i, t in enumerate(self.targets)})
        return key


def _by_code(items: list[Any], code: str) -> Any:
    for item in items:
        if item.code == code:
            return item
    raise KeyError(code)


# --------------------------------------------------------------------------- checks

_KEY = re.compile(r"[a-z][a-z0-9_]*")


def _dupes(codes: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for c in codes:
        if c in seen and c not in out:
            out.append(c)
        seen.add(c)
    return out


def _check_form(m: Methodology, file: str) -> None:
    form = m.form
    keys = [f.key for f in form.info]
    for kind, codes in (("поле «Сведения»", keys), ("показатель «Кадры»", list(m.staff_codes)), ("тип ОО", form.school_types)):
        d = _dupes(codes)
        if d:
            raise MethodologyError(file, f"form.{d[0]}", f"{kind} «{d[0]}» указан дважды", "Ключи и коды должны быть уникальны.")
    yesno = set(m.fields_of_type("yesno"))
    for f in form.info:
        where = f"form.info.{f.key}"
        if not _KEY.fullmatch(f.key) or f.key in IDENTITY_KEYS + PROFILE_KEYS:
            raise MethodologyError(file, where, "ключ поля должен быть латинскими строчными буквами, цифрами и «_» и не совпадать "
                                                f"с полями, которые есть в каждой форме ({', '.join(IDENTITY_KEYS)})")
        if (f.type == "choice") != bool(f.choices):
            raise MethodologyError(file, where, "список choices нужен полю вида choice и только ему")
        if f.required_if is not None and f.required_if not in yesno:
            raise MethodologyError(file, f"{where}.required_if", f"«{f.required_if}» — не поле да/нет листа «Сведения»",
                                   f"Поля да/нет: {', '.join(sorted(yesno)) or 'нет'}.")
    staff = set(m.staff_codes)
    if form.headcount is not None and form.headcount not in staff:
        raise MethodologyError(file, "form.headcount", f"«{form.headcount}» — не показатель листа «Кадры»")
    for c in form.checks:
        for code in [*c.counts, c.at_most]:
            if code not in staff:
                raise MethodologyError(file, f"form.checks.{code}", f"«{code}» — не показатель листа «Кадры»",
                                       f"Показатели: {', '.join(m.staff_codes) or 'нет'}.")
    for alias, kind in form.type_aliases.items():
        if kind not in form.school_types:
            raise MethodologyError(file, f"form.type_aliases.{alias}", f"тип «{kind}» не из списка school_types")


def _check_method(m: Methodology, file: str) -> None:
    for kind, items in (("критерий", m.criteria), ("позиция", m.positions), ("доля", m.shares), ("целевой показатель", m.targets)):
        d = _dupes([i.code for i in items])
        if d:
            raise MethodologyError(file, d[0], f"{kind} с кодом «{d[0]}» указан(а) дважды", "Коды должны быть уникальны.")
    crit = {c.code for c in m.criteria}
    for p in m.positions:
        if p.criterion not in crit:
            raise MethodologyError(file, p.code, f"неизвестный критерий «{p.criterion}»",
                                   f"Добавьте его в criteria или исправьте код. Известные: {', '.join(sorted(crit))}.")
        if sorted(set(p.scale)) != sorted(p.scale) or min(p.scale) != 0 or any(s < 0 for s in p.scale):
            raise MethodologyError(file, p.code, f"шкала {p.scale} недопустима: нужны разные целые баллы, начиная с 0 (например [0, 1] или [0, 1, 2])")
    staff = m.staff_codes
    for s in m.shares:
        for f in (s.numerator, s.denominator):
            if f not in staff:
                raise MethodologyError(file, s.code, f"поле «{f}» не из листа «Кадры» ({', '.join(staff) or 'в методике нет листа «Кадры»'})")
    yesno = set(m.fields_of_type("yesno"))
    for v in m.visits:
        for f in (v.when, v.unless):
            if f is not None and f not in yesno:
                raise MethodologyError(file, f"visits.{f}", f"«{f}» — не поле да/нет листа «Сведения»")
    for t in m.targets:
        kind = target_kinds.kind_of(t.measure)
        if kind.municipal_only and "school" in t.scope:
            raise MethodologyError(file, t.code, f"вид «{kind.name}» — данные управления образования, только scope: [municipal]",
                                   "Уберите school из scope этого показателя.")
        kind.check(t.measure, m, file, t.code)


def _check_clusters(m: Methodology, file: str) -> None:
    cl = m.clusters
    if cl is None:
        return
    integers = m.fields_of_type("integer")
    if cl.size_field is not None and cl.size_field not in integers:
        raise MethodologyError(file, "clusters.size_field", f"«{cl.size_field}» — не числовое поле листа «Сведения»",
                               f"Числовые поля: {', '.join(integers) or 'нет'}.")
    if any(g.split for g in cl.groups) and cl.size_field is None:
        raise MethodologyError(file, "clusters.size_field", "группа с split: true делится по числу обучающихся, а поле не указано")
    grouped = [t for g in cl.groups for t in g.types]
    d = _dupes(grouped)
    if d:
        raise MethodologyError(file, f"clusters.{d[0]}", f"тип ОО «{d[0]}» входит в два кластера")
    for t in grouped:
        if t not in m.form.school_types:
            raise MethodologyError(file, f"clusters.{t}", f"тип ОО «{t}» не из списка form.school_types")
    left = [t for t in m.form.school_types if t not in grouped]
    if left:
        raise MethodologyError(file, "clusters", f"тип ОО «{left[0]}» не входит ни в один кластер",
                               "Добавьте его в одну из групп clusters.groups или уберите из form.school_types.")


def _warnings(m: Methodology) -> list[str]:
    out = []
    if m.declared_max is not None and m.declared_max != m.max_points:
        out.append(
            f"Заявленный в методике максимальный балл ({m.declared_max}) не совпадает с суммой "
            f"максимальных баллов позиций ({m.max_points}); в расчётах используется {m.max_points}."
        )
    used = {p.criterion for p in m.positions}
    for c in m.criteria:
        if c.code not in used:
            out.append(f"Критерий {c.code} «{c.name}» не содержит ни одной позиции; в профиле критериев он не показывается.")
    if m.positions and m.shares and not m.index_shares:
        out.append(
            "Ни одна доля не отмечена in_activity_index: индекс активности не рассчитывается, "
            "итоговый балл равен проценту по чек-листу."
        )
    return out


# --------------------------------------------------------------------------- loading


def _element_key(data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """The key of a finding, each list item named by its code (or key) where it has one:
    positions.3.scale → M2.scale, form.info.2.type → form.info.pupils.type."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        items = data.get(str(loc[0]))
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict) and "code" in items[loc[1]]:
            return ".".join([str(items[loc[1]]["code"])] + [str(x) for x in loc[2:]])
    parts, node = [], data
    for part in loc:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            name = (node.get("code") or node.get("key")) if isinstance(node, dict) else None
            parts.append(str(name or part))
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


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
        raise MethodologyError(file, _element_key(data, tuple(err["loc"])), russian(err)) from None
    _check_form(m, file)
    _check_method(m, file)
    _check_clusters(m, file)
    return m.model_copy(update={"source": path.resolve(), "sha256": hashlib.sha256(raw).hexdigest(),
                                "warnings": tuple(_warnings(m))})


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


# --------------------------------------------------------------------------- two versions


def _indicator_definitions(m: Methodology) -> dict[str, tuple[Any, ...]]:
    """What makes an indicator's result comparable across years: a position's scale and
    evidence rule, a target's measure and unit."""
    out: dict[str, tuple[Any, ...]] = {p.code: ("position", tuple(p.scale), p.evidence_required) for p in m.positions}
    out.update({t.code: ("target", t.measure.model_dump_json(), t.unit) for t in m.targets})
    return out


def comparable_codes(old: Methodology, new: Methodology) -> set[str]:
    """Codes of the indicators defined the same way in both methodologies (same code and scale,
    or same measure): only their results are compared across the two years."""
    a, b = _indicator_definitions(old), _indicator_definitions(new)
    return {c for c in a if c in b and a[c] == b[c]}


def methodology_changes(old: Methodology, new: Methodology) -> list[str]:
    """What changed between two methodologies, in Russian sentences (empty when nothing did)."""
    if old.sha256 and old.sha256 == new.sha256:
        return []
    a, b = _indicator_definitions(old), _indicator_definitions(new)
    out = []
    if (old.name, old.version) != (new.name, new.version):
        out.append(f"Методика сменилась: «{old.name}» (версия {old.version}) → «{new.name}» (версия {new.version}).")
    for what, kind in (("Позиции", "position"), ("Целевые показатели", "target")):
        gone = [c for c in a if a[c][0] == kind and c not in b]
        added = [c for c in b if b[c][0] == kind and c not in a]
        changed = [c for c in a if a[c][0] == kind and c in b and a[c] != b[c]]
        if gone:
            out.append(f"{what}, исключённые из методики: {', '.join(gone)}.")
        if added:
            out.append(f"{what}, добавленные в методику: {', '.join(added)}.")
        if changed:
            how = "изменилась шкала или правило подтверждения" if kind == "position" else "изменился способ расчёта"
            out.append(f"{what}, у которых {how}: {', '.join(changed)} — их результаты с прошлым годом не сравниваются.")
    if [s.model_dump() for s in old.shares] != [s.model_dump() for s in new.shares]:
        out.append("Изменился состав или расчёт долей педагогов: индекс активности и итоговый балл сравниваются с прошлым годом условно.")
    return out
