"""The embedded sample: deterministic bytes, the committed data equals a fresh generation,
realistic schools, and every year carries the planned defects."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

import formbuilder


from pipeline.core.errors import PipelineError
from pipeline.config.methodology import load_methodology
from pipeline import sample
from pipeline.form import reader as form_reader
from pipeline.form import registry as form_registry
from pipeline.form import text as form_text

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
YEARS = (2024, 2025, 2026)
KINDS = {"missing", "wrong_year", "corrupt", "duplicate", "score_words", "text_numbers", "reordered", "count_exceeds",
         "no_document", "bad_link", "code_as_number", "name_mismatch", "lock_file", "unknown_code"}


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A fresh generation of every sample year."""
    root = tmp_path_factory.mktemp("fresh")
    written = sample.generate(root, years=list(YEARS))
    assert written and all(p.is_file() for p in written)
    return root


def test_two_runs_give_identical_bytes(fresh, tmp_path):
    sample.generate(tmp_path, years=[2026])
    assert tree(tmp_path / "2026") == tree(fresh / "2026")


def test_committed_sample_equals_fresh_generation(fresh):
    for year in YEARS:
        fresh_files, committed = tree(fresh / str(year)), tree(RAW / str(year))
        assert sorted(fresh_files) == sorted(committed), f"{year}: run `make sample` and commit data/raw"
        for name in fresh_files:
            assert fresh_files[name] == committed[name], f"{year}/{name} differs from a fresh `make sample`"


def test_workbook_dates_are_fixed_by_year(fresh):
    data = (fresh / "2025" / "registry.csv").read_bytes()
    assert data.startswith(b"code,name,type")
    data = next(p for p in sorted((fresh / "2025").glob("0*.xlsx"))).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        core = zf.read("docProps/core.xml").decode()
        assert {i.date_time for i in zf.infolist()} == {(2025, 5, 31, 12, 0, 0)}
    assert core.count("2025-05-31T12:00:00Z") == 2  # created and modified


def test_registry_covers_every_type_and_cluster():
    schools = sample.make_schools(36, sample.DEFAULT_SEED)
    assert len(schools) == 36 and len({s.code for s in schools}) == 36
    assert {s.type for s in schools} == set(formbuilder.SCHOOL_TYPES)
    assert all(re.fullmatch(r"0\d{3}", s.code) for s in schools)
    big_types = ("СОШ", "Гимназия", "Лицей", "ЦО")
    assert any(s.type in big_types and s.pupils > 500 for s in schools)
    assert any(s.type in big_types and s.pupils <= 500 for s in schools)
    assert sum(s.type in ("ООШ", "НОШ") for s in schools) >= 5
    assert any(s.low_results for s in schools) and any(s.innovation for s in schools) and any(s.no_young for s in schools)
    names = [s.name for s in schools]
    assert "МАОУ СОШ № 1" in names or "МБОУ СОШ № 1" in names
    assert any(re.fullmatch(r"МБОУ|МКОУ", n.split()[0]) and " с. " in n for n in names)


def test_registry_csv_is_text_with_leading_zeros():
    text = (RAW / "2026" / "registry.csv").read_text(encoding="utf-8")
    assert text.startswith("code,name,type\n")
    reg = form_registry.read_registry(RAW / "2026" / "registry.csv")
    assert len(reg) == 36 and reg["code"].str.startswith("0").all()


@pytest.mark.parametrize("year", YEARS)
def test_every_defect_kind_in_every_year(year):
    plan = sample.planned_defects(year)
    assert {d["kind"] for d in plan["defects"]} == KINDS
    files = set(plan["file_names"])
    for issue in plan["issues"]:
        assert issue["file"] == "" or issue["file"] in files
        assert issue["severity"] in ("error", "warning")
    rules = {i["rule"] for i in plan["issues"]}
    assert {"form.wrong_year", "form.unknown_school", "file.corrupt", "form.superseded", "form.not_submitted",
            "checklist.score_as_word", "value.number_as_text", "checklist.unconfirmed", "checklist.bad_link",
            "info.code_as_number", "file.lock"} <= rules
    assert rules & {"staff.exceeds_total", "staff.winners_exceed_participants", "staff.mentored_exceed_young"}
    assert plan["values"], "the hand-made (reordered) form lists the values it holds"


