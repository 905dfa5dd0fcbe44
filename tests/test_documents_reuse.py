"""The documents remembered between runs (pipeline/report/reuse.py): a letter, the
report.pdf and a DOCX's PDF are taken from the year's reports folder only when their inputs
and the code are the same and the file there still has the bytes made; the outputs are byte
for byte those of a run from scratch; a damaged cache is not used at all. (The whole pipeline —
run, one form changed, run again, every document compared with a fresh run of the changed
data — was checked at 200 schools, README «Re-runs: what the documents reuse»; three runs are
too slow for the suite.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config.params import load_params
from pipeline.io.storage import read_table
from pipeline.report import context as report_context
from pipeline.report import convert, pdf, publication
from pipeline.report import reuse
from pipeline.report.documents import letters
from report_data import write_history

SOFFICE = convert.soffice()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _publish(stage: Path, reports: Path) -> None:
    """What the runner does with a stage's output folder: its files moved into reports_dir."""
    for path in sorted(stage.rglob("*")):
        if path.is_file():
            final = reports / path.relative_to(stage)
            final.parent.mkdir(parents=True, exist_ok=True)
            path.replace(final)


# ---------------------------------------------------------------------------- the cache itself


def test_an_output_is_taken_only_with_its_key_and_its_bytes(tmp_path):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    (reports / "documents").mkdir(parents=True)
    (reports / "documents" / "a.pdf").write_bytes(b"%PDF-a")
    first = reuse.Outputs(processed, reports, "t")
    first.remember("documents/a.pdf", "1" * 64, b"%PDF-a")
    first.save()
    target = tmp_path / "stage" / "documents" / "a.pdf"

    again = reuse.Outputs(processed, reports, "t")
    assert again.take("documents/a.pdf", "1" * 64, target) and target.read_bytes() == b"%PDF-a"
    assert not again.take("documents/a.pdf", "2" * 64, tmp_path / "other.pdf")      # other inputs
    assert not again.take("documents/b.pdf", "1" * 64, tmp_path / "other.pdf")      # never made
    (reports / "documents" / "a.pdf").write_bytes(b"%PDF-b")                        # changed on disk
    assert not again.take("documents/a.pdf", "1" * 64, tmp_path / "other.pdf")
    (reports / "documents" / "a.pdf").unlink()                                       # missing
    assert not again.take("documents/a.pdf", "1" * 64, tmp_path / "other.pdf")
    (tmp_path / "elsewhere.pdf").write_bytes(b"%PDF-a")                              # a link to the same bytes
    (reports / "documents" / "a.pdf").symlink_to(tmp_path / "elsewhere.pdf")
    assert not again.take("documents/a.pdf", "1" * 64, tmp_path / "other.pdf")
    assert not (tmp_path / "other.pdf").exists()


@pytest.mark.parametrize("damage", ["sha", "garbage", "entry", "format", "path"])
def test_a_damaged_cache_is_not_used_at_all(tmp_path, damage):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    reports.mkdir()
    (reports / "a.pdf").write_bytes(b"x")
    out = reuse.Outputs(processed, reports, "t")
    out.remember("a.pdf", "1" * 64, b"x")
    out.save()
    doc = json.loads(out.path.read_bytes())
    if damage == "sha":
        doc["sha256"] = "0" * 64
    elif damage == "garbage":
        out.path.write_bytes(b"{not json")
    elif damage == "entry":
        doc["entries"]["a.pdf"]["key"] = "not hex"
        doc["sha256"] = reuse.digest(json.dumps(doc["entries"], sort_keys=True, ensure_ascii=False))
    elif damage == "format":
        doc["format"] = 99
    elif damage == "path":
        doc["entries"] = {"../a.pdf": doc["entries"]["a.pdf"]}
        doc["sha256"] = reuse.digest(json.dumps(doc["entries"], sort_keys=True, ensure_ascii=False))
    if damage != "garbage":
        out.path.write_text(json.dumps(doc), encoding="utf-8")
    assert reuse.Outputs(processed, reports, "t").loaded == {}
    assert not reuse.Outputs(processed, reports, "t").take("a.pdf", "1" * 64, tmp_path / "t.pdf")


