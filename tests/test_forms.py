"""The school form: template writing, reading by labels, and refusing what is not a form."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

import formbuilder
import yaml
from formbuilder import ACADEMIC_YEAR, form_bytes, form_cells, good_values, xlsx
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter


from pipeline.core.errors import FormError
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.fast import sheets
from pipeline.form import fields as form_fields
from pipeline.form import package as form_package
from pipeline.form import reader as form_reader
from pipeline.form import registry as form_registry
from pipeline.form import template as form_template
from pipeline.form import text as form_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def binary_methodology(tmp_path_factory):
    """The default methodology with every position on a 0/1 scale."""
    data = yaml.safe_load((ROOT / "methodology" / "default.yaml").read_text(encoding="utf-8"))
    for p in data["positions"]:
        p["scale"] = [0, 1]
    data["declared_max"] = len(data["positions"])
    path = tmp_path_factory.mktemp("m") / "binary.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_methodology(path)


def expand(sqref) -> set[str]:
    """Every cell address of a validation's range."""
    return {f"{get_column_letter(c)}{r}" for rng in sqref.ranges for r, c in rng.cells}


def values_of(form: form_reader.ParsedForm) -> dict[str, str]:
    return {v.field: v.value for v in form.values}


# --------------------------------------------------------------------------------------------
# template
# --------------------------------------------------------------------------------------------


@pytest.fixture
def template(make_params, tmp_path):
    params = load_params(make_params())
    paths = form_template.write_template(params, tmp_path / "forms")
    return params, paths


def test_template_is_one_file_with_the_three_sheets(template):
    params, paths = template
    assert [p.name for p in paths] == [f"form_{params.academic_year}.xlsx"]
    wb = load_workbook(paths[0])
    assert wb.sheetnames == list(form_fields.SHEETS)
    assert wb.security.lockStructure


def test_template_validations(template, methodology):
    _, paths = template
    wb = load_workbook(paths[0])
    info, staff, check = (wb[s] for s in form_fields.SHEETS)

    def lists(ws):
        return {dv.formula1: expand(dv.sqref) for dv in ws.data_validations.dataValidation if dv.type == "list"}

    info_lists = lists(info)
    assert info_lists['"да,нет"'] == {"B9", "B10", "B11", "B12"}
    assert '"СОШ,Гимназия,Лицей,ЦО,ООШ,НОШ"' in info_lists
    kinds = {(dv.type, dv.operator) for dv in info.data_validations.dataValidation}
    assert ("whole", "greaterThanOrEqual") in kinds and ("date", "between") in kinds
    staff_whole = [dv for dv in staff.data_validations.dataValidation if dv.type == "whole"]
    assert len(staff_whole) == 1 and staff_whole[0].formula1 == "0"
    assert expand(staff_whole[0].sqref) == {f"C{r}" for r in range(4, 14)}
    assert lists(check) == {'"0,1,2"': {f"C{r}" for r in range(4, 4 + len(methodology.positions))}}
    for dv in (*info.data_validations.dataValidation, *check.data_validations.dataValidation):
        assert dv.showErrorMessage and dv.error  # a Russian message for a wrong entry


def test_template_protection_only_answers_unlocked(template, methodology):
    _, paths = template
    wb = load_workbook(paths[0])
    info, staff, check = (wb[s] for s in form_fields.SHEETS)
    for ws in (info, staff, check):
        assert ws.protection.sheet
    n = len(methodology.positions)
    answers = {("Сведения", f"B{r}") for r in range(4, 15) if r != 7}
    answers |= {("Кадры", f"C{r}") for r in range(4, 14)}
    answers |= {("Показатели", f"{c}{r}") for r in range(4, 4 + n) for c in "CDE"}
    for ws in (info, staff, check):
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=5):
            for cell in row:
                unlocked = (ws.title, cell.coordinate) in answers
                assert cell.protection.locked is not unlocked, (ws.title, cell.coordinate)
    assert info["B7"].value == ACADEMIC_YEAR and info["B7"].protection.locked  # the year is given
    assert info["B4"].number_format == "@"  # Код ОО is text: leading zeros survive
    assert info["B14"].number_format.upper() == "DD.MM.YYYY"
    assert info.column_dimensions["A"].width >= 30 and check.column_dimensions["B"].width >= 60
    assert check["A3"].value == "Код" and check["E3"].value == "Ссылка"
    assert [check.cell(row=4 + i, column=1).value for i in range(n)] == [p.code for p in methodology.positions]
    assert [staff.cell(row=4 + i, column=2).value for i in range(10)] == list(formbuilder.STAFF_LABELS.values())


