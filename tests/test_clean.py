"""Stage «clean»: typed tables and every problem in issues.csv with file, sheet, cell and action."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

import formbuilder
from conftest import execute_notebook
from formbuilder import REGISTRY, form_bytes, form_cells, good_values, raw_folder, xlsx
from hypothesis import given
from hypothesis import strategies as st


from pipeline.core.contract import columns
from pipeline.core.rules import SEVERITIES
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline import sample
from pipeline.form import registry as form_registry
from pipeline.form import text as form_text
from pipeline.io import storage
from pipeline.core.links import link_ok
from pipeline.fast.links import link_ok as fast_link_ok
from pipeline.stages import clean
from pipeline.stages.clean import cells as clean_cells
from pipeline.stages.clean import checklist as clean_checklist
from pipeline.stages.clean import parse as clean_parse
from pipeline.stages.clean.issues import Cell
from pipeline.stages import ingest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_clean(tmp_path, make_params, methodology):
    """run_clean({file: bytes}, registry=...) -> (tables, params) through ingest and clean."""

    def run(files: dict[str, bytes], registry: str = REGISTRY, m=None):
        m = m or methodology
        raw = raw_folder(tmp_path / f"raw{len(list(tmp_path.iterdir()))}", files, registry)
        params = load_params(make_params(raw_dir=raw))
        raw_inputs = ingest.load_raw(params)
        out = ingest.run(raw_inputs, m, params)
        return clean.run(out["forms.csv"], out["files.csv"], ingest.registry_of(raw_inputs), m, params), params

    return run


def issues_of(tables, school="0107"):
    iss = tables["issues.csv"]
    return iss[iss["school_code"] == school]


def one(tables, rule, school="0107"):
    rows = issues_of(tables, school)
    rows = rows[rows["rule"] == rule]
    assert len(rows) == 1, (rule, issues_of(tables, school)[["cell", "rule", "value"]].to_string())
    return rows.iloc[0]


def cell_of(methodology, field):
    return form_cells(methodology)[field].split("!")


# --------------------------------------------------------------------------------------------
# a clean form
# --------------------------------------------------------------------------------------------


def test_clean_form_gives_typed_tables_and_no_issues_for_it(run_clean, methodology):
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, good_values(methodology))})
    for name in ("checklist.csv", "staff.csv", "profile.csv", "issues.csv"):
        cols = columns("clean", name)
        assert tuple(tables[name].columns[: len(cols)]) == cols, name
    assert issues_of(tables).empty
    profile = tables["profile.csv"].set_index("school_code")
    assert profile.index.tolist() == ["0107", "0108", "0201"]  # every registry school
    p = profile.loc["0107"]
    assert (p.submitted, p.pupils, p.innovation_site, p.low_results, p.staffing_monitoring, p.filled_date) == \
        (True, 640, True, False, True, "2026-04-10")
    assert p.school_name == "МБОУ СОШ № 7" and p.file == "0107.xlsx"
    staff = tables["staff.csv"]
    assert staff["school_code"].tolist() == ["0107"]
    assert staff.iloc[0][[f"P{i}" for i in range(10)]].tolist() == [40, 8, 6, 2, 3, 20, 35, 5, 4, 2]
    assert str(staff["P0"].dtype) == "Int64"
    ck = tables["checklist.csv"]
    assert ck["position"].tolist() == [p.code for p in methodology.positions]
    first = ck.iloc[1]
    assert (first.score, first.link_ok, first.cell, first.document_cell) == (2, True, "C5", "D5")
    assert first.document.startswith("Приказ № 11")


def test_school_without_form(run_clean, methodology):
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, good_values(methodology))})
    profile = tables["profile.csv"].set_index("school_code")
    assert not profile.loc["0108", "submitted"] and profile.loc["0108", "school_name"] == "МБОУ СОШ № 8"
    assert profile.loc["0108", "pupils"] is not None and str(profile.loc["0108", "pupils"]) == "<NA>"
    row = one(tables, "form.not_submitted", "0108")
    assert row.severity == "error" and "не представлена" in row.message and "нет данных" in row.action
    assert "0108" not in set(tables["checklist.csv"]["school_code"]) | set(tables["staff.csv"]["school_code"])


# --------------------------------------------------------------------------------------------
# scores, evidence, links
# --------------------------------------------------------------------------------------------


def test_scores_as_words_and_text(run_clean, methodology):
    codes = [p.code for p in methodology.positions]
    values = good_values(methodology, **{
        f"checklist__{codes[0]}__score": "есть", f"checklist__{codes[0]}__document": "Приказ № 1",
        f"checklist__{codes[1]}__score": " Частично ",
        f"checklist__{codes[2]}__score": "нет",
        f"checklist__{codes[4]}__score": "2",
        f"checklist__{codes[5]}__score": 3,
        f"checklist__{codes[7]}__score": "хорошо",
        f"checklist__{codes[8]}__score": 1.5,
        f"checklist__{codes[10]}__score": None,
    })
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, values)})
    ck = tables["checklist.csv"].set_index("position")
    assert ck.loc[codes[0], "score"] == 2 and ck.loc[codes[1], "score"] == 1 and ck.loc[codes[2], "score"] == 0
    assert ck.loc[codes[4], "score"] == 2 and ck.loc[codes[4], "score_raw"] == "2"
    for c in (codes[5], codes[7], codes[8], codes[10]):
        assert str(ck.loc[c, "score"]) == "<NA>", c
    iss = issues_of(tables).set_index("cell")
    assert iss.loc["C4", "rule"] == "checklist.score_as_word" and iss.loc["C4", "severity"] == "warning"
    assert iss.loc["C5", "rule"] == "checklist.score_as_word" and "засчитано 1" in iss.loc["C5", "message"]
    assert iss.loc["C6", "rule"] == "checklist.score_as_word"
    assert iss.loc["C8", "rule"] == "value.number_as_text" and iss.loc["C8", "action"] == "значение использовано"
    assert iss.loc["C9", "rule"] == "checklist.score_out_of_range" and iss.loc["C9", "severity"] == "error"
    assert iss.loc["C11", "rule"] == "checklist.score_invalid" and iss.loc["C11", "value"] == "хорошо"
    assert iss.loc["C12", "rule"] == "checklist.score_out_of_range"
    assert iss.loc["C14", "rule"] == "checklist.score_missing"
    assert (iss["sheet"] == "Показатели").all()


def test_binary_methodology_words(run_clean, tmp_path, methodology):
    binary = load_methodology(ROOT / "methodology" / "binary.yaml")
    codes = [p.code for p in binary.positions]
    values = good_values(binary, **{f"checklist__{codes[0]}__score": "есть", f"checklist__{codes[0]}__document": "Приказ",
                                    f"checklist__{codes[1]}__score": "частично", f"checklist__{codes[2]}__score": 2})
    tables, _ = run_clean({"0107.xlsx": form_bytes(binary, values)}, m=binary)
    ck = tables["checklist.csv"].set_index("position")
    assert ck.loc[codes[0], "score"] == 1
    assert str(ck.loc[codes[1], "score"]) == "<NA>"  # «частично» is not on a 0/1 scale
    iss = issues_of(tables).set_index("cell")
    assert iss.loc["C5", "rule"] == "checklist.score_invalid" and iss.loc["C6", "rule"] == "checklist.score_out_of_range"


def test_score_without_document_is_unconfirmed(run_clean, methodology):
    codes = [p.code for p in methodology.positions]
    values = good_values(methodology, **{f"checklist__{codes[1]}__document": None, f"checklist__{codes[2]}__document": " — "})
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, values)})
    rows = issues_of(tables)
    rows = rows[rows["rule"] == "checklist.unconfirmed"].set_index("cell")
    assert set(rows.index) == {"D5", "D6"}
    assert (rows["severity"] == "warning").all() and rows["message"].str.contains("не подтвержд").all()
    assert rows["action"].str.contains("не засчитан").all()
    ck = tables["checklist.csv"].set_index("position")
    assert ck.loc[codes[2], "document"] == "" and not ck.loc[codes[2], "has_document"]
    assert ck.loc[codes[1], "score"] == 2  # the claim is kept; the score stage does not count it


@pytest.mark.parametrize("link, ok", [
    ("https://school7.example.ru/metod/plan.pdf", True),
    ("http://school7.example.ru", True),
    ("HTTPS://SCHOOL7.EXAMPLE.RU/A", True),
    ("см. папку на диске", False),
    ("ftp://192.168.1.10/metod/plan.docx", False),
    ("javascript:alert(1)", False),
    ("www.school7.ru/metod", False),
    ("https://school7.example.ru/план работы.pdf", False),
    ("https://", False),
    ("", False),
    # only plain addresses: no user name or password, no look-alike letters, http(s) only
    ("https://user:password@school7.example.ru/plan.pdf", False),
    ("https://school7.example.ru@evil.example.com/", False),
    ("https://@school7.example.ru/", False),
    ("https://p\u0430ypal.com/login", False),              # Cyrillic «а» among Latin letters
    ("https://школа7.рф/plan", True),   # a host wholly in Russian letters
    ("https://школа7.rf/plan", False),                       # two alphabets in one host
    ("https://schoo\u03bf7.example.ru/", False),            # Greek «ο»
    ("https://xn--80atjc.xn--p1ai/plan", True),              # punycode: shown as written
    ("https://school7.example.ru:8080/plan", True),
    ("https://school7.example.ru\\@evil.com/", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ("javascript://school7.example.ru/%0Aalert(1)", False),
    ("vbscript:msgbox(1)", False),
    ("file:///etc/passwd", False),
    ("file://school7.example.ru/share/plan.pdf", False),
    ("//school7.example.ru/plan.pdf", False),
    ("https:school7.example.ru/plan.pdf", False),
])
def test_link_ok(link, ok):
    assert link_ok(link) is ok
    assert fast_link_ok(link) is ok


def test_link_with_a_password_flagged_and_kept_as_text(run_clean, methodology):
    code = methodology.positions[1].code
    link = "https://admin:secret@school7.example.ru/plan.pdf"
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, good_values(methodology, **{f"checklist__{code}__link": link}))})
    row = one(tables, "checklist.bad_link")
    assert (row.cell, row.value) == ("E5", link)
    assert "без имени и пароля" in row.message
    ck = tables["checklist.csv"].set_index("position")
    assert not ck.loc[code, "link_ok"] and ck.loc[code, "link"] == link


def test_bad_link_flagged_with_cell(run_clean, methodology):
    code = methodology.positions[1].code
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, good_values(methodology, **{f"checklist__{code}__link": "javascript:alert(1)"}))})
    row = one(tables, "checklist.bad_link")
    assert (row.sheet, row.cell, row.value, row.severity) == ("Показатели", "E5", "javascript:alert(1)", "warning")
    assert "не выводится" in row.action
    ck = tables["checklist.csv"].set_index("position")
    assert not ck.loc[code, "link_ok"] and ck.loc[code, "link"] == "javascript:alert(1)"


def test_unknown_and_missing_positions(run_clean, methodology):
    last = methodology.positions[-1].code
    rows = [["Код", "Позиция оценивания", "Балл", "Подтверждающий документ", "Ссылка"]]
    rows += [[p.code, "…", 0] for p in methodology.positions if p.code != last]
    rows += [["2.3", "лишняя позиция", 2, "Приказ"]]
    data = xlsx({"Сведения": [[f.label, v] for f, v in zip(formbuilder.INFO_FIELDS, ["0107", "МБОУ СОШ № 7", "СОШ", "2025-2026", 640, "да", "нет", "нет", "да", "Иванова", dt.date(2026, 4, 1)])],
                 "Кадры": [[c, "", 1] for c in formbuilder.STAFF_CODES], "Показатели": rows})
    tables, _ = run_clean({"0107.xlsx": data})
    row = one(tables, "checklist.unknown_position")
    assert (row.cell, row.severity) == (f"C{len(rows)}", "warning")
    row = one(tables, "checklist.missing")
    assert row.field == f"checklist.{last}.score" and row.cell == "" and row.severity == "error"
    assert len(tables["checklist.csv"]) == len(methodology.positions)


# --------------------------------------------------------------------------------------------
# staff counts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("over, rule, field, cell", [
    ({"staff__P3": 9}, "staff.winners_exceed_participants", "P3", "C7"),
    ({"staff__P1": 41}, "staff.exceeds_total", "P1", "C5"),
    ({"staff__P9": 50}, "staff.exceeds_total", "P9", "C13"),
    ({"staff__P8": 6}, "staff.mentored_exceed_young", "P8", "C12"),
])
def test_counts_larger_than_their_total(run_clean, methodology, over, rule, field, cell):
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, good_values(methodology, **over))})
    row = one(tables, rule)
    assert (row.sheet, row.cell, row.severity) == ("Кадры", cell, "error")
    assert field in row.action and "не используется" in row.action
    staff = tables["staff.csv"].iloc[0]
    assert str(staff[field]) == "<NA>"
    assert staff["P0"] == 40


def test_count_problems(run_clean, methodology):
    values = good_values(methodology, staff__P0="40", staff__P1=-1, staff__P2=2.5, staff__P4="много", staff__P5=None,
                         info__pupils="640 ")
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, values)})
    iss = issues_of(tables).set_index("cell")
    assert iss.loc["C4", "rule"] == "value.number_as_text" and iss.loc["C4", "severity"] == "warning"
    assert iss.loc["C5", "rule"] == "value.negative"
    assert iss.loc["C6", "rule"] == "value.not_integer"
    assert iss.loc["C8", "rule"] == "value.not_a_number" and iss.loc["C8", "value"] == "много"
    assert iss.loc["C9", "rule"] == "staff.missing"
    assert iss.loc["B8", "rule"] == "value.number_as_text"
    staff = tables["staff.csv"].iloc[0]
    assert staff["P0"] == 40 and [str(staff[p]) for p in ("P1", "P2", "P4", "P5")] == ["<NA>"] * 4
    assert tables["profile.csv"].set_index("school_code").loc["0107", "pupils"] == 640


@given(st.text(max_size=12))
def test_parse_count_never_raises(text):
    v = Cell("f", "Кадры", "C4", "staff.P0", text, "text" if text.strip() else "empty")
    n, problem = clean_parse.parse_count(v)
    assert (n is None) != (problem in (None, "value.number_as_text"))
    assert n is None or n >= 0


@given(st.integers(min_value=0, max_value=clean_parse.MAX_COUNT))
def test_whole_numbers_as_text_are_used(n):
    assert clean_parse.parse_count(Cell("f", "s", "A1", "x", str(n), "text")) == (n, "value.number_as_text")
    assert clean_parse.parse_count(Cell("f", "s", "A1", "x", str(n), "number")) == (n, None)


def formbuilder_methodology():
    return load_methodology(formbuilder.DEFAULT_METHODOLOGY)


@given(st.text(max_size=10), st.sampled_from([[0, 1], [0, 1, 2]]))
def test_parse_score_stays_on_the_scale(text, scale):
    score, problem = clean_parse.parse_score(Cell("f", "s", "C4", "x", text, "text" if text.strip() else "empty"), scale, clean_parse.score_words(formbuilder_methodology()))
    assert score is None or score in scale
    assert (score is None) == (problem in ("checklist.score_missing", "checklist.score_invalid", "checklist.score_out_of_range"))


# --------------------------------------------------------------------------------------------
# profile
# --------------------------------------------------------------------------------------------


def test_profile_values_checked(run_clean, methodology):
    values = good_values(methodology, info__school_name="МБОУ «СОШ №7»", info__school_type="Лицей", info__innovation_site="Да ",
                         info__low_results="может быть", info__staffing_monitoring=None, info__responsible=None,
                         info__filled_date="15.04.2026")
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, values)})
    iss = issues_of(tables).set_index("rule")
    assert "info.name_mismatch" not in iss.index  # quotes and spaces do not make another school
    assert iss.loc["info.type_mismatch", "cell"] == "B6" and "СОШ" in iss.loc["info.type_mismatch", "action"]
    assert iss.loc["info.bad_yesno", "cell"] == "B10" and iss.loc["info.bad_yesno", "severity"] == "error"
    missing = issues_of(tables)[issues_of(tables)["rule"] == "info.missing"].set_index("cell")
    assert missing.loc["B12", "severity"] == "error" and missing.loc["B13", "severity"] == "warning"
    assert iss.loc["info.date_as_text", "cell"] == "B14"
    p = tables["profile.csv"].set_index("school_code").loc["0107"]
    assert p.school_type == "СОШ" and p.innovation_site and str(p.low_results) == "<NA>"
    assert str(p.staffing_monitoring) == "<NA>" and p.filled_date == "2026-04-15"
    # ШНОР «нет» and support left empty is fine: support is then «нет»
    assert not p.low_results_support


def test_name_mismatch_and_code_as_number(run_clean, methodology):
    values = good_values(methodology, info__school_code=107, info__school_name="Школа искусств № 2")
    tables, _ = run_clean({"0107.xlsx": form_bytes(methodology, values)})
    row = one(tables, "info.code_as_number")
    assert (row.cell, row.value, row.severity) == ("B4", "107", "warning") and "0107" in row.message
    row = one(tables, "info.name_mismatch")
    assert row.cell == "B5" and "реестр" in row.action
    assert tables["profile.csv"].set_index("school_code").loc["0107", "school_name"] == "МБОУ СОШ № 7"


def test_duplicate_field_first_one_used(run_clean, methodology):
    data = xlsx({
        "Сведения": [["Код ОО", "0107"], ["Численность обучающихся", 640], ["Численность обучающихся", 999]],
        "Кадры": [[c, "", 1] for c in formbuilder.STAFF_CODES],
        "Показатели": [["Код", "Балл"]] + [[p.code, 0] for p in methodology.positions],
    })
    tables, _ = run_clean({"0107.xlsx": data})
    row = one(tables, "field.duplicate")
    assert (row.sheet, row.cell, row.value) == ("Сведения", "B3", "999")
    assert tables["profile.csv"].set_index("school_code").loc["0107", "pupils"] == 640


# --------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------


def test_rejected_and_superseded_files_become_issues(run_clean, methodology):
    m = methodology
    tables, _ = run_clean({
        "0107.xlsx": form_bytes(m, good_values(m, info__filled_date=dt.date(2026, 4, 20))),
        "0107_old.xlsx": form_bytes(m, good_values(m, info__filled_date=dt.date(2026, 3, 1))),
        "0108.xlsx": form_bytes(m, good_values(m, "0108", info__academic_year="2024-2025"), academic_year="2024-2025"),
        "~$0107.xlsx": b"\x05owner" + b" " * 50,
        "broken.xlsx": b"PK\x03\x04broken",
    })
    iss = tables["issues.csv"].set_index("file")
    assert (iss.loc["0107_old.xlsx", "rule"], iss.loc["0107_old.xlsx", "severity"], iss.loc["0107_old.xlsx", "cell"]) == \
        ("form.superseded", "warning", "B14")
    assert iss.loc["~$0107.xlsx", "severity"] == "warning" and iss.loc["~$0107.xlsx", "action"] == "файл пропущен"
    assert iss.loc["broken.xlsx", "rule"] == "file.corrupt" and "broken.xlsx" in iss.loc["broken.xlsx", "message"]
    wrong = iss.loc["0108.xlsx"]
    assert (wrong.rule, wrong.severity, wrong.school_code, wrong.sheet, wrong.cell) == ("form.wrong_year", "error", "0108", "Сведения", "B7")
    assert "отклонена" in wrong.action
    row = one(tables, "form.not_submitted", "0108")
    assert "0108.xlsx" in row.message
    assert tables["profile.csv"].set_index("school_code").loc["0107", "file"] == "0107.xlsx"


def test_issues_sorted_and_valid(run_clean, methodology):
    m = methodology
    tables, _ = run_clean({
        "0107.xlsx": form_bytes(m, good_values(m, staff__P3=9, info__pupils="640", **{f"checklist__{m.positions[0].code}__score": "есть"})),
        "0201.xlsx": form_bytes(m, good_values(m, "0201", info__school_name="МКОУ ООШ с. Ивановка", info__school_type="ООШ", staff__P1=99)),
        "x.txt": b"hello",
    })
    iss = tables["issues.csv"]
    assert set(iss["severity"]) <= set(SEVERITIES)
    assert (iss["message"].str.len() > 15).all() and (iss["action"].str.len() > 5).all()
    keys = [(r.school_code, r.file, r.sheet, form_text.split_address(r.cell), r.rule) for r in iss.itertuples()]
    assert keys == sorted(keys)
    assert iss["school_code"].tolist()[0] == ""  # file-level issues without a school first


def test_clean_is_deterministic_and_survives_csv_round_trip(run_clean, methodology, tmp_path):
    m = methodology
    files = {"0107.xlsx": form_bytes(m, good_values(m, staff__P3=9)), "0201.xlsx": form_bytes(m, good_values(m, "0201"))}
    a, params = run_clean(files)
    b, _ = run_clean(files)
    for name in a:
        assert storage.to_csv_bytes(a[name]) == storage.to_csv_bytes(b[name])
    # through the files written by ingest, as the notebook does
    raw_inputs = ingest.load_raw(params)
    storage.write_tables(tmp_path / "p", ingest.run(raw_inputs, m, params))
    long, f = clean.read_inputs(tmp_path / "p")
    c = clean.run(long, f, form_registry.read_registry(Path(params.raw_dir) / "registry.csv"), m, params)
    for name in a:
        assert storage.to_csv_bytes(a[name]) == storage.to_csv_bytes(c[name]), name


def test_forms_rows_of_a_file_need_not_be_together(run_clean, methodology, tmp_path):
    """clean groups forms.csv's rows by file in runs; rows of two forms interleaved (each form's
    own order kept) give the same tables, duplicate fields included."""
    m = methodology
    dup = xlsx({
        "Сведения": [["Код ОО", "0201"], ["Численность обучающихся", 640], ["Численность обучающихся", 999]],
        "Кадры": [[c, "", 1] for c in formbuilder.STAFF_CODES],
        "Показатели": [["Код", "Балл"]] + [[p.code, 0] for p in m.positions] + [["M99.9", 1]],
    })
    _, params = run_clean({"0107.xlsx": form_bytes(m, good_values(m, staff__P3=9)), "0201.xlsx": dup})
    raw = ingest.load_raw(params)
    out = ingest.run(raw, m, params)
    registry = ingest.registry_of(raw)
    long = out["forms.csv"]
    together = clean.run(long, out["files.csv"], registry, m, params)
    a, b = long[long["file"] == "0107.xlsx"], long[long["file"] == "0201.xlsx"]
    both = pd.concat([a.assign(k=range(0, 2 * len(a), 2)), b.assign(k=range(1, 2 * len(b), 2))])
    mixed = both.sort_values("k").drop(columns="k").reset_index(drop=True)
    assert mixed["file"].iloc[:4].tolist() == ["0107.xlsx", "0201.xlsx"] * 2
    apart = clean.run(mixed, out["files.csv"], registry, m, params)
    for name in together:
        assert storage.to_csv_bytes(apart[name]) == storage.to_csv_bytes(together[name]), name
    rules = set(together["issues.csv"]["rule"])
    assert {"field.duplicate", "checklist.unknown_position"} <= rules


def test_run_leaves_garbage_collection_as_it_found_it(run_clean, methodology):
    import gc

    files = {"0107.xlsx": form_bytes(methodology, good_values(methodology))}
    assert gc.isenabled()
    run_clean(files)
    assert gc.isenabled()
    gc.disable()
    try:
        run_clean(files)
        assert not gc.isenabled()
    finally:
        gc.enable()


@given(st.text(alphabet=st.sampled_from(list("нетНЕТ-—–0/дДокументаёЁ :*\u00a0\t.xyzОТСУВ")), max_size=30))
def test_placeholder_shortcut_agrees_with_norm_text(methodology, text):
    assert clean_checklist.Context(methodology).placeholder(text) == (form_text.norm_text(text) in clean_parse.PLACEHOLDER_DOCS)


@pytest.mark.parametrize("link", ["https://school.ru/doc.pdf", "HTTP://a.b", "https://-.", "https://sch-1.edu.ru/a?b=1#c",
                                  "https://школа.рф/x", "https://[::1]/x", "http://a.b/пример", "https://nodot/x", "ftp://a.b",
                                  "https://a.b:80/x", "https://a.b/ x", "www.school.ru", "https:/a.b", "", "https://a.b\x00"])
def test_link_shortcut_agrees_with_link_ok(methodology, link):
    assert clean_checklist.Context(methodology).link_ok(link) == link_ok(link)


def test_text_columns_as_prepare_makes_them():
    df = pd.DataFrame({"s": pd.array(["a", None, "0107"], dtype="str"), "o": ["x", None, float("nan")],
                       "n": [1, 2.5, None], "b": pd.array([True, None, False], dtype="boolean")})
    prepared = clean._prepare(df, list(df.columns))
    for c in df.columns:
        column = clean_cells._text_column(df[c])
        assert column.dtype == object and column.tolist() == prepared[c].tolist(), c


# --------------------------------------------------------------------------------------------
# the sample years: every planned defect found at its file and cell, nothing else
# --------------------------------------------------------------------------------------------


def sample_tables(year, make_params, methodology):
    params = load_params(make_params(year))
    raw = ingest.load_raw(params)
    out = ingest.run(raw, methodology, params)
    return clean.run(out["forms.csv"], out["files.csv"], ingest.registry_of(raw), methodology, params)


def keyset(rows):
    return {(r["school_code"], r["file"], r["sheet"], r["cell"], r["rule"], r["severity"]) for r in rows}


@pytest.mark.parametrize("year", (2024, 2025, 2026))
def test_sample_year_issues_are_exactly_the_planned_defects(year, make_params, methodology):
    tables = sample_tables(year, make_params, methodology)
    plan = sample.planned_defects(year)
    got = keyset(tables["issues.csv"].to_dict("records"))
    assert got == keyset(plan["issues"])
    # the hand-made form (reordered rows, blank rows, odd labels) is read back exactly
    ck = tables["checklist.csv"].set_index(["school_code", "position"])
    staff = tables["staff.csv"].set_index("school_code")
    profile = tables["profile.csv"].set_index("school_code")
    for code, values in plan["values"].items():
        assert profile.loc[code, "pupils"] == values["info.pupils"]
        assert profile.loc[code, "filled_date"] == values["info.filled_date"]
        for p in formbuilder.STAFF_CODES:
            assert staff.loc[code, p] == values[f"staff.{p}"]
        for pos in methodology.positions:
            assert ck.loc[(code, pos.code), "score"] == values[f"checklist.{pos.code}.score"]
            assert ck.loc[(code, pos.code), "document"] == values.get(f"checklist.{pos.code}.document", "")


@pytest.mark.slow
def test_notebooks_01_02_find_every_planned_defect(make_params, tmp_path):
    params_file = make_params(2026)
    params = load_params(params_file)
    raw_dir = Path(params.raw_dir)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in raw_dir.iterdir()}
    execute_notebook("01_ingest.ipynb", params_file, tmp_path / "executed")
    executed = execute_notebook("02_clean.ipynb", params_file, tmp_path / "executed")
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in raw_dir.iterdir()} == before
    out = Path(params.processed_dir)
    issues = storage.read_table(out, "issues.csv").fillna("")
    assert keyset(issues.to_dict("records")) == keyset(sample.planned_defects(2026)["issues"])
    for name in ("checklist.csv", "staff.csv", "profile.csv", "issues.csv"):
        cols = columns("clean", name)
        assert tuple(storage.read_table(out, name).columns[: len(cols)]) == cols
    text = executed.read_text(encoding="utf-8")
    assert "Замечаний к данным" in text and "image/png" in text
    # the same notebook writing into another folder gives the same bytes
    again = tmp_path / "again"
    execute_notebook("02_clean.ipynb", params_file, tmp_path / "executed2", output_dir=str(again))
    for name in ("checklist.csv", "staff.csv", "profile.csv", "issues.csv"):
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_summary_names_rules_in_russian():
    import pandas as pd

    from pipeline.stages.clean import summary

    issues = pd.DataFrame({"rule": ["staff.exceeds_total", "staff.exceeds_total", "checklist.bad_link"],
                           "severity": ["error", "error", "warning"]})
    s = summary(issues)
    assert s["правило"].tolist() == ["staff.exceeds_total", "checklist.bad_link"]
    assert s["что проверяется"].tolist()[0].startswith("значение больше общего числа педагогов")
    assert s["замечаний"].tolist() == [2, 1]
