"""The Word documents of a year (pipeline/report/documents): the справка, the draft order, the
roadmap and the letters to schools, opened with python-docx and checked against the
parameters, decisions.csv and roadmap.csv; no name from a form in any of them; the letters'
archive equals the letters; LibreOffice converts each to a PDF whose pages and text are
checked (skipped with the reason where soffice is missing).

Fast tests build the documents from the synthetic two years of tests/report_data.py (with a
hand-written roadmap and a registry naming the heads); the slow ones share one run of the
sample's 2025 and 2026 with a distinctive «Ответственный» written into a form."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from docx import Document
from docx.oxml.ns import qn

from pipeline import cli
from pipeline.config.params import load_params, split_person
from pipeline.core.contract import DOCUMENTS, STAGE_TABLE
from pipeline.core.errors import ParamsError
from pipeline.io.storage import read_table, write_tables
from pipeline.report import context as report_context
from pipeline.report.documents import base, letters, prikaz, roadmap, spravka, write_documents
from report_data import RESPONSIBLE, write_history

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice")
SMALL = "008"             # 4 teachers in tests/report_data.py: a hidden total
FORM_NAME = "Пантелеймонова Евдокия Тимофеевна"   # the slow run's distinctive «Ответственный»


# ---------------------------------------------------------------------------- reading a document


def all_text(path: Path) -> str:
    """Every text of a DOCX: paragraphs, tables (nested too), headers and footers."""
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    for sec in doc.sections:
        for hf in (sec.header, sec.first_page_header, sec.footer):
            parts.extend(p.text for p in hf.paragraphs)
    return "\n".join(parts)


def docx_problems(path: Path) -> list[str]:
    """What no document may have: a table of a header row only, «0 из 0», an unreadable file."""
    doc = Document(str(path))
    out = [f"{path.name}: таблица без строк ({' | '.join(c.text for c in t.rows[0].cells)})"
           for t in doc.tables if len(t.rows) < 2 and any(c.text for c in t.rows[0].cells) and t.style.name == "Table Grid"]
    text = all_text(path)
    if re.search(r"(?<![\d,])0 из 0(?![\d,])", text):
        out.append(f"{path.name}: «0 из 0»")
    return out


def has_page_field_from_page_two(path: Path) -> bool:
    """A PAGE field in the header, the first page without one (ГОСТ: from the second page)."""
    doc = Document(str(path))
    sec = doc.sections[0]
    xml = sec.header._element.xml
    return sec.different_first_page_header_footer and "PAGE" in xml and "PAGE" not in sec.first_page_header._element.xml


def repeated_header_rows(path: Path) -> list[bool]:
    """For each grid table: its first row repeats on every page and no row may split."""
    doc = Document(str(path))
    out = []
    for t in doc.tables:
        if t.style.name != "Table Grid":
            continue
        first = t.rows[0]._tr.trPr
        out.append(first is not None and first.find(qn("w:tblHeader")) is not None
                   and first.find(qn("w:cantSplit")) is not None)
    return out


def check_requisites(text: str, params) -> None:
    """The requisites the parameters give are in a document's text."""
    hd = params.header
    assert hd.organization in text
    assert hd.approver_name in text and hd.approver_position in text


# ---------------------------------------------------------------------------- fast: synthetic years