def test_template_round_trips_through_read_form(template, methodology):
    _, paths = template
    form = form_reader.read_form(paths[0], methodology)
    fields = [v.field for v in form.values]
    assert fields[:11] == [f"info.{f.key}" for f in formbuilder.INFO_FIELDS]
    assert fields[11:21] == [f"staff.{c}" for c in formbuilder.STAFF_CODES]
    assert fields[21:] == [f"checklist.{p.code}.{part}" for p in methodology.positions for part in ("score", "document", "link")]
    assert form.get("info.academic_year").value == ACADEMIC_YEAR
    assert form.get("info.school_code").cell == "B4" and form.get("info.school_code").value_type == "empty"
    assert form.get("staff.P9").cell == "C13"
    assert form.get(f"checklist.{methodology.positions[-1].code}.link").cell == f"E{3 + len(methodology.positions)}"


def test_filled_form_round_trips_with_types(methodology):
    values = good_values(methodology)
    form = form_reader.read_form(form_bytes(methodology, values), methodology, name="f.xlsx")
    got = {v.field: v for v in form.values}
    assert got["info.school_code"].value == "0107" and got["info.school_code"].value_type == "text"
    assert got["info.pupils"].value == "640" and got["info.pupils"].value_type == "number"
    assert got["info.filled_date"].value == "2026-04-10" and got["info.filled_date"].value_type == "date"
    assert got["staff.P0"].value == "40"
    cells = form_cells(methodology, values)
    for name, v in got.items():
        assert f"{v.sheet}!{v.cell}" == cells[name]


def test_template_is_reproducible(make_params, tmp_path):
    params = load_params(make_params())
    a = form_template.write_template(params, tmp_path / "a")[0].read_bytes()
    b = form_template.write_template(params, tmp_path / "b")[0].read_bytes()
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        core = zf.read("docProps/core.xml").decode()
    assert f"{params.year}-03-01T00:00:00Z" in core


def test_prefilled_forms_per_registry_school(make_params, tmp_path, methodology):
    params = load_params(make_params())
    paths = form_template.write_template(params, tmp_path / "forms", prefilled=True)
    registry = form_registry.read_registry(Path(params.raw_dir) / "registry.csv")
    assert len(paths) == 1 + len(registry)
    rec = registry.iloc[0]
    form = form_reader.read_form(paths[1], methodology)
    assert paths[1].name == f"form_{params.academic_year}_{rec['code']}.xlsx"
    assert form.text("info.school_code") == rec["code"] and form.get("info.school_code").value_type == "text"
    assert form.text("info.school_name") == rec["name"]
    assert form.text("info.school_type") == rec["type"]
    assert form.text("info.academic_year") == params.academic_year
    assert form.get("staff.P0").value_type == "empty"


def test_binary_methodology_template_offers_0_1(binary_methodology):
    wb, _ = form_template.build_workbook(binary_methodology, ACADEMIC_YEAR)
    lists = {dv.formula1 for dv in wb[form_fields.SHEET_CHECKLIST].data_validations.dataValidation if dv.type == "list"}
    assert lists == {'"0,1"'}


# --------------------------------------------------------------------------------------------
# reading: tolerant of layout
# --------------------------------------------------------------------------------------------


def test_reordered_and_blank_rows(methodology):
    values = good_values(methodology)
    orders = form_template.default_orders(methodology)
    orders = {k: [None] + list(reversed(v[:5])) + [None, None] + v[5:][::-1] for k, v in orders.items()}
    data = form_bytes(methodology, values, orders=orders, protect=False)
    form = form_reader.read_form(data, methodology, name="f.xlsx")
    got = values_of(form)
    assert got["info.school_code"] == "0107" and got["staff.P3"] == "2"
    cells = form_cells(methodology, values, orders)
    for v in form.values:
        assert f"{v.sheet}!{v.cell}" == cells[v.field]
    assert len(form.values) == 11 + 10 + 3 * len(methodology.positions)


