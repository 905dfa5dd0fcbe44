"""Validation findings in Russian: the one translator of pydantic's error records.

Parameter files and methodology files are validated with pydantic; a person reads its
findings as one Russian phrase each («ожидается целое число», «неизвестный ключ …»), and
the key it concerns as a dotted path («levels.high», «M2.scale»).
"""

from __future__ import annotations

from typing import Any

_PHRASES = {
    "missing": "обязательный ключ отсутствует",
    "extra_forbidden": "неизвестный ключ (проверьте написание)",
    "int_type": "ожидается целое число",
    "int_parsing": "ожидается целое число",
    "int_from_float": "ожидается целое число",
    "float_type": "ожидается число",
    "float_parsing": "ожидается число",
    "string_type": "ожидается текст",
    "bool_type": "ожидается true или false",
    "bool_parsing": "ожидается true или false",
    "date_type": "ожидается дата вида ГГГГ-ММ-ДД",
    "date_parsing": "ожидается дата вида ГГГГ-ММ-ДД",
    "date_from_datetime_parsing": "ожидается дата вида ГГГГ-ММ-ДД",
    "dict_type": "ожидается набор ключей (словарь)",
    "list_type": "ожидается список",
    "model_type": "ожидается набор ключей (словарь)",
    "model_attributes_type": "ожидается набор ключей (словарь)",
    "path_type": "ожидается путь к файлу или папке",
}


def russian(err: dict[str, Any]) -> str:
    """One pydantic finding as a Russian phrase."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind in _PHRASES:
        return _PHRASES[kind]
    if kind == "too_short":
        min_length = ctx.get("min_length")
        return "список не должен быть пустым" if min_length in (None, 1) else f"нужно не меньше {min_length} элементов"
    if kind == "greater_than_equal":
        return f"значение должно быть не меньше {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"значение должно быть не больше {ctx.get('le')}"
    if kind == "greater_than":
        return f"значение должно быть больше {ctx.get('gt')}"
    if kind == "literal_error":
        return f"допустимые значения: {str(ctx.get('expected', '')).replace(' or ', ', ')}"
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg", "")))
    return str(err.get("msg", "недопустимое значение"))


def location(err: dict[str, Any]) -> str:
    """The key a finding concerns, dotted: ('levels', 'high') → «levels.high»."""
    return ".".join(str(x) for x in err.get("loc", ()))
