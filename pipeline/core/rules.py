"""The data-quality rules: every code issues.csv can carry, once — its severity, its Russian
name, and what the school or the analyst should do.

issues.csv, the report's data-quality section, the school pages, the feedback to schools and
the documentation (methodology/README.md lists this table; a test keeps the two equal) all read
it from here. Severity: «error» — the value or the form is not used; «warning» — it is used,
but someone should look at it; «error/warning» — a missing value is an error where the value
is needed and a warning where it is not (the methodology says which fields are required).
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)
SEVERITY_LABEL = {ERROR: "ошибка", WARNING: "предупреждение"}

_RESEND = "Попросите школу исправить форму и прислать её снова."
_TEMPLATE = "Попросите школу заполнить шаблон формы года."


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str    # error | warning | error/warning
    name: str        # what is checked, in the report's words
    fix: str         # what to do


_TABLE: tuple[tuple[str, str, str, str], ...] = (
    # files of the raw folder
    ("file.lock", WARNING, "файл блокировки Excel",
     "Удалять его не обязательно: он пропускается. Проверьте, что рядом лежит сама форма."),
    ("file.hidden", WARNING, "скрытый служебный файл", "Удалять его не обязательно: он пропускается."),
    ("file.not_xlsx", ERROR, "не электронная таблица (.xlsx, .xlsm, .xls, .ods)",
     "Попросите школу заполнить шаблон формы года и прислать его как книгу Excel (.xlsx) или таблицу .ods."),
    ("file.corrupt", ERROR, "повреждённый файл", "Попросите школу сохранить форму заново и прислать файл ещё раз."),
    ("file.too_large", ERROR, "слишком большой файл",
     "Попросите школу заполнить шаблон формы года заново, без лишних листов и вложений."),
    ("file.unreadable", ERROR, "файл не читается", "Проверьте права доступа к файлу."),
    ("file.reader_crash", ERROR, "файл обрушил программу чтения",
     "Попросите школу сохранить форму заново из шаблона года и прислать файл ещё раз; остальные формы года обработаны."),
    ("file.symlink", ERROR, "символическая ссылка вместо файла",
     "Положите в папку года сам файл формы (скопируйте его), а не ссылку на него; ссылка не открывается."),
    # the form as a whole
    ("form.not_a_form", ERROR, "не форма мониторинга",
     "Если это не форма — уберите файл из папки года; иначе попросите школу заполнить шаблон формы года."),
    ("form.missing_sheets", ERROR, "нет нужных листов",
     "Попросите школу заполнить шаблон формы года, не переименовывая и не удаляя листы."),
    ("form.unrecognized", ERROR, "подписи формы не найдены",
     "Попросите школу заполнить шаблон формы года, не меняя подписи в столбце A."),
    ("form.no_school_code", ERROR, "не указан код ОО", "Попросите школу указать «Код ОО» из реестра и прислать форму снова."),
    ("form.unknown_school", ERROR, "код ОО не из реестра",
     "Проверьте код: если школа есть в реестре под другим кодом — исправьте код в форме; если это новая школа — "
     "добавьте её в registry.csv."),
    ("form.wrong_year", ERROR, "форма другого учебного года", "Попросите школу заполнить форму текущего учебного года."),
    ("form.superseded", WARNING, "форма заменена более поздней",
     "Если действовать должна эта форма — исправьте в ней «Дата заполнения» или уберите лишний файл."),
    ("form.not_submitted", ERROR, "форма не представлена", "Напомните школе прислать форму года."),
    ("form.rejected", ERROR, "форма отклонена", _RESEND),
    ("field.duplicate", WARNING, "поле указано дважды", "Удалите лишнюю строку."),
    # «Сведения»
    ("info.missing", "error/warning", "не заполнено поле листа «Сведения»", "Заполните значение."),
    ("info.code_as_number", WARNING, "код ОО записан числом", "Запишите код текстом, как в реестре."),
    ("info.code_normalized", WARNING, "код ОО приведён к формату реестра", "Запишите код текстом, как в реестре."),
    ("info.name_mismatch", WARNING, "наименование ОО отличается от реестра",
     "Проверьте, та ли это школа; при необходимости исправьте форму или реестр."),
    ("info.type_mismatch", WARNING, "тип ОО отличается от реестра", "Исправьте форму или реестр."),
    ("info.bad_type", ERROR, "недопустимый тип ОО", "Выберите тип из списка."),
    ("info.bad_yesno", ERROR, "ответ не «да» / «нет»", "Выберите значение из списка."),
    ("info.bad_choice", ERROR, "значение не из списка", "Выберите значение из списка."),
    ("info.bad_date", ERROR, "дата не распознана", "Введите дату в формате ДД.ММ.ГГГГ."),
    ("info.date_as_text", WARNING, "дата записана текстом", "Введите дату в ячейку как дату."),
    ("info.date_out_of_range", WARNING, "дата вне учебного года", "Проверьте дату."),
    # numbers
    ("value.number_as_text", WARNING, "число записано текстом", "Введите число в ячейку."),
    ("value.not_a_number", ERROR, "вместо числа — текст или не число", "Укажите целое число не меньше 0."),
    ("value.not_integer", ERROR, "число не целое", "Укажите целое число не меньше 0."),
    ("value.negative", ERROR, "отрицательное число", "Укажите целое число не меньше 0."),
    ("value.formula", WARNING, "в ячейке формула — взято её вычисленное значение",
     "Введите в ячейку само значение вместо формулы (скопируйте и вставьте как значение)."),
    ("value.formula_no_value", "error/warning", "в ячейке формула без вычисленного значения",
     "Введите в ячейку само значение вместо формулы или пересчитайте и сохраните книгу в Excel."),
    ("value.too_large", ERROR, "неправдоподобно большое число", "Укажите целое число не меньше 0."),
    # «Кадры»
    ("staff.missing", ERROR, "не заполнено значение листа «Кадры»", "Укажите число педагогов (0, если таких нет)."),
    ("staff.exceeds_total", ERROR, "значение больше общего числа педагогов (P0)", "Исправьте значение или общее число."),
    ("staff.winners_exceed_participants", ERROR, "победителей больше, чем участников (P3 > P2)", "Исправьте одно из значений."),
    ("staff.mentored_exceed_young", ERROR, "наставляемых больше, чем молодых педагогов (P8 > P7)", "Исправьте одно из значений."),
    ("staff.part_exceeds_whole", ERROR, "часть больше целого (правило листа «Кадры»)", "Исправьте одно из значений."),
    # «Показатели»
    ("checklist.missing", ERROR, "нет строки позиции самооценки", "Заполните форму по шаблону года."),
    ("checklist.score_missing", ERROR, "балл не указан", "Выберите балл из списка."),
    ("checklist.score_invalid", ERROR, "балл не распознан", "Выберите балл из списка."),
    ("checklist.score_as_word", WARNING, "балл указан словом", "Выберите балл из списка."),
    ("checklist.score_out_of_range", ERROR, "балл вне шкалы", "Выберите балл из списка."),
    ("checklist.unconfirmed", WARNING, "балл без подтверждающего документа", "Укажите название и реквизиты документа."),
    ("checklist.unknown_position", WARNING, "неизвестная позиция самооценки", "Проверьте код позиции."),
    ("checklist.bad_link", WARNING, "ссылка не является адресом http(s)", "Укажите адрес страницы на сайте ОО."),
    # the department's own workbook (department.xlsx)
    ("department.missing", WARNING, "не заполнена ячейка данных управления образования",
     "Заполните ячейку в department.xlsx (0, если заседаний или участников не было)."),
    ("department.bad_choice", ERROR, "вид сетевой формы не из списка",
     "Выберите в department.xlsx «тьюторское сообщество» или «стажировочная площадка»."),
    ("department.bad_yesno", ERROR, "«Работает» — не «да» / «нет»", "Выберите в department.xlsx «да» или «нет»."),
    ("department.unknown_school", ERROR, "выезд в ОО с кодом не из реестра",
     "Исправьте код ОО в листе «Выезды» department.xlsx: код из реестра, текстом, с ведущими нулями."),
    ("department.bad_date", ERROR, "дата выезда не распознана", "Введите в department.xlsx дату в формате ДД.ММ.ГГГГ."),
    # the record of last year's measures (measures.xlsx)
    ("measures.unknown_id", ERROR, "код меры не из дорожной карты прошлого года",
     "Заполняйте measures.xlsx, записанный вместе с дорожной картой прошлого года, не меняя столбец «Код меры»."),
    ("measures.duplicate_id", ERROR, "мера указана в measures.xlsx дважды",
     "Оставьте в measures.xlsx одну строку на меру; используется первая."),
    ("measures.bad_yesno", ERROR, "«Выполнено» — не «да» / «нет»", "Выберите в measures.xlsx «да» или «нет»."),
    ("measures.missing_done", WARNING, "сведения о мере без отметки «Выполнено»",
     "Укажите в measures.xlsx «да» или «нет» в столбце «Выполнено»."),
    ("measures.bad_date", ERROR, "дата выполнения меры не распознана",
     "Введите в measures.xlsx дату в формате ДД.ММ.ГГГГ."),
    ("measures.date_outside_year", ERROR, "дата выполнения меры вне учебного года дорожной карты",
     "Проверьте дату в measures.xlsx: мера дорожной карты выполняется с июля по июнь следующего года."),
    ("measures.unknown_participant", ERROR, "участник меры — код ОО не из реестра",
     "Исправьте в measures.xlsx коды ОО участников: коды из реестра, через «;»."),
    # the registry
    ("registry.missing", ERROR, "реестр школ не найден",
     "Положите registry.csv или registry.xlsx (столбцы code, name, type) в папку сырых данных года."),
    ("registry.invalid", ERROR, "реестр школ не читается",
     "Нужны столбцы code, name, type (или «Код ОО», «Наименование ОО», «Тип ОО»), по одной строке на школу."),
    ("registry.code_repaired", WARNING, "коды ОО в реестре потеряли ведущие нули и восстановлены",
     "Сохраните столбец кодов реестра как текст (Excel убирает ведущие нули у чисел) и проверьте коды."),
)

RULES: dict[str, Rule] = {code: Rule(code, severity, name, fix) for code, severity, name, fix in _TABLE}


def rule(code: str) -> Rule:
    """The rule of a code (KeyError for a code that is not in the table)."""
    return RULES[code]


def rule_name(code: object) -> str:
    """The Russian name of a rule (the code itself when unknown)."""
    text = "" if code is None else str(code)
    found = RULES.get(text)
    return found.name if found is not None else text


def fix_of(code: str, default: str = _RESEND) -> str:
    """What to do about a rule's finding."""
    found = RULES.get(code)
    return found.fix if found is not None else default


def markdown_table() -> str:
    """The table as methodology/README.md carries it."""
    lines = ["| rule | severity | what | what to do |", "|---|---|---|---|"]
    lines += [f"| `{r.code}` | {r.severity} | {r.name} | {r.fix} |" for r in RULES.values()]
    return "\n".join(lines)