def test_labels_spaces_case_yo_and_text_numbers(methodology):
    pos = methodology.positions[0].code
    data = xlsx({
        " сведения ": [
            ["  КОД  ОО :", "0107"],
            [None, None],
            ["численность\u00a0обучающихся", "512"],
            ["Учебный  год", "2025/2026"],
            ["дата заполнения*", "15.04.2026"],
        ],
        "КАДРЫ": [[None], ["Р0", "педагогических работников всего", "44"], ["p3 ", None, 3.0]],
        "Показатели": [
            ["код", "позиция оценивания", "БАЛЛ", "Подтверждающий  документ", "Ссылка на сайт"],
            [pos, "…", "2", "Приказ № 1", "https://x.example.ru/a"],
        ],
    })
    form = form_reader.read_form(data, methodology, name="f.xlsx")
    got = {v.field: v for v in form.values}
    assert got["info.school_code"].value == "0107"
    assert (got["info.pupils"].value, got["info.pupils"].value_type, got["info.pupils"].cell) == ("512", "text", "B3")
    assert form_text.normalize_academic_year(got["info.academic_year"].value) == "2025-2026"
    assert form_text.parse_date(got["info.filled_date"].value, got["info.filled_date"].value_type) == dt.date(2026, 4, 15)
    assert got["staff.P0"].value == "44" and got["staff.P0"].cell == "C2"
    assert got["staff.P3"].value == "3" and got["staff.P3"].value_type == "number"
    assert got[f"checklist.{pos}.score"].value == "2" and got[f"checklist.{pos}.score"].cell == "C2"
    assert got[f"checklist.{pos}.link"].value == "https://x.example.ru/a"
    assert form.get("info.school_name") is None  # absent, not invented
    assert {v.sheet for v in form.values} == {" сведения ", "КАДРЫ", "Показатели"}


def test_invisible_characters_in_labels_codes_and_headers(methodology):
    """Labels, codes and headers are recognised, and shown, without the invisible
    (bidirectional, CR) characters a school's text may carry; values are cleaned the same way."""
    pos = methodology.positions[0].code
    data = xlsx({
        "Сведения": [["Код ОО\u202e", "0107\u202c"], ["Учебный\r\nгод", "2025/2026"]],
        "Кадры": [["\u202aP0", "педагогических\u2066 работников всего", "44"]],
        "Показатели": [
            ["Код\u202d", "Позиция оценивания", "Балл\u2069", "Подтверждающий документ", "Ссылка на сайт"],
            [f"{pos}\u202e", "…", "2", "Приказ\r№ 1", None],
        ],
    })
    form = form_reader.read_form(data, methodology, name="f.xlsx")
    got = {v.field: v for v in form.values}
    assert got["info.school_code"].value == "0107" and got["info.school_code"].label == "Код ОО"
    assert got["info.academic_year"].label == "Учебный\nгод"
    assert got["staff.P0"].value == "44" and got["staff.P0"].label == "P0 педагогических работников всего"
    assert got[f"checklist.{pos}.score"].value == "2" and got[f"checklist.{pos}.score"].label == f"{pos} · Балл"
    assert got[f"checklist.{pos}.document"].value == "Приказ\n№ 1"
    invisible = "\r\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    assert not [v for v in form.values for t in (v.label, v.value, v.sheet) if any(c in t for c in invisible)]


def test_cell_addresses_are_absolute_when_top_left_is_empty(methodology):
    """calamine drops the empty top-left area by default; addresses must stay true."""
    data = xlsx({
        "Сведения": [[], [], [], [None, None, "Код ОО", "0107"]],
        "Кадры": [[], [], [], [], [], [None, None, None, "P0", "всего", 12]],
        "Показатели": [[], [None, "Код", "Позиция оценивания", "Балл", "Подтверждающий документ", "Ссылка"],
                       [], [None, "1.1", "…", "нет"]],
    })
    form = form_reader.read_form(data, methodology, name="f.xlsx")
    assert form.get("info.school_code").cell == "D4"
    assert form.get("staff.P0").cell == "F6"
    assert form.get("checklist.M1.1.score").cell == "D4"
    assert form.get("checklist.M1.1.score").value == "нет"


def test_position_codes_without_m_and_as_numbers(methodology):
    data = xlsx({
        "Сведения": [["Код ОО", "0107"]],
        "Кадры": [["P0", "всего", 1]],
        "Показатели": [["Код", "Позиция оценивания", "Балл", "Подтверждающий документ", "Ссылка"],
                       [1, "…", 2, "Приказ"], [1.1, "…", 1, "Приказ"], ["7.4.", "…", 0], ["М2", "…", 2, "Приказ"],
                       [None, "Итого", 5], ["2.3", "нет такой позиции", 1], ["2.6", "пустая лишняя строка", None]],
    })
    got = values_of(form_reader.read_form(data, methodology, name="f.xlsx"))
    assert got["checklist.M1.score"] == "2" and got["checklist.M1.1.score"] == "1"
    assert got["checklist.M7.4.score"] == "0" and got["checklist.M2.score"] == "2"
    assert got["checklist.M2.3.score"] == "1"  # kept, so that clean can report it
    assert "checklist.M2.6.score" not in got