def test_the_cache_holds_only_the_last_runs_outputs_and_is_rewritten_only_when_changed(tmp_path):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    reports.mkdir()
    for name in ("a", "b"):
        (reports / name).write_bytes(name.encode())
    out = reuse.Outputs(processed, reports, "t")
    out.remember("a", "1" * 64, b"a")
    out.remember("b", "1" * 64, b"b")
    out.save()
    again = reuse.Outputs(processed, reports, "t")
    assert again.take("a", "1" * 64, tmp_path / "a")
    assert again.take("b", "1" * 64, tmp_path / "b")
    before = out.path.stat().st_mtime_ns
    again.save()                                        # the same entries: not written
    assert out.path.stat().st_mtime_ns == before
    third = reuse.Outputs(processed, reports, "t")
    assert third.take("a", "1" * 64, tmp_path / "a2")
    third.save()                                        # b not made this time: forgotten
    assert set(reuse.Outputs(processed, reports, "t").loaded) == {"a"}


def test_the_code_key_changes_with_the_libraries_and_fonts():
    assert reuse.code_key() != reuse.code_key("python-docx")
    assert reuse.code_key("weasyprint") != reuse.code_key("weasyprint", fonts=True)
    assert reuse.digest("ab", "c") != reuse.digest("a", "bc")


# ---------------------------------------------------------------------------- letters


@pytest.fixture
def year(tmp_path):
    params_file = write_history(tmp_path)
    prof = read_table(tmp_path / "processed" / "2026", "profile.csv")
    pd.DataFrame({"code": prof["school_code"], "name": prof["school_name"], "type": prof["school_type"],
                  "head": [f"Директорова{i:02d} А. Б." for i in range(len(prof))]}).to_csv(
        tmp_path / "raw" / "registry.csv", index=False)
    return load_params(params_file, check_files=False)


@pytest.mark.parametrize("workers_from", [10_000, 2])   # written here, and by forked processes
def test_letters_are_taken_when_their_inputs_are_the_same(year, tmp_path, monkeypatch, workers_from):
    monkeypatch.setattr(letters, "PARALLEL_FROM", workers_from)
    reports = Path(year.reports_dir)
    first = letters.write(report_context.build_context(year), tmp_path / "s1" / "documents")
    assert first
    _publish(tmp_path / "s1", reports)
    scratch = _files(reports / "documents")

    built: list[str] = []
    real_build = letters.build
    monkeypatch.setattr(letters, "build", lambda ctx, code, *a, **k: built.append(code) or real_build(ctx, code, *a, **k))
    letters.write(report_context.build_context(year), tmp_path / "s2" / "documents")
    assert _files(tmp_path / "s2" / "documents") == scratch
    if workers_from > 2:   # forked workers count in their own memory
        assert built == []

    # one school's head changed in the registry, one letter changed on disk: those two are made again
    registry = Path(year.raw_dir) / "registry.csv"
    reg = pd.read_csv(registry, dtype=str)
    changed = reg["code"].iloc[0]
    reg.loc[0, "head"] = "Новикова В. Г."
    reg.to_csv(registry, index=False)
    tampered = sorted((reports / "documents" / letters.FOLDER).glob("*.docx"))[-1]
    tampered.write_bytes(b"not the letter")
    monkeypatch.setattr(letters, "PARALLEL_FROM", 10_000)
    built.clear()
    letters.write(report_context.build_context(year), tmp_path / "s3" / "documents")
    assert sorted(built) == sorted({changed, tampered.stem})
    fresh = letters.write(report_context.build_context(year), tmp_path / "s4" / "documents", reuse_last=False)
    assert fresh and _files(tmp_path / "s3" / "documents") == _files(tmp_path / "s4" / "documents")