def _roadmap_rows(processed: Path) -> pd.DataFrame:
    """A roadmap.csv of the contract, from the synthetic decisions: each seminar and each
    visited school one row with its own month."""
    dec = read_table(processed, "decisions.csv")
    rows, n = [], 0
    months = ["2026-09", "2026-10", "2026-11", "2026-12"]
    words = {"2026-09": "сентябрь 2026", "2026-10": "октябрь 2026", "2026-11": "ноябрь 2026", "2026-12": "декабрь 2026"}
    for r in dec.itertuples():
        kind = str(r.kind)
        codes = [c for c in str(r.schools).split(";") if c and c != "nan"] if kind == "visit" else [""]
        if kind not in ("seminar", "visit", "measure"):
            continue
        for code in codes:
            month = months[n % len(months)]
            n += 1
            rows.append({"decision_id": r.decision_id, "number": str(n), "kind": kind,
                         "title": f"Тема {n}: {r.topic}" if kind != "visit" else f"Методический выезд в ОО (код {code})",
                         "due_month": month, "due": words[month], "indicator": "проведено, протокол",
                         "executors": str(r.responsible), "school_code": code})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """The synthetic 2026 with a roadmap, a registry naming the heads, and its documents."""
    folder = tmp_path_factory.mktemp("docs")
    params_file = write_history(folder)
    processed = folder / "processed" / "2026"
    write_tables(processed, {"roadmap.csv": _roadmap_rows(processed)})
    prof = read_table(processed, "profile.csv")
    heads = {c: f"Директорова{i:02d} А. Б." for i, c in enumerate(prof["school_code"])}
    reg = pd.DataFrame({"code": prof["school_code"], "name": prof["school_name"], "type": prof["school_type"],
                        "head": [heads[c] for c in prof["school_code"]]})
    reg.to_csv(folder / "raw" / "registry.csv", index=False)
    params = load_params(params_file, check_files=False)
    ctx = report_context.build_context(params)
    written = write_documents(ctx, folder / "out")
    return {"folder": folder, "params": params, "ctx": ctx, "written": written, "heads": heads,
            "docs": folder / "out" / "documents", "processed": processed}


def test_every_document_is_written_and_listed_in_the_stage(synthetic):
    docs = synthetic["docs"]
    for name in DOCUMENTS:
        assert (docs.parent / name).is_file(), name
    report = next(s for s in STAGE_TABLE if s.name == "report")
    assert set(DOCUMENTS) <= set(report.outputs)
    assert {f"documents/{m.FILE}" for m in (spravka, prikaz, roadmap)} | {f"documents/{letters.ARCHIVE}"} == set(DOCUMENTS)


def test_spravka_carries_the_requisites_of_the_params(synthetic):
    p, path = synthetic["params"], synthetic["docs"] / spravka.FILE
    text = all_text(path)
    check_requisites(text, p)
    doc = Document(str(path))
    first = [x.text for x in doc.paragraphs[:12]]
    assert first[0] == "УТВЕРЖДАЮ" and p.header.approver_position in first[1]
    assert f"__________ {p.header.approver_name}" in first[2] and first[3] == f"{p.header.order_date:%d.%m.%Y}"
    assert spravka.KIND in first
    assert f"{p.documents.spravka_date:%d.%m.%Y}" in text and f"№ {p.documents.spravka_number}" in text
    assert p.documents.place in first
    assert spravka.title_text(synthetic["ctx"]) in first
    # the report's sections, with their tables and charts
    for heading in ("1. Цели мониторинга", "5. Анализ", "6. Адресные рекомендации", "9. Анализ эффективности принятых мер"):
        assert heading in [x.text for x in doc.paragraphs], heading
    assert len(doc.inline_shapes) >= 4 and len(doc.tables) >= 10
    # executor mark at the end: each executor's name and phone
    tail = "\n".join(x.text for x in doc.paragraphs[-6:])
    for who, phone in zip(p.header.executors, p.documents.executor_phones):
        assert split_person(who)[1] in tail and phone in tail
    assert has_page_field_from_page_two(path)
    assert all(repeated_header_rows(path))
    margins = doc.sections[0]
    assert round(margins.left_margin.mm) == 20 and round(margins.right_margin.mm) == 10


