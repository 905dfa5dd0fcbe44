"""The documents at a region's scale (issue 22), exercised on the synthetic year with a low
`documents.max_rows`: the справка replaces a long table by a notice naming where the full list
is, the order names the visits by reference to the roadmap, the roadmap keeps every row (in
parts of base.ROWS_PER_TABLE rows); the letters written by the fast path say exactly what a
python-docx document of the same letter says, are small, and their archive is reproducible.
LibreOffice converts the bounded documents (skipped with the reason where soffice is missing)."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn

from pipeline.report import convert, excel
from pipeline.report.documents import base, fromhtml, letters, prikaz, roadmap, spravka, write_documents
from test_documents import all_text, synthetic  # noqa: F401  (the module's fixture)

SOFFICE = shutil.which("soffice")
LOW = 2   # rows: below the synthetic year's rankings, heat map and visits


def bounded(ctx, max_rows: int = LOW):
    """The context with documents.max_rows set (a fresh cache)."""
    p = ctx.params
    params = p.model_copy(update={"documents": p.documents.model_copy(update={"max_rows": max_rows})})
    return dataclasses.replace(ctx, params=params, cache={})


def with_visits(ctx):
    """The context with a roadmap of a seminar and a visit to every school (a region's plan in
    small: more visits than LOW)."""
    codes = sorted(str(c) for c in ctx.data["profile.csv"]["school_code"])
    rows = [{"decision_id": "seminar:K1", "number": "1", "kind": "seminar", "title": "Семинар по критерию К1",
             "due_month": "2026-10", "due": "октябрь 2026", "indicator": "проведён, протокол",
             "executors": "Методисты ИМЦ", "school_code": ""}]
    rows += [{"decision_id": f"visit:{c}", "number": str(i), "kind": "visit", "title": f"Методический выезд в ОО (код {c})",
              "due_month": "2026-11", "due": "ноябрь 2026", "indicator": "проведён, справка", "executors": "Специалист УО",
              "school_code": c} for i, c in enumerate(codes, start=2)]
    data = dataclasses.replace(ctx.data, tables={**ctx.data.tables, "roadmap.csv": pd.DataFrame(rows)})
    return dataclasses.replace(ctx, data=data, cache={})


CARDS = ["Показатель", "Значение", "Пояснение"]   # the key figures (fromhtml.Writer.cards): not a list of schools


def grid_tables(doc, cards: bool = True) -> list:
    return [t for t in doc.tables if t.style is not None and t.style.name == "Table Grid"
            and (cards or [c.text for c in t.rows[0].cells] != CARDS)]


def body_rows(path: Path) -> list[list[str]]:
    """The rows of every grid table after its header row, in order."""
    out = []
    for t in grid_tables(Document(str(path))):
        out += [[c.text for c in r.cells] for r in t.rows[1:]]
    return out


# --------------------------------------------------------------------------- the справка


def test_long_tables_of_the_spravka_become_a_notice_naming_the_sheet(synthetic, tmp_path):
    full = Document(str(spravka.write(synthetic["ctx"], tmp_path / "full")))
    path = spravka.write(bounded(synthetic["ctx"]), tmp_path / "low")
    doc = Document(str(path))
    assert max(len(t.rows) for t in grid_tables(full, False)) > LOW + 1   # the full справка has long tables
    assert all(len(t.rows) <= LOW + 1 for t in grid_tables(doc, False))   # header + at most LOW rows
    notices = [p.text for p in doc.paragraphs if p.text.startswith("Таблица ") and "не включена" in p.text]
    assert len(notices) == sum(len(t.rows) > LOW + 1 for t in grid_tables(full, False))
    sheets = {s.name for s in excel.SHEETS}
    for text in notices:
        assert "results.xlsx" in text and "на сайте" in text
        named = re.search(r"лист «([^»]+)»", text)
        assert named is None or named.group(1) in sheets
    assert any("лист «Результаты»" in t for t in notices)   # the ranking's sheet
    # the requisites and the text around the tables stay
    assert "АНАЛИТИЧЕСКАЯ СПРАВКА" in all_text(path)


def test_sheet_rules_name_sheets_of_results_xlsx():
    sheets = {s.name for s in excel.SHEETS}
    assert {name for name, _ in fromhtml.SHEET_RULES} <= sheets
    assert fromhtml.sheet_for(["ОО", "Высокий приоритет", "Средний приоритет"]) == "Рекомендации"
    assert fromhtml.sheet_for(["ОО", "Основание"]) == "Решения"
    assert fromhtml.sheet_for(["Что-то", "Иное"]) is None


def test_a_long_table_with_links_is_cut_before_parsing_and_links_are_text():
    rows = "".join(f'<tr><td><a href="schools/{i}.html">Школа {i}</a></td><td class="num">{i}</td></tr>'
                   for i in range(5))
    html = (f'<section><h3>Рейтинг кластера</h3><p>См. <a href="clusters/a.html">страницу кластера «А»</a>.</p>'
            f'<div class="table-wrap"><table class="data"><caption>Рейтинг «А»</caption><thead><tr><th>ОО</th>'
            f'<th class="num">Место</th></tr></thead><tbody>{rows}</tbody></table></div></section>')
    assert fromhtml.cut_long_tables(html, 5) == html
    cut = fromhtml.cut_long_tables(html, 4)
    assert "Школа 3" not in cut and 'data-rows="5"' in cut
    body = base.Body(10_000_000)
    fromhtml.write_html(body, html, 4)
    xml = body.xml()
    assert "<w:tbl" not in xml and "href" not in xml
    assert "страницу кластера «А»" in xml
    assert "Таблица «Рейтинг «А»» (5 строк) в справку не включена" in xml and "лист «Результаты»" in xml
    body = base.Body(10_000_000)
    fromhtml.write_html(body, html, 5)
    assert body.xml().count("<w:tr>") == 6 and "Школа 4" in body.xml()


def test_a_list_of_schools_in_one_cell_or_paragraph_is_cut_to_the_bound():
    names = ", ".join(f"МБОУ СОШ № {i}" for i in range(1, 8))
    html = (f"<section><p>Выезды: {names}.</p><div class=\"table-wrap\"><table class=\"data\"><thead><tr><th>Тема</th>"
            f"<th>ОО</th></tr></thead><tbody><tr><td>К1</td><td>{names}</td></tr></tbody></table></div></section>")
    body = base.Body(10_000_000)
    fromhtml.write_html(body, html, 3)
    xml = body.xml()
    assert xml.count("МБОУ СОШ № 3,") == 2 and "МБОУ СОШ № 4" not in xml
    assert xml.count("(всего 7; полный перечень — в файле результатов results.xlsx") == 2
    body = base.Body(10_000_000)
    fromhtml.write_html(body, html, 7)
    assert body.xml().count("МБОУ СОШ № 7") == 2 and "всего" not in body.xml()


# --------------------------------------------------------------------------- order and roadmap


def test_the_order_names_the_visits_by_reference_to_the_roadmap(synthetic, tmp_path):
    ctx = with_visits(synthetic["ctx"])
    rm = roadmap.rows(ctx)
    visits = [r for r in prikaz.roadmap(ctx).itertuples() if r.kind == "visit"]
    assert len(visits) > LOW
    full = all_text(prikaz.write(ctx, tmp_path / "full"))
    low = all_text(prikaz.write(bounded(ctx), tmp_path / "low"))
    assert all(v.school_name in full for v in visits)
    assert "согласно приложению 2" not in full
    assert f"— {len(visits)} организаци" in low and "согласно приложению 2 к настоящему приказу" in low
    numbers = sorted(int(v.number) for v in visits)
    assert f"пункты {numbers[0]}" in low
    assert not any(re.search(rf"\d+\.\d+\. {re.escape(v.school_name)} — срок", low) for v in visits)
    # the roadmap, the order's appendix, keeps every visit whatever the bound
    path = roadmap.write(bounded(ctx), tmp_path / "low")
    assert body_rows(path) == [[c.replace("\n", "") for c in r] for r in rm]


def test_many_requests_for_forms_are_one_item_of_the_order(synthetic, tmp_path):
    ctx = synthetic["ctx"]
    dec = ctx.data["decisions.csv"]
    codes = sorted(str(c) for c in ctx.data["profile.csv"]["school_code"])[:LOW + 1]
    req = pd.DataFrame([{**{c: "" for c in dec.columns}, "decision_id": f"request:{c}", "kind": "request",
                         "schools": c, "due": "сентябрь 2026"} for c in codes])
    data = dataclasses.replace(ctx.data, tables={**ctx.data.tables, "decisions.csv": pd.concat([dec, req])})
    names = dict(zip(ctx.data["profile.csv"]["school_code"].astype(str), ctx.data["profile.csv"]["school_name"]))
    full = [t for t, _ in prikaz.items(dataclasses.replace(ctx, data=data, cache={})) if "не представившим" in t]
    low = [t for t, _ in prikaz.items(bounded(dataclasses.replace(ctx, data=data, cache={}))) if "не представившим" in t]
    assert len(full) >= len(codes) and all(any(names[c] in t for t in full) for c in codes)
    assert len(low) == 1 and re.search(r"\(\d+ организаци", low[0])
    assert "лист «Решения»" in low[0] and not any(names[c] in low[0] for c in codes)


def test_a_long_table_is_written_in_parts_each_with_its_header(synthetic, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "ROWS_PER_TABLE", 3)
    ctx = with_visits(synthetic["ctx"])
    rm = roadmap.rows(ctx)
    assert len(rm) > 6
    path = roadmap.write(ctx, tmp_path)
    tables = grid_tables(Document(str(path)))
    assert len(tables) == -(-len(rm) // 3)
    assert all(len(t.rows) <= 4 for t in tables)
    for t in tables:   # each part starts with the header row, repeated on every page
        assert [c.text for c in t.rows[0].cells] == list(roadmap.HEADERS)
        assert t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert body_rows(path) == [[c.replace("\n", "") for c in r] for r in rm]


# --------------------------------------------------------------------------- letters


def _texts(doc) -> list[str]:
    """Paragraph and table-cell texts of a document's body, in order."""
    out = []
    for el in doc.element.body.iterchildren():
        if el.tag == qn("w:p"):
            out.append("".join(t.text or "" for t in el.iter(qn("w:t"))))
        elif el.tag == qn("w:tbl"):
            out += ["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in el.iter(qn("w:tc"))]
    return out


def test_a_letter_says_what_the_same_letter_made_with_python_docx_says(synthetic):
    ctx = synthetic["ctx"]
    docs = synthetic["docs"]
    heads = letters.heads(ctx)
    codes = letters.scored(ctx)
    assert len(codes) > 3
    for code in codes:
        slow = base.new_document()
        letters.build(ctx, code, heads.get(code, ""), slow)
        fast = Document(str(docs / letters.FOLDER / letters.letter_name(code)))
        assert _texts(fast) == _texts(slow)
        assert heads[code] in _texts(fast)


def test_letters_are_small_and_every_style_they_name_is_defined(synthetic):
    docs = synthetic["docs"]
    for path in sorted((docs / letters.FOLDER).glob("*.docx")):
        assert path.stat().st_size < 20_000, path.name
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
            names = set(zf.namelist())
            assert not any(n.startswith("customXml/") or n.endswith(("stylesWithEffects.xml", "thumbnail.jpeg"))
                           for n in names)
            used = set(re.findall(r'w:(?:pStyle|tblStyle|rStyle) w:val="([^"]+)"',
                                  zf.read("word/document.xml").decode() + zf.read("word/header1.xml").decode()))
            styles = zf.read("word/styles.xml").decode()
            defined = set(re.findall(r'w:styleId="([^"]+)"', styles))
            assert used and used <= defined
            rels = zf.read("word/_rels/document.xml.rels").decode() + zf.read("_rels/.rels").decode()
            for target in re.findall(r'Target="([^"]+)"', rels):   # every part a relationship names is there
                assert any(n.endswith(target.lstrip("./")) for n in names), target
        doc = Document(str(path))
        assert doc.styles["Heading 2"].font.bold and doc.sections[0].different_first_page_header_footer


def test_letters_zip_is_stored_dated_and_the_same_bytes_again(synthetic, tmp_path):
    ctx = synthetic["ctx"]
    write_documents(ctx, tmp_path / "a")
    write_documents(ctx, tmp_path / "b")
    a = (tmp_path / "a" / "documents" / letters.ARCHIVE).read_bytes()
    assert a == (tmp_path / "b" / "documents" / letters.ARCHIVE).read_bytes()
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(letters.letter_name(c) for c in letters.scored(ctx))
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
        assert {i.date_time for i in infos} == {base.stamp_of(ctx.params).timetuple()[:6]}
        for i in infos:
            assert zf.read(i) == (tmp_path / "a" / "documents" / letters.FOLDER / i.filename).read_bytes()


# --------------------------------------------------------------------------- PDF


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен")
def test_the_bounded_documents_convert_at_once_and_say_the_same(synthetic, tmp_path, monkeypatch):
    from pypdf import PdfReader

    monkeypatch.setattr(base, "ROWS_PER_TABLE", 3)
    ctx = bounded(with_visits(synthetic["ctx"]))
    folder = tmp_path / "documents"
    docx = [m.write(ctx, folder) for m in (prikaz, spravka, roadmap)]
    pdfs = convert.convert_to_pdf(docx, folder)
    assert pdfs == [folder / f"{m.FILE[:-5]}.pdf" for m in (prikaz, spravka, roadmap)]
    text = {p.stem: " ".join(" ".join(pg.extract_text() for pg in PdfReader(str(p)).pages).split()) for p in pdfs}
    assert "согласно приложению 2" in text["prikaz"]
    assert "не включена" in text["spravka"] and "results.xlsx" in text["spravka"]
    for row in roadmap.rows(ctx):   # every item of the roadmap, in parts, is in its PDF
        assert row[0] in text["roadmap"]
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(d.name for d in docx), *(p.name for p in pdfs)])