def test_letters_are_made_again_when_the_parameters_change(year, tmp_path, monkeypatch):
    import yaml

    reports = Path(year.reports_dir)
    letters.write(report_context.build_context(year), tmp_path / "s1" / "documents")
    _publish(tmp_path / "s1", reports)
    raw = yaml.safe_load(Path(year.source).read_text(encoding="utf-8"))
    raw["header"]["organization"] = "Управление образования другого района"
    Path(year.source).write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    other = load_params(year.source, check_files=False)
    built: list[str] = []
    real_build = letters.build
    monkeypatch.setattr(letters, "build", lambda ctx, code, *a, **k: built.append(code) or real_build(ctx, code, *a, **k))
    ctx = report_context.build_context(other)
    letters.write(ctx, tmp_path / "s2" / "documents")
    assert built and len(built) == len(letters.scored(ctx))


# ---------------------------------------------------------------------------- report.pdf


PAGE = ('<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><style>@page {{ size: A4 }}</style></head>'
        '<body><h1>{}</h1><p><a href="schools/0101.html">ОО</a></p></body></html>')


def test_report_pdf_is_taken_when_the_page_is_the_same(tmp_path, monkeypatch):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    stage = tmp_path / "s1"
    stage.mkdir()
    (stage / "index.html").write_text(PAGE.format("Справка"), encoding="utf-8")
    pdf.write_report_pdf(stage, cache=reuse.Outputs(processed, reports, pdf.CACHE))
    made = (stage / pdf.PDF_NAME).read_bytes()
    _publish(stage, reports)

    laid_out: list[int] = []
    real = pdf.report_pdf_bytes
    monkeypatch.setattr(pdf, "report_pdf_bytes", lambda *a, **k: laid_out.append(1) or real(*a, **k))
    again = tmp_path / "s2"
    again.mkdir()
    (again / "index.html").write_text(PAGE.format("Справка"), encoding="utf-8")
    pdf.write_report_pdf(again, cache=reuse.Outputs(processed, reports, pdf.CACHE))
    assert laid_out == [] and (again / pdf.PDF_NAME).read_bytes() == made

    (again / "index.html").write_text(PAGE.format("Справка 2"), encoding="utf-8")   # the page changed
    pdf.write_report_pdf(again, cache=reuse.Outputs(processed, reports, pdf.CACHE))
    assert laid_out == [1]
    assert (again / pdf.PDF_NAME).read_bytes() == pdf.report_pdf_bytes(again / "index.html")


# ---------------------------------------------------------------------------- DOCX → PDF


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен")
def test_a_pdf_is_converted_again_only_for_a_changed_docx(year, tmp_path, monkeypatch):
    from docx import Document

    reports = Path(year.reports_dir)
    stage = tmp_path / "s1" / "documents"
    stage.mkdir(parents=True)
    for name, words in (("prikaz", "Приказ"), ("spravka", "Справка")):
        doc = Document()
        doc.add_paragraph(words)
        doc.save(str(stage / f"{name}.docx"))
    docx = [stage / "prikaz.docx", stage / "spravka.docx"]
    publication.convert_reusing(year, docx, stage)
    scratch = _files(stage)
    _publish(tmp_path / "s1", reports)

    converted: list[list[str]] = []
    real = convert.convert_to_pdf
    monkeypatch.setattr(convert, "convert_to_pdf",
                        lambda docs, *a, **k: converted.append([d.name for d in docs]) or real(docs, *a, **k))
    again = tmp_path / "s2" / "documents"
    again.mkdir(parents=True)
    for d in docx:
        shutil.copy(reports / "documents" / d.name, again / d.name)
    doc = Document()
    doc.add_paragraph("Справка, новая редакция")
    doc.save(str(again / "spravka.docx"))
    out = publication.convert_reusing(year, [again / "prikaz.docx", again / "spravka.docx"], again)
    assert converted == [["spravka.docx"]]
    assert [p.name for p in out] == ["prikaz.pdf", "spravka.pdf"]
    assert (again / "prikaz.pdf").read_bytes() == scratch["prikaz.pdf"]
    assert (again / "spravka.pdf").read_bytes() != scratch["spravka.pdf"]
