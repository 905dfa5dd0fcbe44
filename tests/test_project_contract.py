"""The rule table (pipeline/core/rules.py) is the one list of issues.csv rules: every rule the
code can emit is in it, and the documentation lists exactly it."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.core.rules import RULES, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_every_rule_the_code_emits_is_in_the_table():
    code = "".join(p.read_text(encoding="utf-8") for d in ("form", "stages", "config") for p in sorted((ROOT / "pipeline" / d).rglob("*.py")))
    code = re.sub(r'MethodologyError\(file, "[^"]*"', "", code)   # methodology keys (form.headcount), not rules
    emitted = set(re.findall(r'"((?:file|form|field|info|value|staff|checklist|registry)\.[a-z_]+)"', code))
    for path in sorted((ROOT / "methodology").glob("*.yaml")):
        emitted |= set(re.findall(r"\brule: ([a-z_]+\.[a-z_]+)", path.read_text(encoding="utf-8")))
    emitted -= {"checklist.csv", "staff.csv", "registry.csv", "registry.xlsx"}
    # info.<field> names are field keys (forms.csv's field column), not rules
    emitted = {r for r in emitted if not (r.startswith("info.") and r[5:] in
               {"school_code", "school_name", "school_type", "filled_date", "academic_year"})}
    missing = sorted(emitted - set(RULES))
    assert not missing, f"rules the code names that are not in pipeline/core/rules.py: {missing}"


def test_the_documentation_lists_the_rule_table():
    readme = (ROOT / "methodology" / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "methodology/README.md: paste pipeline.core.rules.markdown_table() into «Data-quality rules»"
