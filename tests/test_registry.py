"""The registry of a year: .csv or .xlsx, Latin or Russian headers, extra columns kept, school
codes in one canonical width (repaired with a warning, refused when ambiguous)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from formbuilder import form_bytes, good_values, raw_folder, xlsx

from pipeline.config.params import load_params
from pipeline.core.errors import FormError
from pipeline.form import registry as reg
from pipeline.stages import clean, ingest


RUSSIAN = "Код ОО;Наименование ОО;Тип ОО;E-mail;Руководитель\n0107;МАОУ СОШ № 7;СОШ;s7@edu.ru;Иванова И. И.\n0201;МБОУ ООШ № 1;ООШ;;\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_russian_headers_and_extra_columns(encoding):
    df = reg.read_registry(RUSSIAN.encode(encoding), name="registry.csv")
    assert df["code"].tolist() == ["0107", "0201"]
    assert df["name"].tolist() == ["МАОУ СОШ № 7", "МБОУ ООШ № 1"]
    assert df["email"].tolist() == ["s7@edu.ru", ""] and df["head"].tolist()[0] == "Иванова И. И."


def test_registry_as_xlsx_with_codes_as_numbers():
    data = xlsx({"Реестр": [["Код ОО", "Наименование ОО", "Тип ОО", "Район"], [107, "СОШ № 7", "СОШ"], ["0201", "ООШ № 1", "ООШ"]]})
    df = reg.read_registry(data, name="registry.xlsx", code_width=4)
    assert df["code"].tolist() == ["0107", "0201"] and df["type"].tolist() == ["СОШ", "ООШ"]
    assert reg.repaired_codes(df) == [("107", "0107")]


def test_other_columns_refused_naming_file_and_columns():
    with pytest.raises(FormError) as exc:
        reg.read_registry("Школа;Вид\n0107;СОШ\n".encode(), name="registry.csv")
    text = str(exc.value)
    assert exc.value.rule == "registry.invalid" and "registry.csv" in text and "«Школа»" in text and "Код ОО" in text


def test_codes_repaired_to_the_declared_width_or_refused_when_ambiguous():
    df = reg.read_registry(b"code,name,type\n101,a,\xd0\xa1\xd0\x9e\xd0\xa8\n201,b,x\n", code_width=4)
    assert df["code"].tolist() == ["0101", "0201"] and df["code_given"].tolist() == ["101", "201"]
    with pytest.raises(FormError) as exc:
        reg.read_registry(b"code,name,type\n101,a,x\n0101,b,x\n", code_width=4)
    assert "0101" in str(exc.value) and "101" in str(exc.value)
    # no width declared: the registry itself proves one (a code 0101 beside 201)
    assert reg.read_registry(b"code,name,type\n0101,a,x\n201,b,x\n")["code"].tolist() == ["0101", "0201"]
    assert reg.read_registry(b"code,name,type\n99,a,x\n101,b,x\n")["code"].tolist() == ["101", "99"]


def test_two_registries_refused(tmp_path):
    (tmp_path / "registry.csv").write_text("code,name,type\n", encoding="utf-8")
    (tmp_path / "registry.xlsx").write_bytes(b"PK")
    with pytest.raises(FormError, match="два реестра"):
        reg.find_registry(tmp_path)


def _year(tmp_path, make_params, methodology, registry: str | bytes, name: str = "registry.csv", **over):
    m = methodology
    raw = raw_folder(tmp_path / "raw", {"0107.xlsx": form_bytes(m, good_values(m, "0107"))})
    if name != "registry.csv":
        (raw / "registry.csv").unlink()
    (raw / name).write_bytes(registry if isinstance(registry, bytes) else registry.encode())
    params = load_params(make_params(raw_dir=raw, **over))
    tables = ingest.run(ingest.load_raw(params), m, params)
    out = clean.run(tables["forms.csv"], tables["files.csv"], reg.load_registry(params), m, params)
    return tables, out


def test_xlsx_registry_found_by_ingest_and_clean(tmp_path, make_params, methodology):
    data = xlsx({"Лист1": [["Код ОО", "Наименование ОО", "Тип ОО"], ["0107", "МАОУ СОШ № 7", "СОШ"]]})
    tables, out = _year(tmp_path, make_params, methodology, data, name="registry.xlsx")
    files = tables["files.csv"].set_index("file")
    assert files.loc["registry.xlsx", "status"] == "registry" and files.loc["0107.xlsx", "status"] == "accepted"
    assert out["profile.csv"]["school_code"].tolist() == ["0107"]


def test_registry_that_lost_zeros_is_repaired_with_a_warning(tmp_path, make_params, methodology):
    tables, out = _year(tmp_path, make_params, methodology, "code,name,type\n107,МАОУ СОШ № 7,СОШ\n", code_width=4)
    assert tables["files.csv"].set_index("file").loc["0107.xlsx", "status"] == "accepted"
    issues = out["issues.csv"]
    repaired = issues[issues["rule"] == "registry.code_repaired"]
    assert len(repaired) == 1 and repaired["file"].iloc[0] == "registry.csv" and "107 → 0107" in repaired["message"].iloc[0]
    assert not (issues["rule"] == "info.code_normalized").any()
    assert out["profile.csv"]["submitted"].tolist() == [True]


def test_width_learned_from_the_previous_years_profile(tmp_path, make_params, methodology):
    prev_processed = tmp_path / "prev" / "processed"
    prev_processed.mkdir(parents=True)
    pd.DataFrame({"school_code": ["0107", "0201"]}).to_csv(prev_processed / "profile.csv", index=False)
    prev = make_params(2025, processed_dir=str(prev_processed))
    prev_copy = tmp_path / "prev" / "2025.yaml"
    prev_copy.write_text(Path(prev).read_text(encoding="utf-8"), encoding="utf-8")
    params = load_params(make_params(previous_params=str(prev_copy)))
    assert reg.code_width(params) == 4
    assert reg.learned_code_width(["101", "201"]) is None


def test_earlier_years_codes_brought_to_the_declared_width(tmp_path, make_params):
    """Last year's tables whose codes lost their zeros match this year's codes (follow-up)."""
    from pipeline.stages import followup

    prev_processed = tmp_path / "prev" / "processed"
    prev_processed.mkdir(parents=True)
    pd.DataFrame({"school_code": ["107", "0201"], "recommendation_id": ["R1", "R2"]}).to_csv(
        prev_processed / "recommendations.csv", index=False)
    prev_copy = tmp_path / "prev" / "2025.yaml"
    prev_copy.write_text(Path(make_params(2025, processed_dir=str(prev_processed))).read_text(encoding="utf-8"), encoding="utf-8")
    params = load_params(make_params(previous_params=str(prev_copy), code_width=4))
    previous = followup.load_previous(params)
    assert previous.recommendations["school_code"].tolist() == ["0107", "0201"]
