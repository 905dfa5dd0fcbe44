"""The school form's layout, derived from the methodology's declaration (its `form:` block):
the sheets, the rows of «Сведения», the counts of «Кадры», the columns of «Показатели» and the
words a school may write for a score or a да/нет.

One `.xlsx` workbook per school per year with up to three sheets (a methodology without counts
of people has no «Кадры», one without a checklist no «Показатели»):

* «Сведения» — column A label, column B value: the school's identity (Код ОО, Наименование ОО,
  Тип ОО, Учебный год — every form has them), the methodology's fields, Дата заполнения;
* «Кадры» — column A code, column B label, column C value (counts of people);
* «Показатели» — a header row, then one row per methodology position: Код, Позиция
  оценивания, Балл, Подтверждающий документ, Ссылка.

The template writer (template.py), the reader (reader.py), the clean stage's checks and the
report's appendix all take the layout from `layout(methodology)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..config.methodology import Methodology

SHEET_INFO = "Сведения"
SHEET_STAFF = "Кадры"
SHEET_CHECKLIST = "Показатели"
SHEETS = (SHEET_INFO, SHEET_STAFF, SHEET_CHECKLIST)

YES, NO = "да", "нет"
# what a school may write for да / нет (a да/нет cell, a score of a {0,1} position)
YES_WORDS = {"да", "yes", "true", "1", "есть", "+"}
NO_WORDS = {"нет", "no", "false", "0", "-", "—"}

# «Показатели»: column key -> header text
CHECKLIST_COLUMNS: dict[str, str] = {
    "code": "Код",
    "text": "Позиция оценивания",
    "score": "Балл",
    "document": "Подтверждающий документ",
    "link": "Ссылка",
}
CHECKLIST_PARTS = ("score", "document", "link")

# type of a value as ingest records it (forms.csv value_type)
VALUE_TYPES = ("text", "number", "date", "bool", "empty")

# default hint (column C of «Сведения») per field type
TYPE_HINTS = {
    "integer": "целое число не меньше 0",
    "yesno": "да или нет",
    "date": "дата в формате ДД.ММ.ГГГГ",
    "text": "",
}


@dataclass(frozen=True)
class InfoRow:
    """One row of «Сведения» as the form has it."""

    key: str        # profile.csv column (and forms.csv field info.<key>)
    label: str      # what column A says
    kind: str       # code | text | school_type | academic_year | integer | yesno | date | choice
    hint: str       # what column C of the template says
    required: bool = True
    personal: bool = False
    required_if: str | None = None
    choices: tuple[str, ...] = ()
    identity: bool = False   # one of the fields every form has (not declared by the methodology)


@dataclass(frozen=True)
class FormLayout:
    """The form of one methodology."""

    info: tuple[InfoRow, ...]                 # «Сведения», in the template's order
    staff: tuple[tuple[str, str], ...]        # «Кадры»: (code, label)
    school_types: tuple[str, ...]
    staff_note: str                           # the «Кадры» sheet's instruction
    sheets: tuple[str, ...] = SHEETS          # the sheets this form has («Сведения» always)

    @property
    def by_key(self) -> dict[str, InfoRow]:
        return {f.key: f for f in self.info}

    @property
    def labels(self) -> dict[str, str]:
        return {f.key: f.label for f in self.info}

    @property
    def staff_labels(self) -> dict[str, str]:
        return dict(self.staff)

    @property
    def staff_codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.staff)

    @property
    def declared(self) -> tuple[InfoRow, ...]:
        """The methodology's own fields of «Сведения» (after the identity)."""
        return tuple(f for f in self.info if not f.identity)

    @property
    def profile_columns(self) -> tuple[str, ...]:
        """profile.csv's columns: identity, submitted, file, the declared fields, the date."""
        return ("school_code", "school_name", "school_type", "submitted", "file",
                *(f.key for f in self.declared), "filled_date")


def _identity(school_types: tuple[str, ...]) -> tuple[tuple[InfoRow, ...], tuple[InfoRow, ...]]:
    """The rows every form has: before the methodology's fields, and the last one."""
    head = (
        InfoRow("school_code", "Код ОО", "code", "код из реестра, текстом, с ведущими нулями (например, 0107)", identity=True),
        InfoRow("school_name", "Наименование ОО", "text", "полное наименование, как в уставе", required=False, identity=True),
        InfoRow("school_type", "Тип ОО", "school_type", "выберите из списка: " + ", ".join(school_types),
                required=False, choices=school_types, identity=True),
        InfoRow("academic_year", "Учебный год", "academic_year", "заполнено управлением образования, не меняйте",
                required=False, identity=True),
    )
    tail = (InfoRow("filled_date", "Дата заполнения", "date", TYPE_HINTS["date"], required=False, identity=True),)
    return head, tail


def _ranges(codes: list[str], order: tuple[str, ...]) -> str:
    """«P1–P7 и P9»: codes in the form's order, consecutive runs written as ranges."""
    pos = sorted(order.index(c) for c in codes)
    runs: list[list[int]] = []
    for i in pos:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = [order[r[0]] if len(r) == 1 else f"{order[r[0]]}–{order[r[-1]]}" for r in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " и " + parts[-1]


def _staff_note(m: "Methodology", order: tuple[str, ...]) -> str:
    rules = [f"{_ranges(c.counts, order)} не больше {c.at_most}" for c in m.form.checks]
    note = "Укажите целые числа не меньше 0."
    if rules:
        note += " " + "; ".join(rules) + "."
    if m.form.staff_note:
        note += " " + m.form.staff_note
    return note


_LAYOUTS: dict[int, tuple["Methodology", FormLayout]] = {}


def layout(m: "Methodology") -> FormLayout:
    """The form of a methodology (made once per methodology object)."""
    got = _LAYOUTS.get(id(m))
    if got is not None and got[0] is m:
        return got[1]
    types = tuple(m.form.school_types)
    head, tail = _identity(types)
    declared = tuple(
        InfoRow(f.key, f.label, f.type, f.hint or (TYPE_HINTS.get(f.type, "") if f.type != "choice"
                                                    else "выберите из списка: " + ", ".join(f.choices)),
                required=f.required, personal=f.personal, required_if=f.required_if, choices=tuple(f.choices))
        for f in m.form.info
    )
    staff = tuple((s.code, s.label) for s in m.form.staff)
    sheets = (SHEET_INFO,) + ((SHEET_STAFF,) if staff else ()) + ((SHEET_CHECKLIST,) if m.positions else ())
    out = FormLayout(head + declared + tail, staff, types, _staff_note(m, tuple(c for c, _ in staff)), sheets)
    if len(_LAYOUTS) > 64:
        _LAYOUTS.clear()
    _LAYOUTS[id(m)] = (m, out)
    return out