def test_checklist_columns_found_by_header(methodology):
    data = xlsx({
        "Сведения": [["Код ОО", "0107"]],
        "Кадры": [["P0", "всего", 1]],
        "Показатели": [["Ссылка", "Балл", "Код", "Подтверждающий документ"], ["https://a.ru/x", 2, "M3", "Справка"]],
    })
    form = form_reader.read_form(data, methodology, name="f.xlsx")
    assert form.get("checklist.M3.score").cell == "B2" and form.get("checklist.M3.link").cell == "A2"
    assert form.get("checklist.M3.document").value == "Справка"


def test_value_types():
    assert form_text.canonical(None) == ("", "empty")
    assert form_text.canonical("   ") == ("", "empty")
    assert form_text.canonical(True) == ("true", "bool")
    assert form_text.canonical(5.0) == ("5", "number")
    assert form_text.canonical(2.5) == ("2.5", "number")
    assert form_text.canonical(dt.datetime(2026, 4, 1)) == ("2026-04-01", "date")
    assert form_text.canonical(dt.date(2026, 4, 1)) == ("2026-04-01", "date")
    assert form_text.canonical(" 0107") == (" 0107", "text")


def test_normalizers():
    for text in ("2025-2026", "2025/2026", "2025 – 2026", "2025-26", "2025-2026 уч.г."):
        assert form_text.normalize_academic_year(text) == "2025-2026", text
    assert form_text.normalize_academic_year("2024-2025") == "2024-2025"
    assert form_text.norm_code("р 0") == "P0" and form_text.norm_code("М1.1.") == "M1.1" and form_text.norm_code(2.0) == "2"
    assert form_text.normalize_school_code(" 01 07 ") == "0107" and form_text.normalize_school_code("107.0") == "107"
    assert form_text.parse_date("01.09.2025", "text") == dt.date(2025, 9, 1)
    assert form_text.parse_date("31.02.2026", "text") is None
    assert form_text.split_address("AB12") == (12, 28) and form_text.cell_address(12, 28) == "AB12"


# --------------------------------------------------------------------------------------------
# reading: refusing what is not a form
# --------------------------------------------------------------------------------------------


def _error(data, methodology, name="школа.xlsx") -> FormError:
    with pytest.raises(FormError) as exc:
        form_reader.read_form(data, methodology, name=name)
    assert name in str(exc.value)
    return exc.value


def test_missing_sheet_is_named(methodology):
    data = xlsx({"Сведения": [["Код ОО", "0107"]], "Показатели": [["Код", "Балл"]]})
    err = _error(data, methodology)
    assert err.rule == "form.missing_sheets" and "Кадры" in err.reason


def test_workbook_without_form_sheets(methodology):
    err = _error(xlsx({"Лист1": [["привет"]]}), methodology)
    assert err.rule == "form.not_a_form" and "Лист1" in err.reason


def test_no_recognizable_labels(methodology):
    err = _error(xlsx({"Сведения": [["что-то"]], "Кадры": [["иное"]], "Показатели": [["пусто"]]}), methodology)
    assert err.rule == "form.unrecognized"