def test_the_order_lists_every_measure_of_the_roadmap_with_its_month(synthetic):
    p, path = synthetic["params"], synthetic["docs"] / prikaz.FILE
    text = all_text(path)
    check_requisites(text, p)
    assert "П Р И К А З" in text and "ПРИКАЗЫВАЮ:" in text
    assert p.header.order_number in text and f"{p.header.order_date:%d.%m.%Y}" in text
    assert prikaz.order_title(synthetic["ctx"]) in text
    assert p.documents.basis in text
    assert f"Контроль за исполнением настоящего приказа возложить на {p.documents.control_by}." in text
    assert f"до {p.documents.report_back_by:%d.%m.%Y}" in text
    rm = read_table(synthetic["processed"], "roadmap.csv")
    names = dict(zip(synthetic["ctx"].data["profile.csv"]["school_code"], synthetic["ctx"].data["profile.csv"]["school_name"]))
    lines = [x.text for x in Document(str(path)).paragraphs]
    for r in rm.itertuples():
        what = r.title if r.kind != "visit" else names[r.school_code]
        line = [x for x in lines if what in x]
        assert line and r.due in line[0], (what, r.due)
    # numbered 1, 2, 3 … without a gap; sub-items n.1, n.2 …
    numbers = [int(m.group(1)) for x in lines if (m := re.match(r"^(\d+)\. ", x))]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6
    seminars = rm[rm["kind"] == "seminar"]
    sem_item = next(i for i, x in enumerate(lines) if x.startswith(tuple(f"{n}. Провести муниципальные семинары" for n in numbers)))
    n = lines[sem_item].split(".")[0]
    assert [x for x in lines if x.startswith(f"{n}.") and x != lines[sem_item]] == [
        x for x in lines if any(t in x for t in seminars["title"])]


def test_the_order_without_a_control_person_keeps_control(synthetic, tmp_path):
    p = synthetic["params"]
    ctx = synthetic["ctx"]
    bare = p.model_copy(update={"documents": p.documents.model_copy(update={"control_by": None, "spravka_number": None})})
    other = report_context.ReportContext(bare, ctx.methodology, ctx.data, ctx.history)
    text = all_text(prikaz.write(other, tmp_path))
    assert "Контроль за исполнением настоящего приказа оставляю за собой." in text
    assert f"№ {base.BLANK_NUMBER}" in all_text(spravka.write(other, tmp_path))


def test_roadmap_has_seed_004s_columns_and_a_row_per_measure(synthetic):
    path = synthetic["docs"] / roadmap.FILE
    doc = Document(str(path))
    grid = [t for t in doc.tables if t.style.name == "Table Grid"]
    assert len(grid) == 1
    table = grid[0]
    assert tuple(c.text for c in table.rows[0].cells) == roadmap.HEADERS
    rm = read_table(synthetic["processed"], "roadmap.csv")
    body = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert len(body) == len(rm)
    for cells, r in zip(body, rm.itertuples()):
        assert cells[0] == f"{r.number}." and r.title in cells[1] and cells[2] == r.due and cells[4] == r.executors
    assert all(repeated_header_rows(path))
    sec = doc.sections[0]
    assert sec.page_width > sec.page_height   # landscape
    check_requisites(all_text(path), synthetic["params"])


def test_one_letter_per_scored_school_with_its_head_from_the_registry(synthetic):
    ctx, docs = synthetic["ctx"], synthetic["docs"]
    sc = ctx.data["scores.csv"]
    scored = sorted(c for c, s in zip(sc["school_code"], sc["submitted"]) if s)
    assert 0 < len(scored) < len(sc)   # some school of the synthetic year has no form
    files = sorted(p.name for p in (docs / letters.FOLDER).glob("*.docx"))
    assert files == [f"{c}.docx" for c in scored]
    p = synthetic["params"]
    for code in scored:
        text = all_text(docs / letters.FOLDER / f"{code}.docx")
        assert synthetic["heads"][code] in text
        assert f"код {code}" in text
        assert p.header.approver_name in text and "Адресные рекомендации" in text
        for pr, day in p.documents.deadlines.items():
            if f"\n{pr}\n" in text:
                assert f"до {day:%d.%m.%Y}" in text
    # a head the registry does not name is not invented
    others = set(synthetic["heads"]) - set(scored)
    for code in others:
        assert not any(synthetic["heads"][code] in all_text(f) for f in (docs / letters.FOLDER).glob("*.docx"))


