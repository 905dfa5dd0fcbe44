"""The year's documents on the site: DOCX → PDF with LibreOffice (one call, atomic, with a
timeout), the DOCX offered where there is no LibreOffice, a signed scan from raw/<year>/signed/
published instead of the draft with its number and date, nothing personal ever published, and
the scan covered by the manifest (verify sees it changed)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from pipeline import sample
from pipeline.config.params import load_params
from pipeline.core.errors import DocumentError, ParamsError
from pipeline.report import convert, site
from pipeline.report import publication as site_documents
from report_data import page_problems, write_history

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен: "
                                   "преобразование DOCX в PDF не проверяется (make system его установит)")

DRAFTS = {"prikaz": ["ПРИКАЗ", "Об итогах мониторинга эффективности методических служб", "ПРИКАЗЫВАЮ:"],
          "spravka": ["Аналитическая справка", "Мониторинг проведён в июне"],
          "roadmap": ["Дорожная карта", "Семинар для заместителей директоров"]}


def _docx(path: Path, paragraphs: list[str], *, pages: int = 1) -> Path:
    import docx

    d = docx.Document()
    for i in range(pages):
        if i:
            d.add_page_break()
        for text in paragraphs:
            d.add_paragraph(f"{text} (страница {i + 1})")
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(path)
    return path


def _pdf_text(path: Path) -> tuple[int, str]:
    import pypdf

    reader = pypdf.PdfReader(str(path))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def _no_soffice(monkeypatch, tmp_path: Path) -> None:
    """PATH without LibreOffice."""
    empty = tmp_path / "bin-without-soffice"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    assert convert.soffice() is None


def _fake_soffice(monkeypatch, tmp_path: Path, script: str) -> None:
    """PATH with a `soffice` that runs the given shell script."""
    folder = tmp_path / "fake-bin"
    folder.mkdir(exist_ok=True)
    exe = folder / "soffice"
    exe.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    assert convert.soffice() == str(exe)


# --------------------------------------------------------------------------- conversion


@needs_soffice
def test_docx_converted_to_pdf_in_one_call_with_cyrillic_text(tmp_path):
    a = _docx(tmp_path / "in" / "prikaz.docx", DRAFTS["prikaz"])
    b = _docx(tmp_path / "in" / "spravka.docx", DRAFTS["spravka"], pages=3)
    out = tmp_path / "out"
    pdfs = convert.convert_to_pdf([a, b], out, date=dt.date(2026, 6, 20))
    assert pdfs == [out / "prikaz.pdf", out / "spravka.pdf"]
    pages, text = _pdf_text(out / "prikaz.pdf")
    assert pages == 1 and "ПРИКАЗЫВАЮ:" in text and "Об итогах мониторинга" in text
    pages, text = _pdf_text(out / "spravka.pdf")
    assert pages == 3 and "Мониторинг проведён в июне (страница 3)" in text
    assert sorted(p.name for p in out.iterdir()) == ["prikaz.pdf", "spravka.pdf"]  # no temporary folder left
    # the same documents give the same bytes (verify compares them): time and identifier fixed
    first = (out / "prikaz.pdf").read_bytes()
    convert.convert_to_pdf([a], out, date=dt.date(2026, 6, 20))
    assert (out / "prikaz.pdf").read_bytes() == first
    assert b"D:20260620" in first


@needs_soffice
def test_a_damaged_docx_is_named_and_nothing_is_placed(tmp_path):
    good = _docx(tmp_path / "in" / "prikaz.docx", DRAFTS["prikaz"])
    bad = tmp_path / "in" / "roadmap.docx"
    bad.write_bytes(b"PK\x03\x04 not really a document")
    out = tmp_path / "out"
    with pytest.raises(DocumentError) as info:
        convert.convert_to_pdf([good, bad], out)
    assert "roadmap.docx" in str(info.value)
    assert list(out.iterdir()) == []  # all or nothing: not even the good one


def test_a_hanging_libreoffice_is_stopped_by_the_timeout(tmp_path, monkeypatch):
    _fake_soffice(monkeypatch, tmp_path, "sleep 60\n")
    doc = tmp_path / "prikaz.docx"
    doc.write_bytes(b"x")
    out = tmp_path / "out"
    with pytest.raises(DocumentError) as info:
        convert.convert_to_pdf([doc], out, timeout=1)
    assert "prikaz.docx" in str(info.value) and "за 1 с" in str(info.value)
    assert list(out.iterdir()) == []


def test_half_a_pdf_is_never_placed(tmp_path, monkeypatch):
    # a LibreOffice that writes the first PDF whole and the second cut short
    _fake_soffice(monkeypatch, tmp_path, 'for a; do last="$a"; done\n'
                  'while [ "$1" != "--outdir" ]; do shift; done; dir="$2"\n'
                  'printf "%%PDF-1.4\\n1 0 obj\\n%%%%EOF\\n" > "$dir/a.pdf"\n'
                  'printf "%%PDF-1.4\\n1 0 obj" > "$dir/b.pdf"\n')
    docs = [tmp_path / "a.docx", tmp_path / "b.docx"]
    for d in docs:
        d.write_bytes(b"x")
    out = tmp_path / "out"
    (out).mkdir()
    (out / "a.pdf").write_bytes(b"%PDF-1.4 the previous one\n%%EOF\n")
    with pytest.raises(DocumentError) as info:
        convert.convert_to_pdf(docs, out)
    assert "b.docx" in str(info.value) and "не создал PDF" in str(info.value)
    assert sorted(p.name for p in out.iterdir()) == ["a.pdf"]
    assert (out / "a.pdf").read_bytes() == b"%PDF-1.4 the previous one\n%%EOF\n"  # untouched


def test_a_conversion_folder_left_by_a_killed_run_is_removed(tmp_path, monkeypatch):
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = out / f".convert-{dead.pid}-abc"
    (left / "pdf").mkdir(parents=True)
    (left / "pdf" / "prikaz.pdf").write_bytes(b"%PDF-half")
    _no_soffice(monkeypatch, tmp_path)
    _fake_soffice(monkeypatch, tmp_path, "exit 1\n")
    doc = tmp_path / "prikaz.docx"
    doc.write_bytes(b"x")
    with pytest.raises(DocumentError):
        convert.convert_to_pdf([doc], out)
    assert not left.exists()


# --------------------------------------------------------------------------- a year's site


def _year(tmp_path: Path, *, signed: dict | None = None, drafts: bool = True) -> tuple[Path, Path]:
    """A two-year site (report_data's history) with the documents' drafts and the internal
    files written into reports/<year>/documents/, rendered as the report stage does. Returns
    (site folder, 2026's parameter file)."""
    from pipeline.report import context as report_context
    from pipeline.report import pages

    newest = write_history(tmp_path)
    data = yaml.safe_load(newest.read_text(encoding="utf-8"))
    data["raw_dir"] = str(tmp_path / "raw2026")
    data["signed"] = signed or {}
    newest.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (tmp_path / "raw2026").mkdir(exist_ok=True)
    for path in sorted((tmp_path / "params").glob("*.yaml")):
        params = load_params(path, check_files=False)
        docs = params.reports_dir / site_documents.DOCS_DIR
        if drafts:
            for name, text in DRAFTS.items():
                _docx(docs / f"{name}.docx", text)
        # personal and internal: never published
        _docx(docs / "letters" / "001.docx", ["Директору МБОУ СОШ № 1 Иванову И. И."])
        with zipfile.ZipFile(docs / "letters.zip", "w") as zf:
            zf.writestr("001.docx", b"letter")
        (docs / "measures.xlsx").write_bytes(b"PK internal")
    return tmp_path / "reports", newest


def _render(site_dir: Path, params_file: Path) -> site_documents.Placed:
    """The report stage's last steps for the newest year, then the site index."""
    from pipeline.report import context as report_context
    from pipeline.report import pages

    params = load_params(params_file, check_files=False)
    ctx = report_context.build_context(params)
    pages.write_school_pages(ctx, params.reports_dir)
    pages.write_report_page(ctx, params.reports_dir)
    placed = site_documents.place_documents(params, params.reports_dir)
    site.build_index(site_dir)
    return placed


def _scan(tmp_path: Path, name: str = "prikaz", data: bytes | None = None) -> Path:
    path = tmp_path / "raw2026" / "signed" / f"{name}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if data is not None else sample.signed_scan_pdf("№ 214", dt.date(2026, 6, 20)))
    return path


def _published(site_dir: Path) -> set[str]:
    return {p.as_posix() for p in site.publishable_files(site_dir)}


def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_without_libreoffice_the_site_offers_the_docx_and_says_why(tmp_path, monkeypatch):
    _no_soffice(monkeypatch, tmp_path)
    site_dir, params_file = _year(tmp_path)
    placed = _render(site_dir, params_file)
    assert any("LibreOffice (soffice) не найден" in w and "prikaz.docx" in w for w in placed.warnings)
    assert "LibreOffice" in site_documents.warnings_html(placed)  # the notebook shows it
    assert any("LibreOffice" in w for w in site_documents.run_warnings(load_params(params_file, check_files=False)))
    published = _published(site_dir)
    assert {"2026/documents/prikaz.docx", "2026/documents/spravka.docx", "2026/documents/roadmap.docx",
            "2026/documents/index.html"} <= published
    page = _soup(site_dir / "2026" / "documents" / "index.html")
    assert [a["href"] for a in page.select("a.doc-link")] == ["prikaz.docx", "spravka.docx", "roadmap.docx"]
    assert "DOCX" in page.get_text()
    index = _soup(site_dir / "index.html")
    assert "2026/documents/prikaz.docx" in {a["href"] for a in index.find_all("a", href=True)}
    out = tmp_path / "www"
    site.publish(site_dir, out)
    assert (out / "2026" / "documents" / "prikaz.docx").is_file()
    assert {k: v for k, v in ((str(p), page_problems(p, out)) for p in out.rglob("*.html")) if v} == {}


@needs_soffice
def test_with_libreoffice_the_site_offers_the_pdfs(tmp_path):
    site_dir, params_file = _year(tmp_path)
    placed = _render(site_dir, params_file)
    assert not [w for w in placed.warnings if "LibreOffice" in w]
    published = _published(site_dir)
    for name in DRAFTS:
        assert f"2026/documents/{name}.pdf" in published and f"2026/documents/{name}.docx" not in published
    pages, text = _pdf_text(site_dir / "2026" / "documents" / "prikaz.pdf")
    assert pages == 1 and "ПРИКАЗЫВАЮ:" in text
    marks = [e.mark for e in placed.entries]
    assert marks == ["проект", "проект", "проект"]


def test_report_pdf_is_published_beside_the_drafts(tmp_path, monkeypatch):
    _no_soffice(monkeypatch, tmp_path)
    site_dir, params_file = _year(tmp_path)
    (site_dir / "2026" / "documents" / "report.pdf").write_bytes(b"%PDF-1.7 print version\n%%EOF\n")
    _render(site_dir, params_file)
    assert "2026/documents/report.pdf" in _published(site_dir)


def test_letters_measures_and_results_are_never_published(tmp_path, monkeypatch):
    _no_soffice(monkeypatch, tmp_path)
    site_dir, params_file = _year(tmp_path)
    _render(site_dir, params_file)
    out = tmp_path / "www"
    site.publish(site_dir, out)
    copied = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for name in copied:
        assert "letters" not in name and not name.endswith((".xlsx", ".zip", ".json")) or name == site.MARKER, name
    assert not any("Иванову" in p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*.html"))


def test_a_signed_scan_replaces_the_draft_and_the_report_names_its_number_and_date(tmp_path, monkeypatch):
    _no_soffice(monkeypatch, tmp_path)
    site_dir, params_file = _year(tmp_path, signed={"prikaz": {"number": "№ 214", "date": dt.date(2026, 6, 20)}})
    scan = _scan(tmp_path)
    placed = _render(site_dir, params_file)
    assert not [w for w in placed.warnings if "prikaz" in w and "LibreOffice" not in w]
    published = _published(site_dir)
    assert "2026/documents/signed/prikaz.pdf" in published
    assert "2026/documents/prikaz.docx" not in published and "2026/documents/prikaz.pdf" not in published
    assert "2026/documents/spravka.docx" in published  # the others stay drafts
    assert (site_dir / "2026" / "documents" / "signed" / "prikaz.pdf").read_bytes() == scan.read_bytes()
    docs_page = _soup(site_dir / "2026" / "documents" / "index.html")
    item = docs_page.select_one("li.doc-item.signed")
    assert "подписанный экземпляр" in item.get_text() and "Приказ от 20.06.2026 № 214" in item.get_text()
    assert item.select_one("a")["href"] == "signed/prikaz.pdf"
    report = _soup(site_dir / "2026" / "index.html").find(id="documents")
    assert "Приказ от 20.06.2026 № 214" in report.get_text()
    assert report.find("a", string="Приказ от 20.06.2026 № 214")["href"] == "documents/signed/prikaz.pdf"
    index = _soup(site_dir / "index.html")
    assert any("подписанный экземпляр" in a.get_text() and a["href"] == "2026/documents/signed/prikaz.pdf"
               for a in index.find_all("a", href=True))
    out = tmp_path / "www"
    site.publish(site_dir, out)
    assert (out / "2026" / "documents" / "signed" / "prikaz.pdf").read_bytes() == scan.read_bytes()
    assert {k: v for k, v in ((str(p), page_problems(p, out)) for p in out.rglob("*.html")) if v} == {}
    # the scan withdrawn: the draft is back, the copy gone from the year and from the site
    scan.unlink()
    placed = _render(site_dir, params_file)
    assert any("signed.prikaz" in w and "скана" in w for w in placed.warnings)
    assert not (site_dir / "2026" / "documents" / "signed" / "prikaz.pdf").exists()
    site.publish(site_dir, out)
    assert not (out / "2026" / "documents" / "signed" / "prikaz.pdf").exists()
    assert (out / "2026" / "documents" / "prikaz.docx").is_file()


@pytest.mark.parametrize("fake", [
    b"PK\x03\x04" + b"\0" * 200,                       # a workbook renamed to .pdf
    "<html><script>alert(1)</script></html>".encode(),  # a web page
    b"%PDF-1.4\n1 0 obj << >> endobj\n",               # a PDF cut short
], ids=["xlsx", "html", "truncated"])
def test_a_file_posing_as_the_signed_scan_is_refused(tmp_path, monkeypatch, fake):
    _no_soffice(monkeypatch, tmp_path)
    site_dir, params_file = _year(tmp_path, signed={"prikaz": {"number": "№ 214", "date": dt.date(2026, 6, 20)}})
    path = _scan(tmp_path, data=fake)
    with pytest.raises(DocumentError) as info:
        site_documents.check_scan(path)
    assert str(path) in str(info.value) and ("не PDF" in str(info.value) or "обрезан" in str(info.value))
    placed = _render(site_dir, params_file)
    assert any(str(path) in w and "проект" in w for w in placed.warnings)
    published = _published(site_dir)
    assert "2026/documents/signed/prikaz.pdf" not in published and "2026/documents/prikaz.docx" in published
    assert not (site_dir / "2026" / "documents" / "signed").exists()
    assert "Приказ от 20.06.2026" not in _soup(site_dir / "2026" / "index.html").get_text()


def test_a_scan_too_large_or_a_link_is_refused(tmp_path, monkeypatch):
    big = tmp_path / "big.pdf"
    with open(big, "wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.truncate(site_documents.MAX_SCAN_BYTES + 10)
    with pytest.raises(DocumentError) as info:
        site_documents.check_scan(big)
    assert "слишком большой" in str(info.value)
    link = tmp_path / "link.pdf"
    link.symlink_to(tmp_path / "elsewhere.pdf")
    with pytest.raises(DocumentError) as info:
        site_documents.check_scan(link)
    assert "символическая ссылка" in str(info.value)


def test_scan_and_params_disagreeing_are_warned_about(tmp_path, monkeypatch):
    _no_soffice(monkeypatch, tmp_path)
    site_dir, params_file = _year(tmp_path, signed={"roadmap": {"number": "№ 215", "date": dt.date(2026, 6, 21)}})
    scan = _scan(tmp_path, "prikaz")
    (tmp_path / "raw2026" / "signed" / "приказ.jpg").write_bytes(b"\xff\xd8")
    placed = _render(site_dir, params_file)
    text = "\n".join(placed.warnings)
    # a scan without its number and date: published, the file and the key to add named
    assert str(scan) in text and "signed: {prikaz:" in text and str(params_file) in text
    assert "2026/documents/signed/prikaz.pdf" in _published(site_dir)
    # a number and date without the scan
    assert "signed.roadmap" in text and "roadmap.pdf" in text
    # a file of another name
    assert "приказ.jpg" in text and "не используется" in text


def test_the_signed_block_of_the_params_is_validated(make_params):
    ok = load_params(make_params(signed={"prikaz": {"number": "№ 214", "date": "2026-06-20"}}))
    assert ok.signed["prikaz"].number == "№ 214" and ok.signed["prikaz"].date == dt.date(2026, 6, 20)
    for bad, key in (({"prikas": {"number": "1", "date": "2026-06-20"}}, "signed"),
                     ({"prikaz": {"number": "1", "date": "20.06.2026"}}, "signed.prikaz.date"),
                     ({"prikaz": {"number": " ", "date": "2026-06-20"}}, "signed.prikaz.number"),
                     ({"prikaz": {"date": "2026-06-20"}}, "signed.prikaz.number")):
        with pytest.raises(ParamsError) as info:
            load_params(make_params(signed=bad))
        assert info.value.key == key, (bad, str(info.value))


# --------------------------------------------------------------------------- raw folder and runs


def test_ingest_does_not_read_the_signed_folder_and_only_the_report_depends_on_it(tmp_path, make_params):
    from pipeline.core.contract import STAGE_TABLE
    from pipeline.run.state import stage_inputs
    from pipeline.stages import ingest

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw" / "2026", raw)
    params = load_params(make_params(raw_dir=raw))
    before = {s.name: stage_inputs(params, s, ROOT / "notebooks", "code") for s in STAGE_TABLE}
    _scan_path = raw / "signed" / "prikaz.pdf"
    _scan_path.parent.mkdir()
    _scan_path.write_bytes(sample.signed_scan_pdf("№ 1", dt.date(2026, 6, 20)))
    assert not any(f.name.startswith("signed/") for f in ingest.load_raw(params).files)
    after = {s.name: stage_inputs(params, s, ROOT / "notebooks", "code") for s in STAGE_TABLE}
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["report"]
    assert before["report"]["signed"] != after["report"]["signed"]


def test_the_sample_carries_a_signed_order_for_2025():
    params = load_params(ROOT / "params" / "2025.yaml")
    for year, docs in sample.SIGNED_SAMPLE.items():
        p = load_params(ROOT / "params" / f"{year}.yaml")
        for name, (number, date) in docs.items():
            assert p.signed[name].number == number and p.signed[name].date == date
            path = ROOT / "data" / "raw" / str(year) / "signed" / f"{name}.pdf"
            assert path.read_bytes() == sample.signed_scan_pdf(number, date)  # reproducible
            site_documents.check_scan(path)
            pages, text = _pdf_text(path)
            assert pages == 1 and date.strftime("%d.%m.%Y") in text
    scans, warnings = site_documents.signed_scans(params)
    assert [s.name for s in scans] == ["prikaz"] and warnings == []
    assert site_documents.registrations(params) == ["Приказ от 20.06.2025 № 231"]
    assert load_params(ROOT / "params" / "2026.yaml").signed == {}


@pytest.mark.slow
def test_the_sample_runs_without_libreoffice_and_verify_sees_a_changed_scan(tmp_path):
    from conftest import copy_params_dir
    from pipeline.run import manifest as mf

    params_dir = copy_params_dir(ROOT / "params", tmp_path)
    bin_dir = tmp_path / "bin"  # PATH with git only: no LibreOffice
    bin_dir.mkdir()
    if shutil.which("git"):
        (bin_dir / "git").symlink_to(shutil.which("git"))
    env = {**os.environ, "PATH": str(bin_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--all", "--params-dir", str(params_dir)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=1500)
    assert done.returncode == 0, done.stdout + done.stderr
    site_dir = tmp_path / "reports"
    has_docx = (site_dir / "2026" / "documents" / "prikaz.docx").is_file()  # the documents are written
    assert ("LibreOffice (soffice) не найден" in done.stdout) == has_docx, done.stdout
    published = _published(site_dir)
    assert "2025/documents/signed/prikaz.pdf" in published and "2025/documents/index.html" in published
    assert not any(p.startswith("2026/documents/signed/") for p in published)
    if has_docx:
        assert "2026/documents/prikaz.docx" in published and "2026/documents/prikaz.pdf" not in published
    assert not any("letters" in p or p.endswith((".xlsx", ".zip")) for p in published)
    report = _soup(site_dir / "2025" / "index.html").find(id="documents")
    assert "Приказ от 20.06.2025 № 231" in report.get_text()
    notebook = json.loads((site_dir / "2025" / "audit" / "05_report.ipynb").read_text(encoding="utf-8"))
    assert any("place_documents" in "".join(c["source"]) for c in notebook["cells"])
    # the published scan is in the manifest: changed after the run, it is found
    params = load_params(params_dir / "2025.yaml")
    manifest = mf.read(params)
    key = "reports_dir/documents/signed/prikaz.pdf"
    assert key in manifest["outputs"]
    assert any(r["file"] == "signed/prikaz.pdf" and r["status"] == "signed" for r in manifest["raw_files"])
    with open(site_dir / "2025" / "documents" / "signed" / "prikaz.pdf", "ab") as fh:
        fh.write(b"%tampered")
    assert mf.on_disk(params, manifest["outputs"])["differ"] == [key]


_COUNTING_SOFFICE = """echo call >> "$CALLS"
out=""; next=""
for a in "$@"; do
  if [ "$next" = 1 ]; then out="$a"; next=""; continue; fi
  case "$a" in --outdir) next=1 ;; *.docx) n=$(basename "$a" .docx); printf '%%PDF-1.4\\n%%%%EOF\\n' > "$out/$n.pdf" ;; esac
done
"""


def test_small_documents_are_converted_by_one_call_large_ones_by_one_per_core(tmp_path, monkeypatch):
    """LibreOffice's start costs more than converting a municipality's documents: one call for
    them; documents of large text (a region's roadmap) get a call per core, at once."""
    _fake_soffice(monkeypatch, tmp_path, _COUNTING_SOFFICE)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("CALLS", str(calls))
    monkeypatch.setattr(convert, "cores", lambda: 2)
    docs = [_docx(tmp_path / "in" / f"{name}.docx", DRAFTS[name]) for name in ("prikaz", "spravka")]
    assert convert.convert_to_pdf(docs, tmp_path / "out") == [tmp_path / "out" / "prikaz.pdf", tmp_path / "out" / "spravka.pdf"]
    assert calls.read_text().split() == ["call"]
    calls.unlink()
    monkeypatch.setattr(convert, "PARALLEL_FROM_XML", 1000)   # as if their text were a region's
    convert.convert_to_pdf(docs, tmp_path / "out")
    assert calls.read_text().split() == ["call", "call"]
    calls.unlink()
    convert.convert_to_pdf(docs, tmp_path / "out", parallel=False)
    assert calls.read_text().split() == ["call"]