def test_defects_move_between_schools_and_vary_by_year():
    plans = {y: sample.planned_defects(y) for y in YEARS}
    by_kind = {y: {d["kind"]: d["school_code"] for d in p["defects"]} for y, p in plans.items()}
    assert by_kind[2024] != by_kind[2025] != by_kind[2026]
    count_rules = {y: {i["rule"] for i in p["issues"] if i["rule"].startswith("staff.")} for y, p in plans.items()}
    assert len({frozenset(r) for r in count_rules.values()}) == 3  # P3>P2, P1>P0, P8>P7 in turn
    links = {y: [i for i in p["issues"] if i["rule"] == "checklist.bad_link"] for y, p in plans.items()}
    assert all(len(v) == 1 for v in links.values())
    # the later form of a duplicated school sorts first by name in even years: the date decides
    dup = next(d for d in plans[2026]["defects"] if d["kind"] == "duplicate")
    assert dup["winner"] < dup["file"]


def test_forms_are_realistic(fresh):
    methodology = load_methodology(sample.DEFAULT_METHODOLOGY)
    plan = sample.planned_defects(2026)
    corrupt = {d["file"] for d in plan["defects"] if d["kind"] in ("corrupt", "lock_file")} | {"department.xlsx", "measures.xlsx"}
    docs, links, dates, p7_zero = [], [], [], 0
    for path in sorted((fresh / "2026").glob("*.xlsx")):
        if path.name in corrupt:
            continue
        form = form_reader.read_form(path, methodology)
        got = {v.field: v for v in form.values}
        docs += [v.value for k, v in got.items() if k.endswith(".document") and v.value]
        links += [v.value for k, v in got.items() if k.endswith(".link") and v.value]
        dates.append(form_text.parse_date(got["info.filled_date"].value, got["info.filled_date"].value_type))
        p7_zero += got["staff.P7"].value == "0"
        assert re.search(r"[А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+вна, ", got["info.responsible"].value)
    assert any(re.fullmatch(r"Приказ № \d+ от \d\d\.\d\d\.20\d\d «Об .+»", d) for d in docs)
    assert sum(link.startswith("https://") and ".example.ru/metod/" in link for link in links) >= len(links) - 1
    spring = [d for d in dates if d and d.year == 2026 and 3 <= d.month <= 5]
    assert len(spring) >= len(dates) - 1  # the one form of last year
    assert p7_zero >= 3


def test_department_workbook_is_realistic(fresh):
    """Each year's department.xlsx: the 23 РМО directions, some below 4 meetings, one bad cell."""
    from pipeline.form.department import read_department_values

    for year in (2024, 2025, 2026):
        values = read_department_values((fresh / str(year) / "department.xlsx").read_bytes())
        meetings = [v[6] for v in values if v[0] == "department.rmo.meetings"]
        assert len(meetings) == 23 and meetings.count("2.5") == 1
        assert any(m in ("2", "3") for m in meetings) and meetings.count("4") >= 8
        assert sum(v[0] == "department.network.form" for v in values) == 20
        assert any(v[0] == "department.visits.school_code" for v in values)


def test_too_few_schools_is_refused(tmp_path):
    with pytest.raises(PipelineError) as exc:
        sample.generate(tmp_path, years=[2026], n_schools=5)
    assert "--schools" in str(exc.value)
    assert not any(tmp_path.iterdir())


def test_generate_leaves_other_files_alone(tmp_path):
    keep = tmp_path / "2026" / "письмо.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("не трогать", encoding="utf-8")
    sample.generate(tmp_path, years=[2026], n_schools=14)
    assert keep.read_text(encoding="utf-8") == "не трогать"
    assert (tmp_path / "2026" / "registry.csv").is_file()
