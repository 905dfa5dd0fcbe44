"""A monitoring year is a parameter set: one YAML file per year, validated before anything runs.

Relative paths in a parameter file are resolved against the folder the file lives in, so a
year can be run from any working directory. Validation uses pydantic (unknown keys are
refused); its findings are turned into one Russian message naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..core.contract import SIGNABLE
from ..core.errors import ParamsError
from ..core.messages import location, russian

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Header(BaseModel):
    """The header of the analytic report, as a municipal order would carry it."""

    model_config = _STRICT
    organization: str
    title: str = "Аналитическая справка по итогам мониторинга эффективности деятельности школьных методических служб"
    order_number: str
    order_date: dt.date
    approved_by: str                    # «Должность И. О. Фамилия»: the position and the name are split from it
    executors: list[str] = Field(min_length=1)

    @field_validator("approved_by")
    @classmethod
    def _signatory(cls, v: str) -> str:
        if split_person(v)[0] == "":
            raise ValueError("ожидается «Должность И. О. Фамилия», например «Начальник управления образования "
                             "Л. В. Семенова»: должность и инициалы с фамилией нужны для подписи документов")
        return v.strip()

    @property
    def approver_position(self) -> str:
        """The signatory's position (the approval block, the order's signature)."""
        return split_person(self.approved_by)[0]

    @property
    def approver_name(self) -> str:
        """The signatory's initials and surname, «Л. В. Семенова»."""
        return split_person(self.approved_by)[1]


# «Л. В. Семенова» or «Семенова Л. В.» at the end of «Начальник управления … Л. В. Семенова»
_INITIALS = r"[А-ЯЁA-Z]\.\s?(?:[А-ЯЁA-Z]\.)?"
_SURNAME = r"[А-ЯЁA-Z][а-яёa-z]+(?:-[А-ЯЁA-Z][а-яёa-z]+)?"
_PERSON = re.compile(rf"^(?P<position>.*?\S)(?<![А-ЯЁA-Z]\.)\s+(?P<name>{_INITIALS}\s?{_SURNAME}|{_SURNAME}\s{_INITIALS})$")


def split_person(text: str) -> tuple[str, str]:
    """«Начальник управления образования Л. В. Семенова» → (position, «Л. В. Семенова»); a text
    without initials and a surname at its end → ("", text)."""
    m = _PERSON.match(" ".join(str(text).split()))
    return (m.group("position"), m.group("name")) if m else ("", " ".join(str(text).split()))