def test_the_letter_of_a_small_group_hides_its_total_and_place(synthetic):
    ctx, docs = synthetic["ctx"], synthetic["docs"]
    sc = ctx.data["scores.csv"].set_index("school_code")
    assert bool(sc.loc[SMALL, "submitted"])
    doc = Document(str(docs / letters.FOLDER / f"{SMALL}.docx"))
    results = next(t for t in doc.tables if t.rows[0].cells[0].text == "Показатель")
    values = {r.cells[0].text: r.cells[1].text for r in results.rows[1:]}
    assert values["Итоговый балл"] == "н/д (менее 5)"
    place = next(v for k, v in values.items() if k.startswith("Место в кластере"))
    assert place == "н/д (менее 5)"
    # a shown school's place counts the shown schools only
    shown = next(c for c in sc.index if sc.loc[c, "submitted"] and c != SMALL and sc.loc[c, "cluster"] == sc.loc[SMALL, "cluster"])
    doc = Document(str(docs / letters.FOLDER / f"{shown}.docx"))
    results = next(t for t in doc.tables if t.rows[0].cells[0].text == "Показатель")
    place = next(r.cells[1].text for r in results.rows[1:] if r.cells[0].text.startswith("Место в кластере"))
    cluster = sc[(sc["cluster"] == sc.loc[SMALL, "cluster"]) & sc["rank_in_cluster"].notna()]
    assert place.endswith(f"из {len(cluster) - 1}")


def test_no_name_from_a_form_in_any_document(synthetic):
    assert RESPONSIBLE in set(synthetic["ctx"].data["profile.csv"]["responsible"])
    for path in sorted(synthetic["docs"].rglob("*.docx")):
        text = all_text(path)
        assert RESPONSIBLE not in text and RESPONSIBLE.split()[0] not in text, path.name


def test_letters_zip_is_the_letters_and_is_reproducible(synthetic, tmp_path):
    docs = synthetic["docs"]
    with zipfile.ZipFile(docs / letters.ARCHIVE) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert {n: zf.read(n) for n in names} == {p.name: p.read_bytes() for p in (docs / letters.FOLDER).glob("*.docx")}
        assert {i.date_time for i in zf.infolist()} == {base.stamp_of(synthetic["params"]).timetuple()[:6]}
    again = write_documents(synthetic["ctx"], tmp_path)
    for path in again:
        assert path.read_bytes() == (docs.parent / path.relative_to(tmp_path)).read_bytes(), path.name


def test_a_letter_of_a_school_without_a_result_is_removed(synthetic, tmp_path):
    stale = tmp_path / "documents" / letters.FOLDER / "9999.docx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    write_documents(synthetic["ctx"], tmp_path)
    assert not stale.exists()


def test_no_document_has_an_empty_table_or_zero_of_zero(synthetic):
    problems = [p for path in sorted(synthetic["docs"].rglob("*.docx")) for p in docx_problems(path)]
    assert not problems


# ---------------------------------------------------------------------------- the parameters


def _params_with(tmp_path, **documents) -> Path:
    data = yaml.safe_load((ROOT / "params" / "2026.yaml").read_text(encoding="utf-8"))
    data.update(raw_dir=str(ROOT / "data" / "raw" / "2026"), methodology=str(ROOT / "methodology" / "default.yaml"),
                previous_params=None)
    for k, v in documents.items():
        if k == "approved_by":
            data["header"]["approved_by"] = v
        else:
            data["documents"][k] = v
    path = tmp_path / "2026.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, key, words", [
    ({"approved_by": "Начальник управления"}, "header.approved_by", "Должность И. О. Фамилия"),
    ({"executor_phones": ["1", "2", "3"]}, None, "по одному телефону на исполнителя"),
    ({"report_back_by": "2026-06-01"}, None, "не позже даты приказа"),
    ({"deadlines": {"высокий": "2026-05-01"}}, None, "documents.deadlines.высокий"),
    ({"deadlines": {"срочный": "2026-12-01"}}, "documents.deadlines", ""),
    ({"place": 5}, "documents.place", ""),
])
def test_the_documents_block_is_validated_in_russian(tmp_path, change, key, words):
    with pytest.raises(ParamsError) as err:
        load_params(_params_with(tmp_path, **change))
    message = str(err.value)
    assert words in message
    if key:
        assert key in message


