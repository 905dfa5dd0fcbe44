"""The benchmark's machinery at a tiny size (no timed assertions): stamped forms are the bytes
openpyxl writes, and benchmarks/run.py produces its table and JSON with every figure."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path


from pipeline.config.methodology import load_methodology

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from fastforms import FormStamper  # noqa: E402
from pipeline import sample
from pipeline.form import reader as form_reader
from pipeline.form import template as form_template


def test_stamped_forms_are_the_bytes_openpyxl_writes():
    m = load_methodology(sample.DEFAULT_METHODOLOGY)
    stamp = sample._stamp(2026)
    stamper = FormStamper(m, "2025-2026", stamp)
    for school in sample.make_schools(20, 7)[:6]:
        values = sample.form_values(school, 2026, 7, m)
        wb, _ = form_template.build_workbook(m, "2025-2026", values=values)
        assert stamper.bytes(values) == form_template.workbook_bytes(wb, stamp), school.code
    values["info.responsible"] = ' «Иванова» <a> & "b" '
    values.pop("checklist.M1.document", None)
    wb, _ = form_template.build_workbook(m, "2025-2026", values=values)
    assert stamper.bytes(values) == form_template.workbook_bytes(wb, dt.datetime(2026, 5, 31, 12))
    parsed = form_reader.read_form(stamper.bytes(values), m)
    assert parsed.text("info.responsible") == values["info.responsible"]


def test_benchmark_runs_and_writes_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "14", "--years", "1",
                           "--until", "ingest", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "whole run / floor" in done.stdout and "14 schools" in done.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {"meta", "sizes", "goals"}
    s = data["sizes"]["14"]
    assert {"schools", "years", "forms", "full", "floor", "calamine_read_seconds", "unchanged", "one_form_changed",
            "ratios"} <= set(s)
    assert {"seconds", "stages", "peak_rss_mb", "peak_pss_mb", "kernels", "ran"} <= set(s["full"])
    assert 0 < s["full"]["peak_pss_mb"] <= s["full"]["peak_rss_mb"]
    assert set(s["full"]["stages"]) == {"ingest"} and s["full"]["kernels"] == 1
    assert s["unchanged"]["kernels"] == 0 and s["unchanged"]["ran"] == []
    assert s["one_form_changed"]["ran"] == ["2026 ingest"]
    assert {"full_vs_floor", "ingest_vs_calamine", "unchanged_vs_full", "changed_vs_full"} == set(s["ratios"])

    # a later run compared with this one shows each figure's ratio to it
    again = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "14", "--years", "1",
                            "--until", "ingest", "--json", str(tmp_path / "b2.json"), "--compare", str(out)],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "× was)" in again.stdout


def test_load_benchmark_smoke(tmp_path):
    """benchmarks/load.py at a tiny size: it builds the mixed folder, ingests it and prints its
    figures; every junk file is rejected with a rule of the table (exit 0)."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--files", "60", "--keep", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "files: 60" in out.stdout and "peak memory:" in out.stdout
    assert "rejected without a rule of the table: 0" in out.stdout
    assert any(p.name.startswith("bomb_") for p in (tmp_path / "raw" / "2026").iterdir())


def test_report_parts_measured_alone(sample_reports, tmp_path):
    """benchmarks/parts.py on the sample's last year (its processed data from the shared run):
    results.xlsx, the pages and the documents each timed, with the sizes the goals compare."""
    params = sample_reports.parent / "params" / "2026.yaml"
    out = tmp_path / "parts.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "parts.py"), str(params), "--json", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    parts = json.loads(out.read_text(encoding="utf-8"))
    assert set(parts) == {"results_xlsx", "measures_xlsx", "site", "documents"}
    assert parts["results_xlsx"]["seconds"] > 0 and parts["results_xlsx"]["mb"] > 0
    assert parts["measures_xlsx"]["mb"] > 0 and parts["measures_xlsx"]["measures"] > 0
    site = parts["site"]
    published = sample_reports / "2026"
    assert site["schools"] == len(list((published / "schools").glob("*.html")))
    assert site["largest_school_page_kb"] * 1024 == max(p.stat().st_size for p in (published / "schools").glob("*.html"))
    assert 0 < site["analytic_page_mb"] <= site["largest_page_mb"]
    assert parts["documents"]["seconds"] > 0 and parts["documents"]["letters"]["count"] > 0