@pytest.mark.parametrize("data, rule", [
    (b"just some text", "file.not_xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "file.not_xlsx"),
    (b"", "file.not_xlsx"),
])
def test_not_xlsx(methodology, data, rule):
    assert _error(data, methodology).rule == rule


def test_truncated_xlsx_is_corrupt(methodology):
    data = form_bytes(methodology, good_values(methodology))
    err = _error(data[: len(data) // 2], methodology)
    assert err.rule == "file.corrupt" and "повреждён" in err.reason


def test_zip_that_is_not_a_workbook(methodology):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    assert _error(buf.getvalue(), methodology).rule == "file.not_xlsx"


def test_damaged_xml_inside_the_package_is_corrupt(methodology):
    src = form_bytes(methodology, good_values(methodology))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data[:40]
            zout.writestr(info, data)
    assert _error(buf.getvalue(), methodology).rule == "file.corrupt"


def test_size_limits(methodology, monkeypatch, tmp_path):
    data = form_bytes(methodology, good_values(methodology))
    monkeypatch.setattr(form_package, "MAX_FILE_BYTES", len(data) - 1)
    assert _error(data, methodology).rule == "file.too_large"
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    assert _error(path, methodology, name="big.xlsx").rule == "file.too_large"


def test_zip_bomb_is_refused_before_parsing(methodology, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * 2_000_000)
    data = buf.getvalue()
    assert len(data) < 50_000
    monkeypatch.setattr(form_package, "MAX_UNCOMPRESSED_BYTES", 1_000_000)
    err = _error(data, methodology)
    assert err.rule == "file.too_large"


def test_sheet_dimension_limit(methodology, monkeypatch):
    data = xlsx({"Сведения": [["Код ОО", "0107"]] + [[None]] * 30 + [["x"]], "Кадры": [["P0", "", 1]], "Показатели": [["Код", "Балл"]]})
    monkeypatch.setattr(form_package, "MAX_SHEET_ROWS", 20)
    err = _error(data, methodology)
    assert err.rule == "file.too_large" and err.sheet == "Сведения"


def test_read_form_from_path_never_writes(methodology, tmp_path):
    path = tmp_path / "0107.xlsx"
    path.write_bytes(form_bytes(methodology, good_values(methodology)))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    form = form_reader.read_form(path, methodology)
    assert form.file == "0107.xlsx"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


def test_registry_keeps_leading_zeros_and_accepts_excel_csv():
    text = "code;name;type\n0107;МБОУ СОШ № 7;СОШ\n 0201 ;МКОУ ООШ с. Ивановка;ООШ\n"
    reg = form_registry.read_registry(text.encode("cp1251"))
    assert reg["code"].tolist() == ["0107", "0201"]
    reg = form_registry.read_registry(("\ufeff" + text.replace(";", ",")).encode("utf-8"))
    assert reg["name"].tolist() == ["МБОУ СОШ № 7", "МКОУ ООШ с. Ивановка"]


@pytest.mark.parametrize("text, problem", [
    ("code,name\n0107,a\n", "type"),
    ("code,name,type\n0107,a,СОШ\n0107,b,СОШ\n", "дважды"),
])
def test_registry_errors(text, problem):
    with pytest.raises(FormError) as exc:
        form_registry.read_registry(text.encode())
    assert problem in exc.value.reason


def test_registry_missing_file(tmp_path):
    with pytest.raises(FormError) as exc:
        form_registry.read_registry(tmp_path / "registry.csv")
    assert exc.value.rule == "registry.missing"


# --------------------------------------------------------------------------------------------
# what ingest reads forms with: the same values, and what is remembered between forms
# --------------------------------------------------------------------------------------------


def test_values_as_tuples_are_read_forms_values(methodology):
    m = methodology
    reordered = {form_fields.SHEET_INFO: [None, *reversed([f.key for f in formbuilder.INFO_FIELDS])],
                 form_fields.SHEET_STAFF: list(reversed(formbuilder.STAFF_CODES)),
                 form_fields.SHEET_CHECKLIST: [None, *(p.code for p in m.positions)]}
    for data in (form_bytes(m, good_values(m)), form_bytes(m, good_values(m, staff__P3="9 "), orders=reordered),
                 xlsx({" сведения ": [["Код ОО:", 107]], "КАДРЫ": [["р0", "", "12"]], "Показатели": [["Код", "Балл"], [1.1, "есть"]]})):
        form = form_reader.read_form(data, m, name="f.xlsx")
        assert form_reader.read_form_values(data, m, name="f.xlsx") == [tuple(vars(v).values()) for v in form.values]


def _with_parts(data: bytes, replace: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, replace.get(info.filename, zin.read(info.filename)))
    return buf.getvalue()


def test_sheet_parts_remembered_by_both_parts_bytes(methodology, monkeypatch):
    """Forms filled from one template share xl/workbook.xml and its relationships, so where
    each sheet is is worked out once; a package with the same workbook.xml but other
    relationships (here «Кадры» pointing at a long sheet) is still checked as it is."""
    m = methodology
    ok = xlsx({"Сведения": [["Код ОО", "0107"]], "Кадры": [[c, "", 1] for c in formbuilder.STAFF_CODES],
               "Показатели": [["Код", "Балл"]] + [[p.code, 0] for p in m.positions], "Лишний": [["x"]] * 40})
    with zipfile.ZipFile(io.BytesIO(ok)) as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels")
    assert b"worksheets/sheet2.xml" in rels and b"worksheets/sheet4.xml" in rels
    swapped = _with_parts(ok, {"xl/_rels/workbook.xml.rels": rels.replace(b"sheet2.xml", b"sheetX.xml")
                               .replace(b"sheet4.xml", b"sheet2.xml").replace(b"sheetX.xml", b"sheet4.xml")})
    monkeypatch.setattr(form_package, "MAX_SHEET_ROWS", 30)
    form_package._SHEET_PARTS_SEEN.clear()
    for _ in range(2):
        assert form_reader.read_form(ok, m).get("info.school_code").value == "0107"
        err = _error(swapped, m)
        assert (err.rule, err.sheet) == ("file.too_large", "Кадры") and "допускается" in err.reason  # refused before reading
    assert len(form_package._SHEET_PARTS_SEEN) == 2


# --- the quick check of a sheet's extent (before the reader allocates its grid) --------------

def _letters(n: int) -> str:
    return form_text.cell_address(1, n)[:-1]


@pytest.mark.parametrize("limit", [1, 9, 10, 99, 100, 1234, 20000, 20009])
def test_above_matches_exactly_the_larger_row_numbers(limit):
    import re

    pattern = re.compile(sheets._above(str(limit), "0123456789", "1-9"))
    wrong = [n for n in range(0, 3 * limit + 200) if bool(pattern.fullmatch(str(n))) != (n > limit)]
    assert wrong == []


@pytest.mark.parametrize("limit", [1, 2, 26, 27, 52, 60, 702, 703])
def test_above_matches_exactly_the_larger_columns(limit):
    import re

    pattern = re.compile(sheets._above(_letters(limit), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A-Z"))
    wrong = [n for n in range(1, 18279) if bool(pattern.fullmatch(_letters(n))) != (n > limit)]
    assert wrong == []


def _sheet(*cells: str, end: str = "</worksheet>") -> bytes:
    body = "".join(f'<row r="1">{c}</row>' for c in cells)
    return f'<?xml version="1.0"?><worksheet xmlns="x"><sheetData>{body}</sheetData>{end}'.encode()


def _cell(address: str, attrs: str = "") -> str:
    return f'<c r="{address}"{attrs} t="inlineStr"><is><t>1</t></is></c>'


@pytest.mark.parametrize("xml, small", [
    (_sheet(_cell("A1"), _cell("BH20000")), True),               # the last cell allowed
    (_sheet(_cell("A1"), _cell("$BH$20000")), True),
    (_sheet(_cell("BI1")), False),                               # one column too far
    (_sheet(_cell("bi1")), False),                               # lower case, as a reader takes it
    (_sheet(_cell("A20001")), False),                            # one row too far
    (_sheet(_cell("A020001")), False),                           # leading zero
    (_sheet(_cell("$XFD$1048576")), False),
    (_sheet('<c s="1" r="A1"/>'), False),                        # address not first: slow count
    (_sheet('<c t="s"><v>0</v></c>'), False),                    # no address: slow count
    (_sheet('<x:c r="A1"/>'), False),                            # prefixed cell: slow count
    (_sheet(_cell("A1"), "<!-- <c r='XFD1'/> -->"), False),      # comment (or DTD, CDATA)
    (_sheet(_cell("A1"), end=""), False),                        # cut short
])
def test_quick_sheet_check(xml, small):
    assert sheets.sheet_surely_small(xml, form_package.MAX_SHEET_ROWS, form_package.MAX_SHEET_COLS) is small


def test_quick_sheet_check_follows_the_limits(monkeypatch):
    xml = _sheet(_cell("C30"))
    assert sheets.sheet_surely_small(xml, form_package.MAX_SHEET_ROWS, form_package.MAX_SHEET_COLS)
    monkeypatch.setattr(form_package, "MAX_SHEET_ROWS", 29)
    assert not sheets.sheet_surely_small(xml, form_package.MAX_SHEET_ROWS, form_package.MAX_SHEET_COLS)
    monkeypatch.setattr(form_package, "MAX_SHEET_ROWS", 30)
    monkeypatch.setattr(form_package, "MAX_SHEET_COLS", 2)
    assert not sheets.sheet_surely_small(xml, form_package.MAX_SHEET_ROWS, form_package.MAX_SHEET_COLS)