class Levels(BaseModel):
    """Level thresholds on the total score: высокий ≥ high, средний ≥ medium, else низкий."""

    model_config = _STRICT
    high: float = Field(default=75, ge=0, le=100)
    medium: float = Field(default=50, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> "Levels":
        if self.medium >= self.high:
            raise ValueError("порог «medium» должен быть меньше порога «high»")
        return self


class Weights(BaseModel):
    """Total = checklist·checklist_pct + (1 − checklist)·activity_index."""

    model_config = _STRICT
    checklist: float = Field(default=0.5, ge=0, le=1)


class Decisions(BaseModel):
    """How municipal management decisions are derived, who carries them out and when.

    `seminar_months` and `visit_months` are month numbers of the school year that follows the
    June review (months 7–12 of the review's year, 1–6 of the next): seminars and municipal
    measures are given them in order of importance, visits spread evenly over them
    (pipeline/stages/decisions.py `schedule`)."""

    model_config = _STRICT
    share_threshold: float = Field(default=30, ge=0, le=100)
    seminar_responsible: str = "Методист муниципальной методической службы"
    seminar_months: list[int] = Field(default_factory=lambda: [10, 11, 12, 1, 2, 3])
    visit_responsible: str = "Специалист управления образования"
    visit_months: list[int] = Field(default_factory=lambda: [9, 10, 11])
    max_seminars: int = Field(default=8, ge=1)   # seminar topics a year; the rest are deferred to next year

    @field_validator("seminar_months", "visit_months")
    @classmethod
    def _months(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("укажите хотя бы один месяц (номер от 1 до 12), например [9, 10, 11]")
        bad = [m for m in v if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"номер месяца должен быть от 1 до 12, указано: {', '.join(map(str, bad))}")
        return v


class ReportOptions(BaseModel):
    """Presentation rules of the published report."""

    model_config = _STRICT
    trend_threshold: float = Field(default=5, ge=0)
    min_group_size: int = Field(default=5, ge=1)
    # results.xlsx: every sheet protected (cells locked; sorting, filtering and selecting
    # allowed); with a password only that password lifts the protection. It keeps cells from
    # being changed by mistake, not secret: the file is internal anyway.
    results_password: str | None = Field(default=None, min_length=1, max_length=255)
    # documents/report.pdf is laid out in full up to this many registry schools; above, the
    # report runs to hundreds of pages that take minutes to lay out, and the PDF says so instead
    pdf_max_schools: int = Field(default=300, ge=0)
    # the site at scale: from this many registry schools on, every table with a row per school
    # (ranking, heat map data, targets, recommendations, measures, the list of school pages)
    # leaves the analytic page index.html for pages per cluster (clusters/), each holding at
    # most cluster_page_rows schools, so no page grows with the municipality
    cluster_pages_from: int = Field(default=1000, ge=1)
    cluster_page_rows: int = Field(default=500, ge=1)


class Collection(BaseModel):
    """The collection of the year's forms: until when schools are asked to send them."""

    model_config = _STRICT
    deadline: dt.date | None = None


class Documents(BaseModel):
    """What the Word documents of the year need beyond the header (pipeline/report/documents):
    the organisation, the order's number and date, the signatory and the executors are in
    `header`. A date or number not yet known stays empty: the draft then has a blank to fill."""

    model_config = _STRICT
    place: str | None = None                 # место составления: «г. Заречный»
    spravka_number: str | None = None        # регистрационный номер справки: «01-12/145»
    spravka_date: dt.date | None = None      # дата справки
    executor_phones: list[str] = Field(default_factory=list)   # one per header.executors, same order
    report_back_by: dt.date | None = None    # heads of schools act on the recommendations and report back by
    deadlines: dict[Literal["высокий", "средний"], dt.date] = Field(default_factory=dict)  # per priority, in letters
    control_by: str | None = None            # «заместителя начальника … И. П. Гордееву» (винительный падеж); none: «оставляю за собой»
    basis: str | None = None                 # «на основании …» of the order's preamble
    # a list of schools a document for signature shows one by one up to this many rows: above,
    # a table of the справка is replaced by a notice naming where the full list is (results.xlsx,
    # the site) and the order names the visits by reference to the roadmap (its appendix)
    max_rows: int = Field(default=300, ge=1)


class SignedDocument(BaseModel):
    """The registration of a signed document: its number and date as on the signed copy
    (the report names them: «Приказ от 20.06.2026 № 214»)."""

    model_config = _STRICT
    number: str = Field(min_length=1)      # as written on the document, e.g. «№ 214»
    date: dt.date

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("номер документа не должен быть пустым")
        return v.strip()


class YearParams(BaseModel):
    """Everything that makes one monitoring year; nothing about a year lives in code."""

    model_config = _STRICT
    year: int = Field(ge=2000, le=2100)
    academic_year: str
    previous_params: Path | None = None
    raw_dir: Path
    processed_dir: Path
    reports_dir: Path
    methodology: Path
    header: Header
    cluster_threshold: int = Field(default=500, ge=0)
    levels: Levels = Levels()
    weights: Weights = Weights()
    targets: dict[str, float] = Field(default_factory=dict)
    decisions: Decisions = Decisions()
    report: ReportOptions = ReportOptions()
    # digits of a school code (0101 → 4); None: learned from the previous years' profile.csv
    code_width: int | None = Field(default=None, ge=1, le=12)
    collection: Collection = Collection()
    documents: Documents = Documents()
    # signed documents (keys: prikaz, spravka, roadmap — core.contract.SIGNABLE) whose scan is
    # raw_dir/signed/<key>.pdf: {prikaz: {number: "№ 214", date: 2026-06-20}}
    signed: dict[str, SignedDocument] = Field(default_factory=dict)
    # Where this parameter set was loaded from (set by load_params, not by the file).
    source: Path | None = None

    @field_validator("academic_year")
    @classmethod
    def _academic_year(cls, v: str) -> str:
        m = re.fullmatch(r"(\d{4})-(\d{4})", v.strip())
        if not m or int(m.group(2)) != int(m.group(1)) + 1:
            raise ValueError("ожидается учебный год вида «2025-2026»")
        return v.strip()

    @field_validator("signed")
    @classmethod
    def _signed_names(cls, v: dict[str, SignedDocument]) -> dict[str, SignedDocument]:
        unknown = sorted(set(v) - set(SIGNABLE))
        if unknown:
            raise ValueError(f"неизвестный документ «{unknown[0]}»; допустимые: {', '.join(SIGNABLE)}")
        return v

    @model_validator(mode="after")
    def _year_matches(self) -> "YearParams":
        end = int(self.academic_year.split("-")[1])
        if end != self.year:
            raise ValueError(
                f"учебный год {self.academic_year} не заканчивается в году {self.year} "
                "(год мониторинга — год июньского рассмотрения)"
            )
        return self

    @model_validator(mode="after")
    def _documents_fit(self) -> "YearParams":
        d, hd = self.documents, self.header
        if len(d.executor_phones) > len(hd.executors):
            raise ValueError(f"в documents.executor_phones {len(d.executor_phones)} телефонов, а исполнителей в "
                             f"header.executors {len(hd.executors)}: по одному телефону на исполнителя, в том же порядке")
        dates = [("documents.report_back_by", d.report_back_by)] + [(f"documents.deadlines.{k}", v) for k, v in d.deadlines.items()]
        for key, value in dates:
            if value is not None and value <= hd.order_date:
                raise ValueError(f"срок {key} ({value:%d.%m.%Y}) не позже даты приказа header.order_date "
                                 f"({hd.order_date:%d.%m.%Y}): укажите дату после приказа")
        return self

    @property
    def site_dir(self) -> Path:
        """The folder holding every year's report and the site index."""
        return self.reports_dir.parent

    def as_dict(self) -> dict[str, Any]:
        """The parameters as loaded, JSON-friendly, for the manifest and the notebooks."""
        return self.model_dump(mode="json")


def _resolve(base: Path, p: Path | None) -> Path | None:
    if p is None:
        return None
    return p if p.is_absolute() else (base / p).resolve()


def load_params(path: str | Path, *, check_files: bool = True) -> YearParams:
    """Load and validate a year's parameter file; relative paths become absolute."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(str(path), None, "файл не найден", "Укажите существующий файл из папки params/.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (строка {line + 1})" if line is not None else ""
        raise ParamsError(str(path), None, f"файл не читается как YAML{where}") from None
    if not isinstance(data, dict):
        raise ParamsError(str(path), None, "ожидается набор ключей (словарь) верхнего уровня")
    if "source" in data:
        raise ParamsError(str(path), "source", "неизвестный ключ (проверьте написание)")
    try:
        params = YearParams.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = location(first) or None
        more = len(exc.errors()) - 1
        hint = "Исправьте файл параметров и запустите снова."
        if more:
            hint = f"Ещё ошибок в этом файле: {more}. " + hint
        raise ParamsError(str(path), key, russian(first), hint) from None

    base = path.resolve().parent
    resolved = params.model_copy(
        update={
            "raw_dir": _resolve(base, params.raw_dir),
            "processed_dir": _resolve(base, params.processed_dir),
            "reports_dir": _resolve(base, params.reports_dir),
            "methodology": _resolve(base, params.methodology),
            "previous_params": _resolve(base, params.previous_params),
            "source": path.resolve(),
        }
    )
    if check_files:
        if not resolved.raw_dir.is_dir():
            raise ParamsError(str(path), "raw_dir", f"папка «{resolved.raw_dir}» не найдена")
        if not resolved.methodology.is_file():
            raise ParamsError(str(path), "methodology", f"файл «{resolved.methodology}» не найден")
        if resolved.previous_params is not None and not resolved.previous_params.is_file():
            raise ParamsError(str(path), "previous_params", f"файл «{resolved.previous_params}» не найден")
    return resolved


def discover_params(folder: str | Path) -> list[Path]:
    """Every parameter file of a folder, oldest year first (by file name)."""
    return sorted(Path(folder).glob("*.yaml"))
