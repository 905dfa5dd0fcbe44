"""A valid methodology always runs: hypothesis draws methodologies (any mix of «Сведения»
fields, «Кадры» counts with a consistency rule, positions on {0,1} or {0,1,2} scales, shares,
clusters and targets of every kind — each part possibly absent), writes matching forms, and
runs every stage, the report's sections, school pages and results.xlsx in process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import formbuilder
from conftest import write_params
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.report import context as report_context
from pipeline.report import excel, pages
from pipeline.report import sections as report_sections
from test_architecture import _run_year

TYPES = ("integer", "yesno", "text", "date", "choice")


@st.composite
def methodologies(draw) -> tuple[dict[str, Any], dict[str, float]]:
    kinds = draw(st.lists(st.sampled_from(TYPES), max_size=4))
    info = []
    for i, kind in enumerate(kinds):
        f: dict[str, Any] = {"key": f"f{i}_{kind}", "label": f"Поле {i} ({kind})", "type": kind}
        if kind == "choice":
            f["choices"] = ["первый", "второй"]
        info.append(f)
    n_staff = draw(st.integers(0, 4))
    staff = [{"code": f"C{i}", "label": f"педагогов группы {i}"} for i in range(n_staff)]
    checks = [{"counts": [s["code"] for s in staff[1:]], "at_most": "C0"}] if n_staff > 1 else []
    n_crit = draw(st.integers(1, 3))
    criteria = [{"code": f"K{i}", "name": f"Критерий {i}"} for i in range(n_crit)]
    positions = [{"code": f"Q{i}", "criterion": f"K{draw(st.integers(0, n_crit - 1))}", "short": f"Позиция {i}",
                  "text": f"Наличие позиции {i}", "scale": draw(st.sampled_from([[0, 1], [0, 1, 2]])),
                  "evidence_required": draw(st.booleans()), "recommendation": f"Развить позицию {i}."}
                 for i in range(draw(st.integers(0, 4)))]
    shares = [{"code": f"S{i}", "name": f"Доля {i}", "numerator": f"C{i}", "denominator": "C0",
               "in_activity_index": draw(st.booleans())} for i in range(1, n_staff)]
    yesno = [f["key"] for f in info if f["type"] == "yesno"]
    targets, values = [], {}
    options = ([("share", s["code"]) for s in shares] + [("flag", k) for k in yesno] + [("count", s["code"]) for s in staff])
    for i, (kind, ref) in enumerate(draw(st.lists(st.sampled_from(options), max_size=3)) if options else []):
        measure = {"kind": kind, ("share" if kind == "share" else "field"): ref}
        targets.append({"code": f"T{i}", "name": f"Целевой показатель {i}", "measure": measure,
                        "scope": draw(st.sampled_from([["school"], ["municipal"], ["school", "municipal"]])),
                        "recommendation": f"Достичь показателя {i}."})
        values[f"T{i}"] = draw(st.sampled_from([1, 50, 100]))
    m: dict[str, Any] = {"name": "Случайная методика", "version": "1", "form": {"info": info, "staff": staff, "checks": checks}}
    if positions:
        m.update(criteria=criteria, positions=positions)
    if shares:
        m["shares"] = shares
    integers = [f["key"] for f in info if f["type"] == "integer"]
    if integers and draw(st.booleans()):
        m["clusters"] = {"size_field": integers[0], "groups": [
            {"label": "СОШ", "types": ["СОШ", "Гимназия", "Лицей", "ЦО"], "split": True}, {"label": "ООШ", "types": ["ООШ", "НОШ"]}]}
    if targets:
        m["targets"] = targets
    return m, values


def _form_values(m: Any, code: str, seed: int) -> dict[str, Any]:
    values: dict[str, Any] = {"info.school_code": code, "info.school_name": f"Школа {code}", "info.school_type": "СОШ",
                              "info.academic_year": formbuilder.ACADEMIC_YEAR, "info.filled_date": dt.date(2026, 4, 10)}
    sample = {"integer": 100 + 250 * seed, "yesno": "да" if seed % 2 else "нет", "text": "текст", "date": dt.date(2026, 3, 1)}
    for f in m.form.info:
        values[f"info.{f.key}"] = f.choices[seed % len(f.choices)] if f.type == "choice" else sample[f.type]
    for i, s in enumerate(m.form.staff):
        values[f"staff.{s.code}"] = 12 + seed if i == 0 else (seed + i) % 7
    for p in m.positions:
        score = (seed + len(p.code)) % (max(p.scale) + 1)
        values[f"checklist.{p.code}.score"] = score
        if score and seed % 3:
            values[f"checklist.{p.code}.document"] = f"Приказ № {seed} «{p.code}»"
    return values


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=methodologies())
def test_a_valid_methodology_runs_through_every_stage(drawn, tmp_path_factory):
    meth, targets = drawn
    root = tmp_path_factory.mktemp("m")
    mfile = root / "m.yaml"
    mfile.write_text(yaml.safe_dump(meth, allow_unicode=True, sort_keys=False), encoding="utf-8")
    m = load_methodology(mfile)
    files = {f"{c}.xlsx": formbuilder.form_bytes(m, _form_values(m, c, i)) for i, c in enumerate(("0107", "0108", "0201"))}
    raw = formbuilder.raw_folder(root / "raw", files)
    pf = write_params(root, raw_dir=raw, methodology=str(mfile))
    data = yaml.safe_load(pf.read_text(encoding="utf-8"))
    data["targets"] = targets
    pf.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    tables = _run_year(pf)
    profile = tables["profile.csv"]
    assert profile["submitted"].astype(str).str.lower().eq("true").all(), tables["issues.csv"].to_string()
    assert len(tables["scores.csv"]) == 3
    assert set(tables["targets_municipal.csv"]["target"]) == {t.code for t in m.targets if "municipal" in t.scope}

    params = load_params(pf, check_files=False)
    ctx = report_context.build_context(params, m)
    html = "".join(str(s.render(ctx)) for s in report_sections.SECTIONS)
    assert "по 0 позиц" not in html
    out = Path(params.reports_dir)
    assert len(pages.write_school_pages(ctx, out)) == 3
    pages.write_report_page(ctx, out)
    excel.write_results(ctx, out / "results.xlsx")
    assert openpyxl.load_workbook(out / "results.xlsx", read_only=True)["Результаты"].max_row >= 4
