"""The contract's rule catalogue names every rule the stages can emit."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.core.contract import RULE_NAMES

ROOT = Path(__file__).resolve().parents[1]


def test_every_rule_the_code_emits_has_a_russian_name():
    code = "".join(p.read_text(encoding="utf-8") for d in ("form", "stages") for p in sorted((ROOT / "pipeline" / d).glob("*.py")))
    emitted = set(re.findall(r'"((?:file|form|field|info|value|staff|checklist)\.[a-z_]+)"', code))
    emitted -= {"checklist.csv", "staff.csv"}
    # info.<field> names are field keys used as rule suffixes in messages, not rules
    emitted -= {r for r in emitted if r.startswith("info.") and r[5:] in {"school_code", "school_name", "school_type", "filled_date", "academic_year"}}
    missing = sorted(emitted - set(RULE_NAMES))
    assert not missing, f"rules without a Russian name in contract.RULE_NAMES: {missing}"