def test_the_signatory_is_split_from_approved_by():
    assert split_person("Начальник управления образования Л. В. Семенова") == ("Начальник управления образования", "Л. В. Семенова")
    assert split_person("Директор Иванов И.И.") == ("Директор", "Иванов И.И.")
    assert split_person("Л. В. Семенова")[0] == ""
    for path in list((ROOT / "params").glob("*.yaml")) + list((ROOT / "params" / "examples").glob("*/*.yaml")):
        p = load_params(path, check_files=False)
        assert p.header.approver_position and p.header.approver_name, path
        assert p.documents.place and p.documents.report_back_by and len(p.documents.executor_phones) == len(p.header.executors)


# ---------------------------------------------------------------------------- slow: the sample run


def _set_responsible(form: Path, name: str) -> None:
    wb = openpyxl.load_workbook(form)
    ws = wb["Сведения"]
    for row in ws.iter_rows():
        if row[0].value and str(row[0].value).strip().startswith("Ответственный"):
            row[1].value = name
            break
    else:
        raise AssertionError(f"no «Ответственный» in {form}")
    wb.save(form)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """The sample's 2025 and 2026 run in a temporary folder, with the heads in 2026's registry
    and a distinctive «Ответственный» in one accepted 2026 form."""
    root = tmp_path_factory.mktemp("sample_docs")
    (root / "params").mkdir()
    for year in (2025, 2026):
        shutil.copytree(ROOT / "data" / "raw" / str(year), root / "raw" / str(year))
        data = yaml.safe_load((ROOT / "params" / f"{year}.yaml").read_text(encoding="utf-8"))
        data.update(raw_dir=str(root / "raw" / str(year)), processed_dir=str(root / "processed" / str(year)),
                    reports_dir=str(root / "reports" / str(year)), methodology=str(ROOT / "methodology" / "default.yaml"),
                    previous_params=None if year == 2025 else "2025.yaml")
        (root / "params" / f"{year}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    raw = root / "raw" / "2026"
    reg = pd.read_csv(raw / "registry.csv", dtype=str)
    reg["head"] = [f"Руководителева{i:02d} В. Г." for i in range(len(reg))]
    reg.to_csv(raw / "registry.csv", index=False)
    form = raw / "0103_самооценка_2026.xlsx"
    _set_responsible(form, FORM_NAME)
    assert cli.main(["run", "--all", "--params-dir", str(root / "params"), "--quiet"]) == 0
    params = load_params(root / "params" / "2026.yaml")
    return {"params": params, "docs": params.reports_dir / "documents", "processed": Path(params.processed_dir),
            "registry": reg}


@pytest.mark.slow
def test_the_sample_run_writes_the_documents_from_its_data(sample_run):
    p, docs, processed = sample_run["params"], sample_run["docs"], sample_run["processed"]
    for name in DOCUMENTS:
        assert (p.reports_dir / name).is_file()
    prof = read_table(processed, "profile.csv")
    assert FORM_NAME in set(prof["responsible"])        # the form was read, its name is in the data
    form_names = {n.split(",")[0].strip() for n in prof["responsible"].dropna() if n.strip()}
    texts = {path: all_text(path) for path in sorted(docs.rglob("*.docx"))}
    for path, text in texts.items():
        assert FORM_NAME not in text and "Пантелеймонова" not in text, path.name
        assert not [n for n in form_names if n in text], path.name
        assert not docx_problems(path)
    # the order: every seminar topic and every visited school with its month
    order = texts[docs / prikaz.FILE]
    rm = read_table(processed, "roadmap.csv")
    dec = read_table(processed, "decisions.csv")
    assert set(rm["decision_id"]) <= set(dec["decision_id"])
    names = dict(zip(prof["school_code"], prof["school_name"]))
    lines = order.split("\n")
    for r in rm.itertuples():
        what = r.title if r.kind != "visit" else names[r.school_code]
        assert any(what in x and str(r.due) in x for x in lines), (what, r.due)
    for r in dec[dec["kind"] == "visit"].itertuples():
        for code in str(r.schools).split(";"):
            assert names[code] in order
    # the letters: one per school with a result, the head as the registry names him
    sc = read_table(processed, "scores.csv")
    scored = sorted(c for c, s in zip(sc["school_code"], sc["submitted"]) if str(s) == "True")
    assert sorted(x.stem for x in (docs / letters.FOLDER).glob("*.docx")) == scored
    heads = dict(zip(sample_run["registry"]["code"], sample_run["registry"]["head"]))
    for code in scored:
        assert heads[code] in texts[docs / letters.FOLDER / f"{code}.docx"]
    with zipfile.ZipFile(docs / letters.ARCHIVE) as zf:
        assert sorted(zf.namelist()) == [f"{c}.docx" for c in scored]
        for n in zf.namelist():
            assert zf.read(n) == (docs / letters.FOLDER / n).read_bytes()
    # the manifest lists the documents the stage always writes
    manifest = (p.reports_dir / "manifest.json").read_text(encoding="utf-8")
    for name in DOCUMENTS:
        assert name in manifest


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен: sudo apt-get install libreoffice-writer "
                                            "(make system); проверка DOCX → PDF пропущена")
