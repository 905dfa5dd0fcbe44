"""How the report names the codes of the processed tables (statuses, severities, zones)."""

from __future__ import annotations

from typing import Any


from ..core.contract import LEVELS, RULE_NAMES, ZONES
from ..core.values import text


ZONE_CLASS = {"зелёная": "green", "жёлтая": "yellow", "красная": "red"}


LEVEL_ZONE = dict(zip(LEVELS, ZONES))


TARGET_STATUS_LABEL = {
    "met": "достигнут",
    "not_met": "не достигнут",
    "not_applicable": "не применяется",
    "not_submitted": "форма не представлена",
}


TARGET_STATUS_MARK = {"met": "✓", "not_met": "✗", "not_applicable": "—", "not_submitted": "·"}


FILE_STATUS_LABEL = {
    "accepted": "принята",
    "rejected": "отклонена",
    "superseded": "заменена более поздней",
    "registry": "реестр школ",
}


SEVERITY_LABEL = {"error": "ошибка", "warning": "предупреждение"}


def rule_name(rule: Any) -> str:
    """The Russian name of a data-quality rule (the code itself when unknown)."""
    r = text(rule)
    return RULE_NAMES.get(r, r)
