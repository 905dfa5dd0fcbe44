"""The embedded sample: a fictional municipality's school forms for several years.

Deterministic: every random choice comes from `random.Random` seeded with the seed, the year
and the school, so the same arguments give byte-identical files (workbook dates and zip entry
times are fixed to a date derived from the year).

Schools differ (a latent quality per school) and change across years (a trend per school).
Each year also carries the defects real years have, on different schools each year; the list
of what was injected, with the file, sheet and cell the pipeline must report, is returned by
`planned_defects` so that tests can check the clean stage finds every one.

A year whose previous year has parameters (params/<year − 1>.yaml) also carries the
department's record of the previous year's roadmap (measures.xlsx, some measures done, some
not, some rows left empty, one «Выполнено» misspelt): the roadmap is computed from the
previous year's sample with the pipeline's own stage functions, so its ids are the pipeline's.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from .core.contract import SIGNED_DIR
from .core.errors import RunError
from .config.methodology import Methodology, load_methodology
from .io.storage import write_bytes_atomic
from .form.fields import NO, SHEET_INFO, SHEET_STAFF, YES, layout
from .form.template import build_workbook, default_orders, workbook_bytes

DEFAULT_SEED = 20260615
DEFAULT_METHODOLOGY = Path(__file__).resolve().parents[1] / "methodology" / "default.yaml"
PARAMS_DIR = Path(__file__).resolve().parents[1] / "params"   # the sample's years (for last year's roadmap)
MIN_SCHOOLS = 14  # enough schools for every defect to land on a different one

# Share of each school type in the registry (36 schools: 12 СОШ, 3 Гимназия, 3 Лицей, 3 ЦО,
# 10 ООШ, 5 НОШ).
TYPE_MIX = (("СОШ", 12), ("Гимназия", 3), ("Лицей", 3), ("ЦО", 3), ("ООШ", 10), ("НОШ", 5))

VILLAGES = (
    ("Ивановка", "ivanovka"), ("Берёзовка", "berezovka"), ("Сосновка", "sosnovka"), ("Михайловка", "mikhaylovka"),
    ("Красный Яр", "krasny-yar"), ("Покровское", "pokrovskoe"), ("Никольское", "nikolskoe"), ("Александровка", "aleksandrovka"),
    ("Луговое", "lugovoe"), ("Заречье", "zarechye"), ("Васильевка", "vasilyevka"), ("Ольховка", "olkhovka"),
    ("Троицкое", "troitskoe"), ("Знаменка", "znamenka"), ("Каменка", "kamenka"), ("Дубровка", "dubrovka"),
    ("Рождествено", "rozhdestveno"), ("Ключи", "klyuchi"), ("Малиновка", "malinovka"), ("Полевое", "polevoe"),
)
SURNAMES = ("Иванова", "Петрова", "Смирнова", "Кузнецова", "Соколова", "Попова", "Лебедева", "Козлова", "Новикова",
            "Морозова", "Волкова", "Алексеева", "Фёдорова", "Никитина", "Орлова", "Захарова", "Белова", "Тарасова")
NAMES = ("Марина", "Ольга", "Елена", "Татьяна", "Наталья", "Ирина", "Светлана", "Анна", "Юлия", "Галина", "Людмила")
PATRONYMICS = ("Петровна", "Ивановна", "Сергеевна", "Александровна", "Викторовна", "Николаевна", "Владимировна", "Юрьевна")
POSTS = ("заместитель директора по УВР", "заместитель директора по НМР", "руководитель методического совета", "методист")

# Supporting documents per position: (kind, title, slug of the link).
POSITION_DOCS: dict[str, tuple[str, str, str]] = {
    "M1": ("Приказ", "Об утверждении плана методической работы", "plan-metod-raboty"),
    "M1.1": ("План", "методической работы (раздел «Цели и задачи»)", "celi-metod-raboty"),
    "M1.2": ("План", "методической работы (приложение «Показатели достижения целей»)", "pokazateli-celey"),
    "M2": ("Приказ", "Об организации методического сопровождения педагогов", "metod-soprovozhdenie"),
    "M2.1": ("Положение", "О системе наставничества педагогических работников", "nastavnichestvo"),
    "M2.2": ("Приказ", "Об утверждении плана-графика аттестации педагогических работников", "attestaciya"),
    "M2.4": ("Положение", "О методическом совете и школьных методических объединениях", "metodsovet-shmo"),
    "M2.5": ("Приказ", "Об участии педагогов в работе районных методических объединений", "rmo"),
    "M3": ("Справка", "Мониторинг качества методической работы", "monitoring-metod-raboty"),
    "M4": ("План", "методической работы (раздел «Методы сбора информации»)", "metody-sbora"),
    "M5": ("Приказ", "Об итогах мониторинга качества методической работы", "itogi-monitoringa"),
    "M6": ("Справка", "Адресные рекомендации по результатам мониторинга", "adresnye-rekomendacii"),
    "M7": ("Справка", "Анализ эффективности принятых управленческих решений", "effektivnost-resheniy"),
    "M7.1": ("Приказ", "Об утверждении дорожной карты совершенствования методической работы", "dorozhnaya-karta"),
    "M7.2": ("Приказ", "О работе школы молодого педагога", "shkola-molodogo-pedagoga"),
    "M7.3": ("План", "методической помощи школьным методическим объединениям", "pomoshch-mo"),
    "M7.4": ("Приказ", "О проведении методических семинаров и взаимопосещения уроков", "seminary"),
    "M7.5": ("Справка", "О распространении лучших педагогических практик", "luchshie-praktiki"),
    "M8": ("Справка", "О достижении показателей методической работы", "dostizhenie-pokazateley"),
    "M9": ("Приказ", "О размещении на сайте ОО материалов о методической работе", "sayt-metod-rabota"),
}

BAD_LINKS = ("см. папку на диске «Методработа»", "ftp://192.168.1.10/metod/plan.docx", "javascript:alert(1)")
SCORE_AS_WORD = {2: "есть", 1: "частично", 0: "нет"}


@dataclass(frozen=True)
class School:
    code: str
    name: str
    type: str
    host: str             # the school site's host name (without .example.ru)
    pupils: int           # in the first year
    quality: float        # latent quality of the methodological service, 0…1
    trend: float          # change of quality per year
    innovation: bool
    low_results: bool
    no_young: bool        # no young teachers (P7 = 0)


@dataclass
class YearBuild:
    """One year of the sample, in memory: files (name → bytes) and what was injected."""

    year: int
    registry: list[School]
    files: dict[str, bytes] = field(default_factory=dict)
    expected_files: list[dict[str, str]] = field(default_factory=list)
    expected_issues: list[dict[str, str]] = field(default_factory=list)
    expected_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defects: list[dict[str, str]] = field(default_factory=list)
    # measures.xlsx: each measure id of last year's roadmap → the status measures.csv must show
    expected_measures: dict[str, str] = field(default_factory=dict)


def academic_year(year: int) -> str:
    return f"{year - 1}-{year}"


def make_schools(n_schools: int, seed: int) -> list[School]:
    """The municipality's schools (the same every year), sorted by code."""
    rng = random.Random(f"{seed}:schools")
    total = sum(n for _, n in TYPE_MIX)
    counts = [(t, max(1, round(n * n_schools / total))) for t, n in TYPE_MIX]
    while sum(n for _, n in counts) > n_schools:
        i = max(range(len(counts)), key=lambda k: counts[k][1])
        counts[i] = (counts[i][0], counts[i][1] - 1)
    while sum(n for _, n in counts) < n_schools:
        counts[0] = (counts[0][0], counts[0][1] + 1)
    town_no, village_no = 0, 0
    villages = list(VILLAGES)
    rng.shuffle(villages)
    schools = []
    numbers = {"СОШ": 0, "Гимназия": 0, "Лицей": 0, "ЦО": 0}
    for kind, n in counts:
        for i in range(n):
            quality = min(0.95, max(0.08, rng.betavariate(2.4, 1.9)))
            trend = rng.choice((-1, 1)) * rng.uniform(0.0, 0.09)
            if kind in numbers:
                numbers[kind] += rng.choice((1, 1, 1, 2)) if kind == "СОШ" else 1  # numbering has gaps
                number = numbers[kind]
                town_no += 1
                code = f"01{town_no:02d}"
                legal = rng.choice(("МБОУ", "МБОУ", "МАОУ"))
                name = f"{legal} {kind} № {number}"
                host = {"СОШ": "school", "Гимназия": "gimnaziya", "Лицей": "licey", "ЦО": "co"}[kind] + str(number)
                big = i % 2 == 0
                pupils = rng.randint(520, 1350) if big else rng.randint(140, 490)
                no_young = False
            else:
                village, slug = villages[village_no % len(villages)]
                village_no += 1
                code = f"02{village_no:02d}"
                legal = rng.choice(("МБОУ", "МКОУ"))
                place = "с." if village_no % 3 else "д."
                name = f"{legal} {kind} {place} {village}"
                host = f"{'oosh' if kind == 'ООШ' else 'nosh'}-{slug}"
                pupils = rng.randint(45, 240) if kind == "ООШ" else rng.randint(12, 70)
                no_young = kind == "НОШ" or rng.random() < 0.25
            schools.append(School(code, name, kind, host, pupils, quality, trend,
                                  innovation=rng.random() < 0.3 * (0.5 + quality),
                                  low_results=False, no_young=no_young))
    # the weakest schools are ШНОР (schools with low educational results)
    weakest = sorted(schools, key=lambda s: s.quality)[: max(2, n_schools // 8)]
    flagged = {s.code for s in weakest}
    schools = [School(**{**s.__dict__, "low_results": s.code in flagged}) for s in schools]
    return sorted(schools, key=lambda s: s.code)


def _binom(rng: random.Random, n: int, p: float) -> int:
    p = min(1.0, max(0.0, p))
    return sum(1 for _ in range(n) if rng.random() < p)


def _document(rng: random.Random, code: str, year: int) -> str:
    kind, title, _ = POSITION_DOCS.get(code, ("Приказ", "Об организации методической работы", "metod-rabota"))
    start = dt.date(year - 1, 8, 25) + dt.timedelta(days=rng.randint(0, 160))
    number = rng.randint(12, 240)
    date = start.strftime("%d.%m.%Y")
    if kind == "Приказ":
        return f"Приказ № {number} от {date} «{title}»"
    if kind == "Положение":
        return f"Положение «{title}», утверждено приказом № {number} от {date}"
    if kind == "План":
        return f"План {title} на {academic_year(year)} учебный год, утверждён приказом № {number} от {date}"
    return f"Аналитическая справка «{title}» от {date}"


def _link(school: School, code: str) -> str:
    slug = POSITION_DOCS.get(code, ("", "", "metod-rabota"))[2]
    return f"https://{school.host}.example.ru/metod/{slug}.pdf"


def form_values(school: School, year: int, seed: int, methodology: Methodology) -> dict[str, Any]:
    """A clean, consistent filled form of one school for one year (field → value)."""
    rng = random.Random(f"{seed}:{year}:{school.code}:form")
    q = min(0.97, max(0.05, school.quality + school.trend * (year - 2024)))
    pupils = max(5, round(school.pupils * (1 + rng.uniform(-0.04, 0.04)) * (1 + 0.01 * (year - 2024))))
    if school.type in ("ООШ",):
        p0 = max(7, round(pupils / rng.uniform(7, 10)))
    elif school.type == "НОШ":
        p0 = max(3, round(pupils / rng.uniform(10, 14)) + 2)
    else:
        p0 = round(pupils / rng.uniform(11, 15)) + 4
    p2 = _binom(rng, p0, 0.05 + 0.3 * q)
    p7 = 0 if school.no_young else max(0, _binom(rng, p0, 0.13))
    staff = {
        "P0": p0,
        "P1": _binom(rng, p0, 0.05 + 0.25 * q),
        "P2": p2,
        "P3": _binom(rng, p2, 0.2 + 0.4 * q),
        "P4": _binom(rng, p0, 0.02 + 0.2 * q),
        "P5": _binom(rng, p0, 0.15 + 0.5 * q),
        "P6": _binom(rng, p0, 0.3 + 0.7 * q + 0.1 * (year - 2024)),
        "P7": p7,
        "P8": _binom(rng, p7, 0.45 + 0.6 * q),
        "P9": _binom(rng, p0, 0.02 + 0.15 * q),
    }
    low = school.low_results and not (year >= 2026 and q > 0.35)
    values: dict[str, Any] = {
        "info.school_code": school.code,
        "info.school_name": school.name,
        "info.school_type": school.type,
        "info.academic_year": academic_year(year),
        "info.pupils": pupils,
        "info.innovation_site": YES if (school.innovation or (year >= 2026 and q > 0.8)) else NO,
        "info.low_results": YES if low else NO,
        "info.low_results_support": YES if low and rng.random() < 0.6 else NO,
        "info.staffing_monitoring": YES if rng.random() < 0.55 + 0.45 * q else NO,
        "info.responsible": f"{rng.choice(SURNAMES)} {rng.choice(NAMES)} {rng.choice(PATRONYMICS)}, {rng.choice(POSTS)}",
        "info.filled_date": dt.date(year, 3, 1) + dt.timedelta(days=rng.randint(0, 80)),
    }
    values.update({f"staff.{k}": v for k, v in staff.items()})
    drng = random.Random(f"{seed}:difficulty")
    difficulty = {p.code: drng.uniform(-0.15, 0.15) for p in methodology.positions}
    for p in methodology.positions:
        z = q + difficulty[p.code] + rng.gauss(0, 0.18)
        top = max(p.scale)
        if top >= 2:
            score = 2 if z > 0.62 else 1 if z > 0.32 else 0
        else:
            score = 1 if z > 0.45 else 0
        values[f"checklist.{p.code}.score"] = score
        if score > 0:
            values[f"checklist.{p.code}.document"] = _document(rng, p.code, year)
            if rng.random() < 0.85:
                values[f"checklist.{p.code}.link"] = _link(school, p.code)
    return values


def _file_name(school: School, year: int) -> str:
    pattern = int(school.code[-2:]) % 3
    if pattern == 0:
        return f"{school.code}_самооценка_{year}.xlsx"
    if pattern == 1:
        return f"{school.code} {school.type} мониторинг метод. службы.xlsx"
    return f"Форма_{school.code}.xlsx"


def _stamp(year: int) -> dt.datetime:
    return dt.datetime(year, 5, 31, 12, 0, 0)


def _cell(cells: dict[str, str], name: str) -> tuple[str, str]:
    sheet, cell = cells[name].split("!")
    return sheet, cell


def _lock_bytes(owner: str) -> bytes:
    raw = owner.encode("utf-8")[:53]
    return (bytes([len(raw)]) + raw).ljust(54, b" ") + b"\x00" * 111


DEFECT_KINDS = ("missing", "wrong_year", "corrupt", "duplicate", "score_words", "text_numbers", "reordered",
                "count_exceeds", "no_document", "bad_link", "code_as_number", "name_mismatch", "lock_file")
FULL_TYPE_NAMES = {"СОШ": "Средняя общеобразовательная школа", "Гимназия": "Гимназия", "Лицей": "Лицей",
                   "ЦО": "Центр образования", "ООШ": "Основная общеобразовательная школа",
                   "НОШ": "Начальная общеобразовательная школа"}


class _YearWriter:
    """Writes one sample year's files into a YearBuild, each school's form with the defect the
    year planted on it (and records what the pipeline must find)."""

    def __init__(self, year: int, n_schools: int, seed: int, methodology: Methodology,
                 clean_writer: Callable[[dict[str, Any]], bytes] | None) -> None:
        self.year, self.seed, self.m, self.clean_writer = year, seed, methodology, clean_writer
        self.ay = academic_year(year)
        self.schools = make_schools(n_schools, seed)
        self.build = YearBuild(year, self.schools)
        self.rng = random.Random(f"{seed}:{year}:defects")
        self.chosen = dict(zip(DEFECT_KINDS, self.rng.sample(self.schools, len(DEFECT_KINDS))))
        self.by_school = {s.code: k for k, s in self.chosen.items() if k != "lock_file"}
        self.variant = year % 3  # which flavour of a defect this year gets
        self.stamp = _stamp(year)

    def issue(self, kind: str, school: str, file: str, sheet: str, cell: str, rule: str, severity: str) -> None:
        self.build.expected_issues.append({"kind": kind, "school_code": school, "file": file, "sheet": sheet,
                                           "cell": cell, "rule": rule, "severity": severity})

    def expect_file(self, file: str, status: str, rule: str, school: str) -> None:
        self.build.expected_files.append({"file": file, "status": status, "rule": rule, "school_code": school})

    def defect(self, kind: str, school: str, file: str, **extra: str) -> None:
        self.build.defects.append({"kind": kind, "school_code": school, "file": file, **extra})

    def write(self, values: dict[str, Any], orders: dict | None = None, protect: bool = True) -> tuple[bytes, dict[str, str], Any]:
        wb, cells = build_workbook(self.m, self.ay, values=values, orders=orders, protect=protect)
        return workbook_bytes(wb, self.stamp), cells, wb

    def pick_positions(self, values: dict[str, Any], k: int, prng: random.Random, scored: bool | None = None) -> list[str]:
        codes = [p.code for p in self.m.positions]
        if scored is True:
            codes = [c for c in codes if values[f"checklist.{c}.score"] > 0] or codes
        return prng.sample(codes, k)

    # -- defects of the form as a whole: no usable form
    def missing(self, school: School, values: dict[str, Any], name: str, prng: random.Random) -> None:
        self.defect("missing", school.code, "")
        self.issue("missing", school.code, "", "", "", "form.not_submitted", "error")

    def wrong_year(self, school: School, values: dict[str, Any], name: str, prng: random.Random) -> None:
        values["info.academic_year"] = academic_year(self.year - 1)
        values["info.filled_date"] = dt.date(self.year - 1, 5, 20)
        data, cells, _ = self.write(values)
        self.build.files[name] = data
        sheet, cell = _cell(cells, "info.academic_year")
        self.expect_file(name, "rejected", "form.wrong_year", school.code)
        self.issue("wrong_year", school.code, name, sheet, cell, "form.wrong_year", "error")
        self.issue("wrong_year", school.code, "", "", "", "form.not_submitted", "error")
        self.defect("wrong_year", school.code, name)

    def corrupt(self, school: School, values: dict[str, Any], name: str, prng: random.Random) -> None:
        data, _, _ = self.write(values)
        self.build.files[name] = data[: len(data) * 3 // 5]
        self.expect_file(name, "rejected", "file.corrupt", "")
        self.issue("corrupt", "", name, "", "", "file.corrupt", "error")
        self.issue("corrupt", school.code, "", "", "", "form.not_submitted", "error")
        self.defect("corrupt", school.code, name)

    def duplicate(self, school: School, values: dict[str, Any], name: str, prng: random.Random) -> None:
        code, year = school.code, self.year
        early = dict(values)
        early["info.filled_date"] = values["info.filled_date"] - dt.timedelta(days=prng.randint(5, 20))
        first = self.pick_positions(values, 1, prng)[0]
        early[f"checklist.{first}.score"] = 0
        early.pop(f"checklist.{first}.document", None)
        early.pop(f"checklist.{first}.link", None)
        stem = f"{code}_самооценка_{year}"
        # in even years the later form's name sorts first: the date decides, not the name
        later_name, early_name = ((f"{stem}.xlsx", f"{stem}_черновик.xlsx") if year % 2 == 0
                                  else (f"{stem}_испр.xlsx", f"{stem}.xlsx"))
        data, _, _ = self.write(values)
        self.build.files[later_name] = data
        data, cells, _ = self.write(early)
        self.build.files[early_name] = data
        sheet, cell = _cell(cells, "info.filled_date")
        self.expect_file(early_name, "superseded", "form.superseded", code)
        self.issue("duplicate", code, early_name, sheet, cell, "form.superseded", "warning")
        self.defect("duplicate", code, early_name, winner=later_name)

    # -- defects of single values: (field, rule, severity) to locate after writing
    def score_words(self, school, values, prng) -> list[tuple[str, str, str]]:
        planned = []
        for c in self.pick_positions(values, 5, prng):
            values[f"checklist.{c}.score"] = SCORE_AS_WORD[values[f"checklist.{c}.score"]]
            planned.append((f"checklist.{c}.score", "checklist.score_as_word", "warning"))
        return planned

    def text_numbers(self, school, values, prng) -> list[tuple[str, str, str]]:
        planned = []
        for f in ("info.pupils", "staff.P0", "staff.P5"):
            values[f] = str(values[f])
            planned.append((f, "value.number_as_text", "warning"))
        return planned

    def count_exceeds(self, school, values, prng) -> list[tuple[str, str, str]]:
        if self.variant == 0:
            values["staff.P0"] = max(values["staff.P0"], values["staff.P2"] + 4)
            values["staff.P3"] = values["staff.P2"] + 2
            return [("staff.P3", "staff.winners_exceed_participants", "error")]
        if self.variant == 1:
            values["staff.P1"] = values["staff.P0"] + 3
            return [("staff.P1", "staff.exceeds_total", "error")]
        values["staff.P8"] = values["staff.P7"] + 2
        return [("staff.P8", "staff.mentored_exceed_young", "error")]

    def no_document(self, school, values, prng) -> list[tuple[str, str, str]]:
        c = self.pick_positions(values, 1, prng, scored=True)[0]
        values[f"checklist.{c}.score"] = max(self.m.position(c).scale)
        values.pop(f"checklist.{c}.document", None)
        values.pop(f"checklist.{c}.link", None)
        return [(f"checklist.{c}.document", "checklist.unconfirmed", "warning")]

    def bad_link(self, school, values, prng) -> list[tuple[str, str, str]]:
        c = self.pick_positions(values, 1, prng, scored=True)[0]
        if values[f"checklist.{c}.score"] == 0:
            values[f"checklist.{c}.score"] = 1
            values[f"checklist.{c}.document"] = _document(prng, c, self.year)
        values[f"checklist.{c}.link"] = BAD_LINKS[self.variant]
        return [(f"checklist.{c}.link", "checklist.bad_link", "warning")]

    def code_as_number(self, school, values, prng) -> list[tuple[str, str, str]]:
        values["info.school_code"] = int(school.code)
        return [("info.school_code", "info.code_as_number", "warning")]

    def name_mismatch(self, school, values, prng) -> list[tuple[str, str, str]]:
        rest = school.name.split(school.type, 1)[1].strip()
        values["info.school_name"] = f"Муниципальное бюджетное общеобразовательное учреждение «{FULL_TYPE_NAMES[school.type]} {rest}»"
        return [("info.school_name", "info.name_mismatch", "warning")]

    def reordered_orders(self, school: School, values: dict[str, Any], prng: random.Random) -> dict:
        orders = {}
        for sheet, keys in default_orders(self.m).items():
            keys = list(keys)
            prng.shuffle(keys)
            for _ in range(3):
                keys.insert(prng.randint(0, len(keys)), None)
            orders[sheet] = keys
        self.build.expected_values[school.code] = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
        return orders

    def retyped(self, wb: Any, cells: dict[str, str]) -> bytes:
        """A hand-made copy: labels retyped with odd case and spaces, Cyrillic «Р» in codes."""
        form = layout(self.m)
        ws = wb[SHEET_INFO]
        for f in form.info:
            cell = ws[cells[f"info.{f.key}"].split("!")[1]]
            label = ws.cell(row=cell.row, column=1)
            label.value = "  " + f.label.upper().replace("Ё", "Е") + " :" if cell.row % 2 else f.label.lower() + "  "
        ws = wb[SHEET_STAFF]
        for code_p in form.staff_codes:
            cell = ws[cells[f"staff.{code_p}"].split("!")[1]]
            ws.cell(row=cell.row, column=1).value = code_p.replace("P", "Р") + " "  # Cyrillic Р
        return workbook_bytes(wb, self.stamp)

    def school(self, school: School) -> None:
        """One school's files for the year."""
        kind = self.by_school.get(school.code)
        values = form_values(school, self.year, self.seed, self.m)
        name = _file_name(school, self.year)
        prng = random.Random(f"{self.seed}:{self.year}:{school.code}:defect")
        if kind in ("missing", "wrong_year", "corrupt", "duplicate"):
            getattr(self, kind)(school, values, name, prng)
            return
        orders, protect, planned = None, True, []
        if kind == "reordered":
            protect, orders = False, self.reordered_orders(school, values, prng)
        elif kind is not None:
            planned = getattr(self, kind)(school, values, prng)
        if kind is None and self.clean_writer is not None:
            data, cells, wb = self.clean_writer(values), {}, None
        else:
            data, cells, wb = self.write(values, orders, protect)
        if kind == "reordered":
            data = self.retyped(wb, cells)
        self.build.files[name] = data
        for f, rule, severity in planned:
            sheet, cell = _cell(cells, f)
            self.issue(kind, school.code, name, sheet, cell, rule, severity)
        if kind:
            self.defect(kind, school.code, name)
        if school.code == self.chosen["lock_file"].code:
            lock = "~$" + name
            self.build.files[lock] = _lock_bytes(values["info.responsible"].split(",")[0])
            self.expect_file(lock, "rejected", "file.lock", "")
            self.issue("lock_file", "", lock, "", "", "file.lock", "warning")
            self.defect("lock_file", school.code, lock)

    def stranger(self) -> None:
        """A form from a school that is not in the registry (another district's school)."""
        stranger = School(f"03{self.rng.randint(1, 40):02d}", "МБОУ СОШ № 21", "СОШ", "school21", 610, 0.5, 0.0, False, False, False)
        values = form_values(stranger, self.year, self.seed, self.m)
        name = f"{stranger.code}_самооценка_{self.year}.xlsx"
        data, cells, _ = self.write(values)
        self.build.files[name] = data
        sheet, cell = _cell(cells, "info.school_code")
        self.expect_file(name, "rejected", "form.unknown_school", stranger.code)
        self.issue("unknown_code", stranger.code, name, sheet, cell, "form.unknown_school", "error")
        self.defect("unknown_code", stranger.code, name)

    def department(self) -> None:
        """department.xlsx: РМО meetings (some directions below 4), tutor communities and
        internship sites (a few not working), visits to most ШНОР schools; one РМО count is
        2,5 (value.not_integer)."""
        from openpyxl import load_workbook

        from .form.department import DEPARTMENT_FILE, department_bytes
        from .form.template import FIRST_ROW

        rng = random.Random(f"{self.seed}:{self.year}:department")
        wb = load_workbook(io.BytesIO(department_bytes(self.m, self.ay, self.year)))
        ws = wb["РМО"]
        n = len(self.m.department.rmo_directions)
        bad = FIRST_ROW + rng.randrange(n)
        for row in range(FIRST_ROW, FIRST_ROW + n):
            ws.cell(row=row, column=2, value=2.5 if row == bad else rng.choice([4, 4, 4, 4, 3, 2, 5]))
            for col, top in ((3, 36), (4, 38), (5, 6)):
                ws.cell(row=row, column=col, value=rng.randint(0, top))
        self.issue("department_count", "", DEPARTMENT_FILE, "РМО", f"B{bad}", "value.not_integer", "error")
        ws = wb["Сетевые формы"]
        subjects = ["математика", "русский язык", "физика", "химия", "биология", "история", "обществознание",
                    "информатика", "география", "литература", "английский язык", "математика (профильная)"]
        items = [("тьюторское сообщество", f"Тьюторское сообщество: {s}") for s in subjects]
        items += [("стажировочная площадка", f"Стажировочная площадка № {i}") for i in range(1, 9)]
        for i, (kind, name) in enumerate(items):
            working = YES if rng.random() < 0.85 + 0.05 * (self.year - 2024) else NO
            for col, value in enumerate((kind, name, working), start=1):
                ws.cell(row=FIRST_ROW + i, column=col, value=value)
        ws = wb["Выезды"]
        row = FIRST_ROW
        for school in (s for s in self.schools if s.low_results and rng.random() < 0.8):
            for _ in range(rng.randint(1, 3)):
                day = dt.date(self.year - 1, 10, 1) + dt.timedelta(days=rng.randrange(200))
                for col, value in enumerate((school.code, day, rng.choice(["консультация", "методический выезд", "семинар"])), 1):
                    ws.cell(row=row, column=col, value=value)
                row += 1
        self.build.files[DEPARTMENT_FILE] = workbook_bytes(wb, self.stamp)
        self.expect_file(DEPARTMENT_FILE, "department", "", "")

    def measures(self, params: Any, roadmap: Any) -> None:
        """measures.xlsx: the record of last year's roadmap, filled the way a department fills
        it — most measures done (a date in their month, a document, a seminar's participants:
        most of the schools it was for and a few others), some not, some rows left empty — and
        one «Выполнено» misspelt (measures.bad_yesno: that measure counts as «нет сведений»)."""
        from openpyxl import load_workbook

        from .core.contract import MEASURE_STATUSES
        from .form.measures import COLUMNS, MEASURES_FILE
        from .form.template import FIRST_ROW
        from .report.measures_form import measures_bytes

        done_word, not_word, none_word = MEASURE_STATUSES
        col = {key: j for j, (key, _) in enumerate(COLUMNS, start=1)}
        rng = random.Random(f"{self.seed}:{self.year}:measures")
        wb = load_workbook(io.BytesIO(measures_bytes(roadmap, params)))
        ws = wb.active
        codes = [s.code for s in self.schools]
        misspelt = None
        for i, m in enumerate(roadmap.sort_values("number", kind="stable").to_dict("records")):
            row, ident, kind = FIRST_ROW + i, str(m["decision_id"]), str(m["kind"])
            r = rng.random()
            if r < 0.15:
                self.build.expected_measures[ident] = none_word     # row left empty
                continue
            if r < 0.35:
                ws.cell(row=row, column=col["done"], value=NO)
                self.build.expected_measures[ident] = not_word
                continue
            year, month = (int(x) for x in str(m["due_month"]).split("-"))
            ws.cell(row=row, column=col["done"], value=YES)
            ws.cell(row=row, column=col["date"], value=dt.date(year, month, rng.randint(1, 28)))
            document = {"seminar": f"Протокол заседания РМО № {i + 1}",
                        "visit": f"Справка по итогам методического выезда № {i + 1}"}.get(kind, "https://uo.example.ru/rmo/grafik")
            ws.cell(row=row, column=col["document"], value=document)
            if kind == "seminar":
                target = [c for c in str(m.get("schools") or "").split(";") if c]
                who = {c for c in target if rng.random() < 0.7} | set(rng.sample(codes, 2))
                ws.cell(row=row, column=col["participants"], value="; ".join(sorted(who)))
            self.build.expected_measures[ident] = done_word
            if misspelt is None and kind == "seminar":
                misspelt = row
                ws.cell(row=row, column=col["done"], value="выполн.")
                self.build.expected_measures[ident] = none_word
                self.issue("measures_yesno", "", MEASURES_FILE, ws.title, f"{ws.cell(row=row, column=col['done']).coordinate}",
                           "measures.bad_yesno", "error")
        self.build.files[MEASURES_FILE] = workbook_bytes(wb, self.stamp)
        self.expect_file(MEASURES_FILE, "measures", "", "")

    def registry(self) -> None:
        lines = ["code,name,type"] + [f"{s.code},{s.name},{s.type}" for s in self.schools]
        self.build.files["registry.csv"] = ("\n".join(lines) + "\n").encode("utf-8")
        self.build.expected_files.append({"file": "registry.csv", "status": "registry", "rule": "", "school_code": ""})


def build_year(year: int, n_schools: int = 36, seed: int = DEFAULT_SEED, methodology: Methodology | None = None,
               clean_writer: Callable[[dict[str, Any]], bytes] | None = None, measures: bool = True) -> YearBuild:
    """The files of one year and the list of defects injected into them (nothing is written).

    clean_writer(values) -> bytes, when given, writes the forms that carry no planned defect
    instead of openpyxl (the benchmarks stamp them from one template: same bytes, faster).
    measures: add the record of last year's roadmap where last year has parameters (default
    methodology only).
    """
    if n_schools < MIN_SCHOOLS:
        raise RunError(f"Для учебных данных нужно не меньше {MIN_SCHOOLS} школ (указано {n_schools})",
                       f"Запустите с --schools {MIN_SCHOOLS} или больше.")
    writer = _YearWriter(year, n_schools, seed, methodology or load_methodology(DEFAULT_METHODOLOGY), clean_writer)
    for school in writer.schools:
        writer.school(school)
    writer.stranger()
    writer.registry()
    writer.department()
    if measures and clean_writer is None and (methodology is None or _is_default(methodology)):
        previous = previous_roadmap(year, n_schools, seed)
        if previous is not None:
            writer.measures(*previous)
    return writer.build


def _is_default(methodology: Methodology) -> bool:
    return methodology.source is not None and Path(methodology.source).resolve() == DEFAULT_METHODOLOGY.resolve()


@functools.lru_cache(maxsize=4)
def previous_roadmap(year: int, n_schools: int = 36, seed: int = DEFAULT_SEED) -> tuple[Any, Any] | None:
    """(last year's parameters, last year's roadmap.csv) of the sample: the previous year's
    files run through the pipeline's stage functions (in a temporary folder, as the notebooks
    run them); None when params/<year − 1>.yaml does not exist."""
    import tempfile

    from .config.params import load_params
    from .form.registry import load_registry
    from .io.storage import read_table, write_tables
    from .stages import clean, ingest, recommendations, score
    from .stages.followup import FIRST_YEAR, FIRST_YEAR_MESSAGE, PreviousYear

    path = PARAMS_DIR / f"{year - 1}.yaml"
    if not path.is_file():
        return None
    methodology = load_methodology(DEFAULT_METHODOLOGY)
    files = build_year(year - 1, n_schools, seed, methodology, measures=False).files
    with tempfile.TemporaryDirectory(prefix="sample-roadmap-") as tmp:
        raw, proc = Path(tmp) / "raw", Path(tmp) / "processed"
        for name, data in files.items():
            write_bytes_atomic(raw / name, data)
        params = load_params(path, check_files=False).model_copy(
            update={"raw_dir": raw, "processed_dir": proc, "previous_params": None, "methodology": DEFAULT_METHODOLOGY})
        write_tables(proc, ingest.run(ingest.load_raw(params), methodology, params))
        forms_long, files_df = clean.read_inputs(proc)
        write_tables(proc, clean.run(forms_long, files_df, load_registry(params), methodology, params))
        t = {n: read_table(proc, n) for n in ("checklist.csv", "staff.csv", "profile.csv")}
        write_tables(proc, score.run(t["checklist.csv"], t["staff.csv"], t["profile.csv"], methodology, params,
                                     score.read_department(proc)))
        t = {n: read_table(proc, n) for n in ("scores.csv", "positions.csv", "targets_school.csv",
                                              "targets_municipal.csv", "profile.csv")}
        result = recommendations.run(params, methodology, t["scores.csv"], t["positions.csv"], t["targets_school.csv"],
                                     profile=t["profile.csv"], targets_municipal=t["targets_municipal.csv"],
                                     previous=PreviousYear(FIRST_YEAR, FIRST_YEAR_MESSAGE))
        write_tables(proc, {"roadmap.csv": result.roadmap})
        return params, read_table(proc, "roadmap.csv")


def planned_defects(year: int, n_schools: int = 36, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """What the sample of a year carries, for tests and the README.

    files: every raw file that is not simply `accepted` (status, rule, school);
    issues: every issue the clean stage must report (school, file, sheet, cell, rule, severity);
    values: for the hand-made (reordered) forms, the values the pipeline must read back;
    defects: one line per injected defect (kind, school, file);
    file_names: every file of the year folder;
    measures: each measure id of last year's roadmap → its status in measures.csv.
    """
    return copy.deepcopy(_planned(year, n_schools, seed))


@functools.lru_cache(maxsize=8)
def _planned(year: int, n_schools: int, seed: int) -> dict[str, Any]:
    b = build_year(year, n_schools, seed)
    return {"year": year, "files": b.expected_files, "issues": b.expected_issues,
            "values": b.expected_values, "defects": b.defects, "file_names": sorted(b.files),
            "measures": b.expected_measures}


# The signed orders of the sample: raw/<year>/signed/<name>.pdf, a one-page «scan» made by
# signed_scan_pdf; its number and date are those of params/<year>.yaml's `signed:` block
# (tests/test_documents_site.py checks that they agree). 2026 has none: its drafts are published.
SIGNED_SAMPLE: dict[int, dict[str, tuple[str, dt.date]]] = {2025: {"prikaz": ("№ 231", dt.date(2025, 6, 20))}}


def signed_scan_pdf(number: str, date: dt.date, seed: str = "") -> bytes:
    """A one-page A4 PDF that looks like the scan of a signed order: greyish paper, lines of
    text as grey bars, the date and number in the requisites, a signature and a round stamp in
    blue ink. Written byte by byte (no fonts embedded, no time stamp): the same arguments give
    the same bytes on every machine."""
    rng = random.Random(f"signed:{number}:{date.isoformat()}:{seed}")
    digits = "".join(ch for ch in number if ch.isdigit())
    ops = ["0.965 0.958 0.94 rg 0 0 595 842 re f", "0.25 0.25 0.27 rg"]
    for x, y, w in ((170, 780, 255), (210, 766, 175), (245, 730, 105)):  # organisation, «ПРИКАЗ»
        ops.append(f"{x} {y} {w} 7 re f")
    ops.append(f"BT /F1 11 Tf 1 0 0 1 72 700 Tm ({date:%d.%m.%Y}) Tj ET")
    ops.append(f"BT /F1 11 Tf 1 0 0 1 470 700 Tm (N {digits}) Tj ET")
    y = 660
    for i in range(26):  # the text of the order
        indent = 30 if i in (0, 4, 9, 15, 21) else 0
        width = 451 - indent - (rng.randrange(40, 260) if i in (3, 8, 14, 20, 25) else rng.randrange(0, 25))
        ops.append(f"{72 + indent} {y} {width} 5.5 re f")
        y -= 17 if i not in (3, 8, 14, 20) else 26
    ops.append("72 150 150 6 re f 400 150 110 6 re f")  # position and name of the head
    ops.append("0.1 0.2 0.55 RG 1.3 w 1 J 260 148 m 275 185 290 120 300 160 c 310 200 318 130 335 158 c "
               "350 180 360 140 380 162 S")  # the signature
    ops.append("0.15 0.25 0.6 RG 1.6 w")
    for r in (52, 40):  # the stamp: two circles (four Bézier arcs each)
        k = r * 0.5523
        cx, cy = 300, 140
        ops.append(f"{cx + r} {cy} m {cx + r} {cy + k} {cx + k} {cy + r} {cx} {cy + r} c "
                   f"{cx - k} {cy + r} {cx - r} {cy + k} {cx - r} {cy} c {cx - r} {cy - k} {cx - k} {cy - r} {cx} {cy - r} c "
                   f"{cx + k} {cy - r} {cx + r} {cy - k} {cx + r} {cy} c S")
    ops.append("0.15 0.25 0.6 rg 270 136 60 6 re f")
    content = "\n".join(o for o in ops if o).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (Signed order " + number.encode("ascii", "ignore").strip() + b") /Producer (pipeline.sample) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def generate(out_root: str | Path, years: list[int] | tuple[int, ...] = (2024, 2025, 2026), n_schools: int = 36,
             seed: int = DEFAULT_SEED) -> list[Path]:
    """Write data/raw/<year>/ (registry.csv and the forms) for each year; return the paths.

    Files of a year folder that the sample does not produce are left alone (raw data is
    never deleted); the sample's own files are rewritten atomically.
    """
    out_root = Path(out_root)
    methodology = load_methodology(DEFAULT_METHODOLOGY)
    written = []
    for year in years:
        build = build_year(year, n_schools, seed, methodology)
        for name in sorted(build.files):
            written.append(write_bytes_atomic(out_root / str(year) / name, build.files[name]))
        for name, (number, date) in sorted(SIGNED_SAMPLE.get(year, {}).items()):  # not a form: ingest skips signed/
            written.append(write_bytes_atomic(out_root / str(year) / SIGNED_DIR / f"{name}.pdf",
                                              signed_scan_pdf(number, date)))
    return written



def generate_example(out_root: str | Path, methodology_path: str | Path, years: list[int] | tuple[int, ...] = (2026,),
                     n_schools: int = 24, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write <out_root>/<year>/ for a municipality that uses another methodology: the registry and
    one clean form per school, filled with what that methodology's form asks (no planted
    defects: the default sample carries those), and the department's workbook where the
    methodology declares one (with the sample's one bad РМО count). Returns the paths written."""
    out_root = Path(out_root)
    methodology = load_methodology(methodology_path)
    schools = make_schools(n_schools, seed)
    written = []
    for year in years:
        ay, stamp = academic_year(year), _stamp(year)
        lines = ["code,name,type"] + [f"{s.code},{s.name},{s.type}" for s in schools]
        written.append(write_bytes_atomic(out_root / str(year) / "registry.csv", ("\n".join(lines) + "\n").encode("utf-8")))
        for school in schools:
            wb, _ = build_workbook(methodology, ay, values=form_values(school, year, seed, methodology))
            written.append(write_bytes_atomic(out_root / str(year) / _file_name(school, year), workbook_bytes(wb, stamp)))
        if any(t.kind.municipal_only for t in methodology.targets):  # the department's workbook, as the sample writes it
            from .form.department import DEPARTMENT_FILE

            writer = _YearWriter(year, n_schools, seed, methodology, None)
            writer.department()
            written.append(write_bytes_atomic(out_root / str(year) / DEPARTMENT_FILE, writer.build.files[DEPARTMENT_FILE]))
    return written
