"""A year with no readable form (an empty raw folder, or only rejected files) runs through every
stage and gives a report that says no form was accepted, listing each school as not submitted."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import formbuilder  # noqa: E402
from conftest import write_params  # noqa: E402
from pipeline.config.methodology import load_methodology  # noqa: E402
from pipeline.config.params import load_params  # noqa: E402
from pipeline.form.registry import read_registry  # noqa: E402
from pipeline.io import storage  # noqa: E402
from pipeline.report import context as report_context  # noqa: E402
from pipeline.report import excel, pages, stage_charts  # noqa: E402
from pipeline.report import sections as report_sections  # noqa: E402
from pipeline.stages import clean, followup, ingest, recommendations  # noqa: E402
from pipeline.stages import score as scoring  # noqa: E402

NO_FORM = "Ни одна форма мониторинга не принята"
CODES = ("0107", "0108", "0201")


def _raw(tmp_path: Path, case: str) -> Path:
    files = {} if case == "empty" else {"0107.xlsx": b"not a workbook", "notes.txt": b"hello"}
    return formbuilder.raw_folder(tmp_path / "raw", files)


def _run_stages(params_file: Path) -> dict[str, pd.DataFrame]:
    """The stages as the notebooks call them, with the notebooks' charts, in this process."""
    params = load_params(params_file)
    m = load_methodology(params.methodology)
    out = params.processed_dir
    storage.write_tables(out, ingest.run(ingest.load_raw(params), m, params))
    forms_long, files = clean.read_inputs(out)
    storage.write_tables(out, clean.run(forms_long, files, read_registry(Path(params.raw_dir) / "registry.csv"), m, params))
    read = lambda name: storage.read_table(out, name)  # noqa: E731
    tables = scoring.run(read("checklist.csv"), read("staff.csv"), read("profile.csv"), m, params)
    scores = tables["scores.csv"]
    for fig in (stage_charts.total_chart(scores, params),
                stage_charts.cluster_levels_chart(scoring.cluster_summary(scores, m, params)),
                stage_charts.municipal_targets_stage_chart(tables["targets_municipal.csv"])):
        fig.canvas.draw()
    plt.close("all")
    scoring.findings(tables, m)
    storage.write_tables(out, tables)
    result = recommendations.run(params, m, read("scores.csv"), read("positions.csv"), read("targets_school.csv"),
                                 profile=read("profile.csv"), targets_municipal=read("targets_municipal.csv"),
                                 previous=followup.load_previous(params))
    storage.write_tables(out, result.tables)
    return {p.name: storage.read_table(out, p.name) for p in sorted(Path(out).glob("*.csv"))}


@pytest.mark.parametrize("case", ["empty", "only_rejected"])
def test_a_year_without_an_accepted_form_runs_every_stage_and_says_so(tmp_path, case):
    params_file = write_params(tmp_path, raw_dir=_raw(tmp_path, case))
    tables = _run_stages(params_file)
    assert tables["scores.csv"]["total_score"].isna().all()
    profile = tables["profile.csv"]
    assert sorted(profile["school_code"].astype(str)) == list(CODES)
    assert not profile["submitted"].astype(str).str.lower().eq("true").any()
    if case == "only_rejected":
        assert set(tables["files.csv"].query("status != 'registry'")["status"]) == {"rejected"}

    params = load_params(params_file, check_files=False)
    ctx = report_context.build_context(params, load_methodology(params.methodology))
    report = "\n".join(str(s.render(ctx)) for s in report_sections.SECTIONS)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report))
    assert NO_FORM in text
    missing = text[text.index("ОО, не представившие форму"):]
    for code in CODES:
        assert code in missing
    out = Path(params.reports_dir)
    school_pages = pages.write_school_pages(ctx, out)
    assert sorted(p.stem for p in school_pages) == list(CODES)
    assert NO_FORM in pages.write_report_page(ctx, out).read_text(encoding="utf-8")
    assert excel.write_results(ctx, out / "results.xlsx").stat().st_size > 0
    # the Word documents are written too; no school has a result, so there is no letter
    from pipeline.report.documents import write_documents

    written = write_documents(ctx, out)
    assert {p.name for p in written} == {"spravka.docx", "prikaz.docx", "roadmap.docx", "letters.zip"}
    assert not list((out / "documents" / "letters").glob("*.docx"))
    from test_documents import docx_problems

    # (the справка repeats the HTML report's sections, whose targets read «0 из 0 педагогов» here)
    assert not [x for path in written if path.name in ("prikaz.docx", "roadmap.docx") for x in docx_problems(path)]


@pytest.mark.slow
def test_a_year_without_an_accepted_form_through_the_notebooks(tmp_path):
    """The real run (papermill, every stage notebook) of a year whose only form is rejected."""
    from pipeline import cli

    params_file = write_params(tmp_path, raw_dir=_raw(tmp_path, "only_rejected"))
    assert cli.main(["run", "--params", str(params_file)]) == 0
    reports = tmp_path / "reports" / "2026"
    assert NO_FORM in (reports / "index.html").read_text(encoding="utf-8")
    assert sorted(p.stem for p in (reports / "schools").glob("*.html")) == list(CODES)
    assert (reports / "results.xlsx").is_file() and (reports / "manifest.json").is_file()
