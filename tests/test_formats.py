"""Every format schools send: .xlsx (Excel or LibreOffice), .xlsm, .ods, .xls read alike; a
file no spreadsheet program can open still rejected with the reason; formula cells flagged."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from formbuilder import form_bytes, good_values, raw_folder

from pipeline.config.params import load_params
from pipeline.core.errors import FormError
from pipeline.form import reader
from pipeline.form.registry import load_registry
from pipeline.stages import clean, ingest

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice")


def ods(content: str, mimetype: bytes = b"application/vnd.oasis.opendocument.spreadsheet") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", mimetype)
        zf.writestr("content.xml", content)
    return buf.getvalue()


def _content(table: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
            f'{table}</office:spreadsheet></office:body></office:document-content>')


def test_ods_with_a_cell_repeated_far_is_refused_before_reading(methodology):
    far = _content('<table:table table:name="Сведения"><table:table-row>'
                   '<table:table-cell table:number-columns-repeated="100000" office:value-type="float" office:value="1">'
                   '<text:p>1</text:p></table:table-cell></table:table-row></table:table>')
    with pytest.raises(FormError) as exc:
        reader.read_form(ods(far), methodology, name="0107.ods")
    assert exc.value.rule == "file.too_large" and "100000 столбцов" in str(exc.value)


def test_ods_with_a_dtd_is_refused(methodology):
    bomb = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            + _content('<table:table table:name="Сведения"/>').split("?>", 1)[1])
    with pytest.raises(FormError) as exc:
        reader.read_form(ods(bomb), methodology, name="0107.ods")
    assert exc.value.rule == "file.corrupt" and ".ods" in str(exc.value)


@pytest.mark.parametrize("data, what", [
    (ods("<x/>", b"application/vnd.oasis.opendocument.text"), "не таблица"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + b"\x00" * 512, "не книга Excel"),
    (b"%PDF-1.4 not a form", "не является электронной таблицей"),
])
def test_what_no_spreadsheet_program_opens_is_still_rejected(methodology, data, what):
    with pytest.raises(FormError) as exc:
        reader.read_form(data, methodology, name="0107.xlsx")
    assert exc.value.rule == "file.not_xlsx" and what in str(exc.value)


def with_cached(data: bytes, cached: dict[str, str]) -> bytes:
    """The workbook with a cached value written for each formula (as Excel saves it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            for formula, value in cached.items():
                part = part.replace(f"<f>{formula}</f><v />".encode(), f"<f>{formula}</f><v>{value}</v>".encode())
            dst.writestr(info, part)
    return out.getvalue()


def test_formula_cells_flagged_with_their_text(tmp_path, make_params, methodology):
    """A formula with a cached value: the value is used, value.formula names the formula; a
    formula without one: value.formula_no_value, not «не заполнено»."""
    m = methodology
    data = with_cached(form_bytes(m, good_values(m, "0107", staff__P0="=30+10", info__pupils="=600+40")), {"30+10": "40"})
    raw = raw_folder(tmp_path / "raw", {"0107.xlsx": data})
    params = load_params(make_params(raw_dir=raw))
    tables = ingest.run(ingest.load_raw(params), m, params)
    forms = tables["forms.csv"].set_index("field")
    assert (forms.loc["staff.P0", "value"], forms.loc["staff.P0", "formula"]) == ("40", "=30+10")
    assert (forms.loc["info.pupils", "value_type"], forms.loc["info.pupils", "formula"]) == ("empty", "=600+40")
    out = clean.run(tables["forms.csv"], tables["files.csv"], load_registry(params), m, params)
    issues = out["issues.csv"].set_index("field")
    assert issues.loc["staff.P0", "rule"] == "value.formula" and "=30+10" in issues.loc["staff.P0", "message"]
    assert issues.loc["info.pupils", "rule"] == "value.formula_no_value" and "=600+40" in issues.loc["info.pupils", "message"]
    assert out["staff.csv"]["P0"].tolist() == [40]


def _convert(src: Path, fmt: str, out: Path) -> Path:
    """src re-saved by LibreOffice headless in format fmt (into out/)."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{out.parent / 'lo-profile'}",
                    "--convert-to", fmt, "--outdir", str(out), str(src)], check=True, capture_output=True, timeout=180)
    return out / f"{src.stem}.{fmt.split(':')[0]}"


FORMATS = ("ods", "xls", "xlsx", "xlsm:Calc MS Excel 2007 VBA XML")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен: пересохранение форм не проверяется")
def test_forms_resaved_in_every_format_read_identically(tmp_path, make_params, methodology):
    """Sample forms of 2026 re-saved by LibreOffice as .ods, .xls, .xlsx and .xlsm: forms.csv
    holds the same field → value, value type and source cell as for the original."""
    originals = ["0103_самооценка_2026.xlsx", "0101 СОШ мониторинг метод. службы.xlsx"]
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(ROOT / "data" / "raw" / "2026" / "registry.csv", raw / "registry.csv")
    for i, name in enumerate(originals):
        src = tmp_path / "src" / f"f{i}.xlsx"
        src.parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / "data" / "raw" / "2026" / name, src)
        (raw / f"orig{i}.xlsx").write_bytes(src.read_bytes())
        for fmt in FORMATS:
            got = _convert(src, fmt, tmp_path / "conv" / fmt.split(":")[0])
            (raw / f"conv{i}.{fmt.split(':')[0]}").write_bytes(got.read_bytes())
    params = load_params(make_params(raw_dir=raw))
    tables = ingest.run(ingest.load_raw(params), methodology, params)
    files = tables["files.csv"].set_index("file")
    forms = tables["forms.csv"]
    key = ["field", "sheet", "cell", "value", "value_type"]
    for i in range(len(originals)):
        want = forms[forms["file"] == f"orig{i}.xlsx"][key].sort_values(key).reset_index(drop=True)
        assert len(want) > 50
        for fmt in FORMATS:
            name = f"conv{i}.{fmt.split(':')[0]}"
            assert files.loc[name, "rule"] in ("", "form.superseded"), (name, files.loc[name, "reason"])
            got = forms[forms["file"] == name][key].sort_values(key).reset_index(drop=True)
            assert got.equals(want), name


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен: формулы в .ods не проверяются")
def test_formula_found_in_a_form_resaved_as_ods(tmp_path, methodology):
    """A formula typed into «Кадры» P0 survives LibreOffice's re-save as .ods and .xlsx: the
    calculated value is read and the formula recorded (table:formula / <f>)."""
    src = tmp_path / "f.xlsx"
    src.write_bytes(form_bytes(methodology, good_values(methodology, "0107", staff__P0="=30+10")))
    for fmt in ("ods", "xlsx"):
        v = reader.read_form(_convert(src, fmt, tmp_path / fmt), methodology).get("staff.P0")
        assert (v.value, v.value_type, v.formula) == ("40", "number", "=30+10"), fmt
