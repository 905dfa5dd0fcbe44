"""The school form's layout as data: its sheets, the fields of «Сведения», the counts of
«Кадры», the columns of «Показатели» and the words a school may write for a score or a да/нет.

The template writer, the reader and the clean checks all take the layout from here.
"""

from __future__ import annotations

from dataclasses import dataclass

"""The school form: the exchange format between the department and the schools (SPEC §4).

One `.xlsx` workbook per school per year with three sheets:

* «Сведения» — column A label, column B value (the school's profile);
* «Кадры» — column A code P0…P9, column B label, column C value (counts of teachers);
* «Показатели» — a header row, then one row per methodology position: Код, Позиция
  оценивания, Балл, Подтверждающий документ, Ссылка.

The layout is data (the constants below). `build_workbook` writes it with openpyxl (the
template and the embedded sample use the same code); `read_form` reads a filled form with
python-calamine and finds every field by its label or code, never by a fixed address, so
reordered rows, blank rows, extra spaces, letter case, «ё» and numbers stored as text do not
matter. Every value found keeps where it came from: sheet and A1 cell address.
"""


SHEET_INFO = "Сведения"


SHEET_STAFF = "Кадры"


SHEET_CHECKLIST = "Показатели"


SHEETS = (SHEET_INFO, SHEET_STAFF, SHEET_CHECKLIST)


SCHOOL_TYPES = ("СОШ", "Гимназия", "Лицей", "ЦО", "ООШ", "НОШ")


YES, NO = "да", "нет"


@dataclass(frozen=True)
class InfoField:
    """One row of the «Сведения» sheet."""

    key: str        # profile key (profile.csv column)
    label: str      # what column A says
    kind: str       # code | text | school_type | academic_year | count | yesno | date
    hint: str       # what column C of the template says


INFO_FIELDS: tuple[InfoField, ...] = (
    InfoField("school_code", "Код ОО", "code", "код из реестра, текстом, с ведущими нулями (например, 0107)"),
    InfoField("school_name", "Наименование ОО", "text", "полное наименование, как в уставе"),
    InfoField("school_type", "Тип ОО", "school_type", "выберите из списка: " + ", ".join(SCHOOL_TYPES)),
    InfoField("academic_year", "Учебный год", "academic_year", "заполнено управлением образования, не меняйте"),
    InfoField("pupils", "Численность обучающихся", "count", "целое число не меньше 0"),
    InfoField("innovation_site", "Инновационная площадка", "yesno", "да или нет"),
    InfoField("low_results", "ШНОР", "yesno", "да — школа с низкими образовательными результатами; иначе нет"),
    InfoField("low_results_support", "Методическая поддержка ШНОР получена", "yesno", "да или нет (для школ, не входящих в ШНОР, — нет)"),
    InfoField("staffing_monitoring", "Мониторинг кадровых потребностей", "yesno", "да или нет"),
    InfoField("responsible", "Ответственный", "text", "фамилия, имя, отчество и должность ответственного за заполнение"),
    InfoField("filled_date", "Дата заполнения", "date", "дата в формате ДД.ММ.ГГГГ"),
)


INFO_LABELS: dict[str, str] = {f.key: f.label for f in INFO_FIELDS}


INFO_BY_KEY: dict[str, InfoField] = {f.key: f for f in INFO_FIELDS}


STAFF_LABELS: dict[str, str] = {
    "P0": "педагогических работников всего",
    "P1": "выступили с докладами/мастер-классами на муниципальных методических мероприятиях",
    "P2": "участвовали в муниципальных профессиональных конкурсах",
    "P3": "победители, призёры, лауреаты муниципальных профессиональных конкурсов",
    "P4": "опубликовали методические материалы в профессиональных изданиях",
    "P5": "прошли курсы повышения квалификации",
    "P6": "прошли диагностику профессиональных дефицитов",
    "P7": "молодых педагогов (до 35 лет)",
    "P8": "молодых педагогов, охваченных наставничеством",
    "P9": "представили опыт (семинары, мастер-классы, конференции, конкурсы, банк передового опыта)",
}


STAFF_CODES = tuple(STAFF_LABELS)


# «Показатели»: column key -> header text
CHECKLIST_COLUMNS: dict[str, str] = {
    "code": "Код",
    "text": "Позиция оценивания",
    "score": "Балл",
    "document": "Подтверждающий документ",
    "link": "Ссылка",
}


CHECKLIST_PARTS = ("score", "document", "link")


# Words a school may write instead of a score (SPEC §4). "full" = the top of the scale.
SCORE_WORDS: dict[str, str] = {
    "есть": "full", "да": "full", "имеется": "full", "в наличии": "full",
    "частично": "partial",
    "нет": "zero", "отсутствует": "zero",
}


YES_WORDS = {"да", "yes", "true", "1", "есть", "+"}


NO_WORDS = {"нет", "no", "false", "0", "-", "—"}


VALUE_TYPES = ("text", "number", "date", "bool", "empty")