def test_libreoffice_converts_every_document_to_pdf(sample_run, tmp_path):
    from pypdf import PdfReader

    p, docs = sample_run["params"], sample_run["docs"]
    first = sorted((docs / letters.FOLDER).glob("*.docx"))[0]
    sources = [docs / spravka.FILE, docs / prikaz.FILE, docs / roadmap.FILE, first]
    out = tmp_path / "pdf"
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, sources)], check=True, capture_output=True, timeout=600)
    pages = {}
    for src in sources:
        reader = PdfReader(str(out / f"{src.stem}.pdf"))
        text = " ".join(" ".join((pg.extract_text() or "").split()) for pg in reader.pages)
        pages[src.name] = (len(reader.pages), text)
        assert p.header.approver_name.split()[-1] in text, src.name   # Cyrillic came through as text
        # no empty page: every page has text
        assert all((pg.extract_text() or "").strip() for pg in reader.pages), src.name
    n, text = pages[spravka.FILE]
    assert 10 <= n <= 60 and "АНАЛИТИЧЕСКАЯ СПРАВКА" in text and "УТВЕРЖДАЮ" in text
    assert "Анализ эффективности принятых мер" in text and p.header.organization in text
    assert re.search(r"\b2\b", (PdfReader(str(out / "spravka.pdf")).pages[1].extract_text() or "")[:40])  # page number on page 2
    n, text = pages[prikaz.FILE]
    assert 1 <= n <= 6 and "ПРИКАЗЫВАЮ" in text and "Контроль за исполнением" in text
    n, text = pages[roadmap.FILE]
    assert n >= 1 and "Наименование мероприятия" in text and "Индикативные показатели" in text
    n, text = pages[first.name]
    assert 1 <= n <= 10 and "Адресные рекомендации" in text




def test_letters_written_by_forked_processes_are_the_same(synthetic, tmp_path, monkeypatch):
    """Many letters are written by a pool of forked processes: the same files and archive."""
    monkeypatch.setattr(letters, "PARALLEL_FROM", 2)
    forked = letters.write(synthetic["ctx"], tmp_path)
    here = synthetic["docs"]
    assert [p.name for p in forked] == sorted(p.name for p in (here / letters.FOLDER).glob("*.docx")) + [letters.ARCHIVE]
    for path in forked:
        assert path.read_bytes() == (here / path.relative_to(tmp_path)).read_bytes(), path.name
