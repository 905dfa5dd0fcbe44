"""The data contract: which files each stage writes to data/processed/<year>/ and their columns.

Stages must write at least these columns, in this order first (extra columns may follow).
Tests check every output against this table, so the contract is enforced, not just described.
"""

from __future__ import annotations

# Severity of a data issue (issues.csv): "error" — the value or form is not used;
# "warning" — the value is used, but the analyst should look at it.
SEVERITIES = ("error", "warning")

# Status of a raw file (files.csv).
FILE_STATUSES = ("accepted", "rejected", "superseded", "registry")

OUTPUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "ingest": {
        # one row per form field found, long format, for every readable form
        "forms.csv": ("file", "sheet", "cell", "row", "field", "label", "value", "value_type", "school_code"),
        # every file in the raw folder
        "files.csv": ("file", "sha256", "size_bytes", "kind", "status", "reason", "school_code", "filled_date"),
    },
    "clean": {
        # one row per (registry school, methodology position); schools without a form have no rows
        "checklist.csv": ("school_code", "position", "score", "score_raw", "document", "link", "link_ok", "file", "cell"),
        # one row per school with an accepted form; P0..P9 nullable integers
        "staff.csv": ("school_code", "P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"),
        # one row per registry school (submitted or not)
        "profile.csv": (
            "school_code", "school_name", "school_type", "submitted", "file", "pupils",
            "innovation_site", "low_results", "low_results_support", "staffing_monitoring",
            "responsible", "filled_date",
        ),
        # every problem found, including rejected and superseded files
        "issues.csv": ("school_code", "file", "sheet", "cell", "field", "value", "rule", "severity", "message", "action"),
    },
    "score": {
        # one row per registry school; a school without a form has submitted=False, empty
        # numbers and level "нет данных" (never zero)
        "scores.csv": (
            "school_code", "school_name", "cluster", "checklist_points", "checklist_max", "checklist_pct",
            "activity_index", "total_score", "rank_in_cluster", "level", "zone", "submitted",
        ),
        # one row per (submitted school, position): what was claimed and what counts
        "positions.csv": ("school_code", "position", "criterion", "claimed", "points", "max_points", "confirmed"),
        "criteria.csv": ("school_code", "criterion", "points", "max_points", "pct"),
        "targets_school.csv": ("school_code", "target", "value", "target_value", "status"),
        "targets_municipal.csv": ("target", "numerator", "denominator", "value", "target_value", "met"),
    },
    "recommendations": {
        "recommendations.csv": ("recommendation_id", "school_code", "indicator_code", "priority", "text"),
        "decisions.csv": ("decision_id", "kind", "topic", "schools", "responsible", "due"),
        "followup.csv": ("recommendation_id", "school_code", "indicator_code", "status"),
    },
}

# Vocabularies of the score and recommendation outputs (Russian words are what people read).
CLUSTERS = ("СОШ>500", "СОШ≤500", "ООШ")
LEVELS = ("высокий", "средний", "низкий")          # level in scores.csv; "нет данных" when no form
ZONES = ("зелёная", "жёлтая", "красная")            # zone per level
TARGET_STATUSES = ("met", "not_met", "not_applicable", "not_submitted")
PRIORITIES = ("высокий", "средний")
# kind of a municipal decision (decisions.csv) → how a person reads it
DECISION_KINDS = {
    "seminar": "Муниципальный семинар (заседание РМО)",
    "measure": "Муниципальная мера",
    "visit": "Методический выезд",
    "request": "Запрос формы мониторинга",
}
FOLLOWUP_STATUSES = ("устранён", "улучшение", "без изменений", "ухудшение", "нет данных")

# What each data-quality rule (issues.csv `rule`) checks, in the words of the report and notebooks.
RULE_NAMES = {
    "file.lock": "файл блокировки Excel",
    "file.hidden": "скрытый служебный файл",
    "file.not_xlsx": "не книга Excel .xlsx",
    "file.corrupt": "повреждённый файл",
    "file.too_large": "слишком большой файл",
    "file.unreadable": "файл не читается",
    "form.not_a_form": "не форма мониторинга",
    "form.missing_sheets": "нет нужных листов",
    "form.unrecognized": "подписи формы не найдены",
    "form.no_school_code": "не указан код ОО",
    "form.unknown_school": "код ОО не из реестра",
    "form.wrong_year": "форма другого учебного года",
    "form.superseded": "форма заменена более поздней",
    "form.not_submitted": "форма не представлена",
    "form.rejected": "форма отклонена",
    "field.duplicate": "поле указано дважды",
    "info.academic_year": "учебный год в форме",
    "info.bad_date": "дата не распознана",
    "info.bad_type": "недопустимый тип ОО",
    "info.bad_yesno": "ответ не «да» / «нет»",
    "info.code_as_number": "код ОО записан числом",
    "info.code_normalized": "код ОО приведён к формату реестра",
    "info.date_as_text": "дата записана текстом",
    "info.date_out_of_range": "дата вне учебного года",
    "info.filled_date": "дата заполнения",
    "info.missing": "не заполнено поле листа «Сведения»",
    "info.name_mismatch": "наименование ОО отличается от реестра",
    "info.school_code": "код ОО",
    "info.type_mismatch": "тип ОО отличается от реестра",
    "staff.missing": "не заполнено значение листа «Кадры»",
    "staff.exceeds_total": "значение больше общего числа педагогов (P0)",
    "staff.winners_exceed_participants": "победителей больше, чем участников (P3 > P2)",
    "staff.mentored_exceed_young": "наставляемых больше, чем молодых педагогов (P8 > P7)",
    "value.number_as_text": "число записано текстом",
    "value.not_a_number": "вместо числа — текст или не число",
    "value.not_integer": "число не целое",
    "value.negative": "отрицательное число",
    "value.too_large": "неправдоподобно большое число",
    "checklist.missing": "нет строки позиции самооценки",
    "checklist.score_missing": "балл не указан",
    "checklist.score_invalid": "балл не распознан",
    "checklist.score_as_word": "балл указан словом",
    "checklist.score_out_of_range": "балл вне шкалы",
    "checklist.unconfirmed": "балл без подтверждающего документа",
    "checklist.unknown_position": "неизвестная позиция самооценки",
    "checklist.bad_link": "ссылка не является адресом http(s)",
}


STAGES: tuple[str, ...] = ("ingest", "clean", "score", "recommendations", "report")


def columns(stage: str, name: str) -> tuple[str, ...]:
    """The required leading columns of one output file."""
    return OUTPUTS[stage][name]
