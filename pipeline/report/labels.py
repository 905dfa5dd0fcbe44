"""How the report names the codes of the processed tables (statuses, severities, zones)."""

from __future__ import annotations



from ..core.contract import COLLECTION_STATES, LEVELS, ZONES
from ..core.rules import SEVERITY_LABEL, rule_name  # noqa: F401  (the report names rules and severities from here)


ZONE_CLASS = {"зелёная": "green", "жёлтая": "yellow", "красная": "red"}


LEVEL_ZONE = dict(zip(LEVELS, ZONES))


TARGET_STATUS_LABEL = {
    "met": "достигнут",
    "not_met": "не достигнут",
    "not_applicable": "не применяется",
    "not_submitted": "форма " + COLLECTION_STATES["missing"],
}


TARGET_STATUS_MARK = {"met": "✓", "not_met": "✗", "not_applicable": "—", "not_submitted": "·"}


FILE_STATUS_LABEL = {
    "accepted": COLLECTION_STATES["accepted"],
    "rejected": COLLECTION_STATES["rejected"],
    "superseded": COLLECTION_STATES["superseded"],
    "registry": "реестр школ",
    "department": "данные управления образования",
    "measures": "сведения о выполнении мер",
}



